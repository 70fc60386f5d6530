//! Budgets summed in the engine's pass, on constructed CUR 1.0, CUR 2.0 and FOCUS rows with
//! every RI and Savings Plans line type: against figures worked out by hand, and against the
//! rules applied line by line (`Filter::matches`, `Measure::of_cur`) with no cache, no bit set
//! and no fork, read on one thread and in small chunks on several.

use super::super::{summarize_periods, Limits, LocalSource, Opened, ReportSummary};
use crate::budget::cost::{ChargeKind, CostType, CurLine, Field, Measure};
use crate::budget::filter::{Dimension, Filter, Keyed, Line};
use crate::budget::spec::{Spec, Specs};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::path::Path;

const CUR1: &[&str] = &[
    "bill/BillingPeriodStartDate",
    "bill/PayerAccountId",
    "bill/InvoiceId",
    "lineItem/UsageAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "lineItem/BlendedCost",
    "product/region",
    "pricing/unit",
    "reservation/ReservationARN",
    "reservation/EffectiveCost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
    "savingsPlan/PaymentOption",
    "resourceTags/user:team",
    "costCategory/BusinessUnit",
];

const A: &str = "111111111111";
const B: &str = "222222222222";
const RI: &str = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/r-1";

/// One line: (account, type, day (0: the month), product, usage type, operation, amount, unit,
/// unblended, blended, region, RI ARN, RI effective, RI unused upfront, RI unused recurring,
/// SP effective, SP commitment to date, SP used, team, business unit).
type Row = [&'static str; 20];

const ROWS: &[Row] = &[
    [
        A,
        "Usage",
        "2",
        "AmazonEC2",
        "USE1-BoxUsage:m5.large",
        "RunInstances",
        "5",
        "Hrs",
        "10.00",
        "9.50",
        "us-east-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "data",
        "Analytics",
    ],
    [
        A,
        "DiscountedUsage",
        "2",
        "AmazonEC2",
        "USE1-BoxUsage:m5.large",
        "RunInstances",
        "4",
        "Hrs",
        "0",
        "3.10",
        "us-east-1",
        RI,
        "3.00",
        "",
        "",
        "",
        "",
        "",
        "data",
        "Analytics",
    ],
    [
        A,
        "RIFee",
        "0",
        "AmazonEC2",
        "USE1-HeavyUsage:m5.large",
        "RunInstances",
        "720",
        "Hrs",
        "50.00",
        "50.00",
        "us-east-1",
        RI,
        "",
        "1.50",
        "2.50",
        "",
        "",
        "",
        "",
        "Analytics",
    ],
    [
        A,
        "Fee",
        "0",
        "AmazonEC2",
        "USE1-HeavyUsage:m5.large",
        "",
        "1",
        "",
        "300.00",
        "300.00",
        "us-east-1",
        RI,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        B,
        "SavingsPlanCoveredUsage",
        "3",
        "AWSLambda",
        "USE1-Lambda-GB-Second",
        "Invoke",
        "1000",
        "Lambda-GB-Second",
        "8.00",
        "8.00",
        "us-east-1",
        "",
        "",
        "",
        "",
        "5.00",
        "",
        "",
        "ml",
        "Research",
    ],
    [
        B,
        "SavingsPlanNegation",
        "3",
        "AWSLambda",
        "USE1-Lambda-GB-Second",
        "Invoke",
        "0",
        "",
        "-8.00",
        "-8.00",
        "us-east-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "ml",
        "Research",
    ],
    [
        B,
        "SavingsPlanRecurringFee",
        "0",
        "ComputeSavingsPlans",
        "ComputeSP:1yrNoUpfront",
        "",
        "720",
        "Hrs",
        "20.00",
        "20.00",
        "",
        "",
        "",
        "",
        "",
        "",
        "20.00",
        "15.00",
        "",
        "",
    ],
    [
        B,
        "SavingsPlanUpfrontFee",
        "0",
        "ComputeSavingsPlans",
        "ComputeSP:1yrAllUpfront",
        "",
        "1",
        "",
        "100.00",
        "100.00",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        A,
        "Credit",
        "0",
        "AmazonEC2",
        "",
        "",
        "0",
        "",
        "-4.00",
        "-4.00",
        "us-east-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "data",
        "Analytics",
    ],
    [
        A, "Refund", "0", "AmazonS3", "", "", "0", "", "-1.00", "-1.00", "", "", "", "", "", "",
        "", "", "", "",
    ],
    [
        A,
        "Tax",
        "0",
        "AmazonEC2",
        "",
        "",
        "0",
        "",
        "2.00",
        "2.00",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        A,
        "EdpDiscount",
        "2",
        "AmazonEC2",
        "USE1-BoxUsage:m5.large",
        "RunInstances",
        "0",
        "",
        "-0.50",
        "-0.50",
        "us-east-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "data",
        "Analytics",
    ],
    [
        A,
        "Fee",
        "0",
        "AWSSupportBusiness",
        "Dollar",
        "",
        "1",
        "",
        "29.00",
        "29.00",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        B,
        "Usage",
        "4",
        "AmazonS3",
        "USW2-TimedStorage-ByteHrs",
        "StandardStorage",
        "50",
        "GB-Mo",
        "1.25",
        "1.25",
        "us-west-2",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ],
    [
        A,
        "Usage",
        "5",
        "AmazonS3",
        "USE1-Requests-Tier1",
        "PutObject",
        "4000",
        "Requests",
        "0.40",
        "0.40",
        "us-east-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "data",
        "Analytics",
    ],
    [
        A,
        "Usage",
        "5",
        "AmazonS3",
        "USE1-TimedStorage-ByteHrs",
        "StandardStorage",
        "12.5",
        "GB-Mo",
        "0.30",
        "0.30",
        "us-east-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "data",
        "Analytics",
    ],
];

fn cur1_text(rows: &[Row]) -> String {
    let mut out = CUR1.join(",") + "\n";
    for r in rows {
        let day = r[2];
        let (start, end) = if day == "0" {
            (
                "2026-11-01T00:00:00Z".to_string(),
                "2026-12-01T00:00:00Z".to_string(),
            )
        } else {
            (
                format!("2026-11-{day:0>2}T10:00:00Z"),
                format!("2026-11-{day:0>2}T11:00:00Z"),
            )
        };
        let cells = [
            "2026-11-01T00:00:00Z".to_string(),
            A.to_string(),
            String::new(),
            r[0].into(),
            r[1].into(),
            start,
            end,
            r[3].into(),
            r[4].into(),
            r[5].into(),
            r[6].into(),
            "USD".into(),
            r[8].into(),
            r[9].into(),
            r[10].into(),
            r[7].into(),
            r[11].into(),
            r[12].into(),
            r[13].into(),
            r[14].into(),
            r[15].into(),
            r[16].into(),
            r[17].into(),
            "No Upfront".into(),
            r[18].into(),
            r[19].into(),
        ];
        out += &cells.join(",");
        out += "\n";
    }
    out
}

fn spec(
    name: &str,
    cost: CostType,
    exclude: &[ChargeKind],
    filter: &str,
    unit: Option<&str>,
) -> Spec {
    let table: BTreeMap<String, crate::budget::filter::Values> = toml_like(filter);
    Spec {
        name: name.into(),
        filter: Filter::try_from(table).unwrap(),
        measure: Measure {
            cost,
            exclude: exclude.iter().copied().collect(),
        },
        unit: unit.map(str::to_string),
    }
}

/// `key=v1|v2;tags.team=a|b` → a filter table.
fn toml_like(text: &str) -> BTreeMap<String, crate::budget::filter::Values> {
    use crate::budget::filter::Values;
    let mut out: BTreeMap<String, Values> = BTreeMap::new();
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let (key, values) = part.split_once('=').unwrap();
        let values: Vec<String> = values.split('|').map(str::to_string).collect();
        match key.split_once('.') {
            Some((key, name)) => {
                let entry = out
                    .entry(key.into())
                    .or_insert_with(|| Values::PerName(BTreeMap::new()));
                if let Values::PerName(m) = entry {
                    m.insert(name.into(), values);
                }
            }
            None => {
                out.insert(key.into(), Values::List(values));
            }
        }
    }
    out
}

fn specs() -> Vec<Spec> {
    use ChargeKind::*;
    use CostType::*;
    vec![
        spec("all", Unblended, &[], "", None),
        spec("blended", Blended, &[], "", None),
        spec("amortized", Amortized, &[], "", None),
        spec("net-amortized", NetAmortized, &[], "", None),
        spec(
            "data-amortized",
            Amortized,
            &[Credit],
            "tags.team=data",
            None,
        ),
        spec("untagged", Unblended, &[], "tags.team=", None),
        spec(
            "no-support",
            Unblended,
            &[Support, Tax],
            "not_services=AWSSupport*",
            None,
        ),
        spec(
            "analytics",
            Amortized,
            &[],
            "cost_categories.BusinessUnit=Analytics",
            None,
        ),
        spec(
            "boxes",
            Unblended,
            &[],
            "usage_types=USE1-BoxUsage:*;regions=us-east-1",
            None,
        ),
        spec(
            "commitments",
            Unblended,
            &[Usage, Credit, Refund, Tax, Support, Discount, Other],
            "",
            None,
        ),
        spec(
            "s3-storage",
            Unblended,
            &[],
            "services=AmazonS3",
            Some("GB-Mo"),
        ),
        spec(
            "account-b-net",
            NetUnblended,
            &[Upfront],
            &format!("accounts={B}"),
            None,
        ),
    ]
}

fn run(text: &str, specs: &[Spec], limits: &Limits) -> ReportSummary {
    let name = "cur.csv";
    let parts = LocalSource::new(None, Path::new(name));
    let specs: Specs = specs.to_vec().into();
    let mut all = summarize_periods(
        Opened::Stream(Box::new(Cursor::new(text.as_bytes().to_vec()))),
        name,
        name,
        &parts,
        limits,
        &specs,
    )
    .unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn totals(s: &ReportSummary) -> BTreeMap<String, Result<String, String>> {
    s.budgets
        .iter()
        .map(|f| {
            let v = f.answer.as_ref().map(|spends| {
                spends
                    .iter()
                    .map(|s| format!("{} {}", s.total.normalize(), s.currency))
                    .collect::<Vec<_>>()
                    .join("; ")
            });
            (f.name.clone(), v.map_err(Clone::clone))
        })
        .collect()
}

/// A line as the rules read it, straight from its cells.
struct Plain(HashMap<&'static str, String>);

impl CurLine for Plain {
    fn line_item_type(&self) -> &str {
        &self.0["lineItem/LineItemType"]
    }
    fn product_code(&self) -> &str {
        &self.0["lineItem/ProductCode"]
    }
    fn reservation_arn(&self) -> &str {
        &self.0["reservation/ReservationARN"]
    }
    fn payment_option(&self) -> &str {
        &self.0["savingsPlan/PaymentOption"]
    }
    fn figure(&self, field: Field) -> Option<Decimal> {
        let cell = self.0.get(field.column().0)?;
        Some(cell.parse().unwrap_or_default())
    }
}

impl Line for Plain {
    fn value(&self, d: Dimension) -> &str {
        let col = match d {
            Dimension::Account => "lineItem/UsageAccountId",
            Dimension::Service => "lineItem/ProductCode",
            Dimension::Region => "product/region",
            Dimension::UsageType => "lineItem/UsageType",
            Dimension::Operation => "lineItem/Operation",
        };
        &self.0[col]
    }
    fn keyed(&self, kind: Keyed, name: &str) -> Option<&str> {
        let col = match kind {
            Keyed::Tag => format!("resourceTags/user:{name}"),
            Keyed::CostCategory => format!("costCategory/{name}"),
        };
        self.0.get(col.as_str()).map(String::as_str)
    }
}

/// The rules applied line by line.
fn by_the_rules(text: &str, spec: &Spec) -> String {
    let mut lines = text.lines();
    let header: Vec<&'static str> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| &*Box::leak(h.to_string().into_boxed_str()))
        .collect();
    let mut sum = Decimal::ZERO;
    for line in lines {
        let row = Plain(
            header
                .iter()
                .copied()
                .zip(line.split(',').map(str::to_string))
                .collect(),
        );
        if !spec.filter.matches(&row).unwrap() {
            continue;
        }
        sum += match &spec.unit {
            Some(unit) => {
                let usage = ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"]
                    .contains(&row.line_item_type());
                if usage && row.0["pricing/unit"] == *unit {
                    row.0["lineItem/UsageAmount"].parse().unwrap()
                } else {
                    Decimal::ZERO
                }
            }
            None => spec.measure.of_cur(&row).unwrap(),
        };
    }
    format!(
        "{} {}",
        sum.normalize(),
        spec.unit.as_deref().unwrap_or("USD")
    )
}

#[test]
fn each_cost_type_and_filter_sums_what_the_rules_say() {
    let text = cur1_text(ROWS);
    let got = totals(&run(&text, &specs(), &Limits::default()));
    let want: BTreeMap<&str, &str> = [
        // 10 + 0 + 50 + 300 + 8 - 8 + 20 + 100 - 4 - 1 + 2 - 0.5 + 29 + 1.25 + 0.4 + 0.3
        ("all", "507.45 USD"),
        // blended: 9.5 + 3.1 instead of 10 + 0
        ("blended", "510.05 USD"),
        // 10 + 3 (RI effective) + 4 (RI unused) + 0 (upfront fee) + 5 (SP effective) + 0 (negation)
        // + 5 (unused commitment) + 0 (SP upfront) - 4 - 1 + 2 - 0.5 + 29 + 1.25 + 0.4 + 0.3
        ("amortized", "54.45 USD"),
        // without net columns net equals gross, and discounts are left out (they are in net)
        ("net-amortized", "54.95 USD"),
        // team data: 10 + 3 - 0.5 + 0.4 + 0.3 (the credit left out)
        ("data-amortized", "13.2 USD"),
        // no team: RIFee 50, Fee 300, SP fee 20, SP upfront 100, refund -1, tax 2, support 29, S3 1.25
        ("untagged", "501.25 USD"),
        ("no-support", "476.45 USD"),
        // BusinessUnit Analytics: 10 + 3 + 4 - 4 - 0.5 + 0.4 + 0.3
        ("analytics", "13.2 USD"),
        ("boxes", "9.5 USD"),
        // RIFee 50 + RI upfront 300 + SP recurring 20 + SP upfront 100
        ("commitments", "470 USD"),
        ("s3-storage", "62.5 GB-Mo"),
        // account B, upfront left out: 8 - 8 + 20 + 1.25
        ("account-b-net", "21.25 USD"),
    ]
    .into_iter()
    .collect();
    for (name, want) in &want {
        assert_eq!(got[*name].as_deref(), Ok(*want), "{name}");
    }
    for spec in specs() {
        assert_eq!(
            got[&spec.name].as_deref(),
            Ok(by_the_rules(&text, &spec).as_str()),
            "{}",
            spec.name
        );
    }
}

#[test]
fn chunks_read_on_several_threads_sum_as_one_pass() {
    // Many copies of the month, so that small chunks split it across threads.
    let rows: Vec<Row> = ROWS
        .iter()
        .copied()
        .cycle()
        .take(ROWS.len() * 200)
        .collect();
    let text = cur1_text(&rows);
    let one = run(
        &text,
        &specs(),
        &Limits {
            threads: 1,
            ..Limits::default()
        },
    );
    let many = run(
        &text,
        &specs(),
        &Limits {
            threads: 4,
            chunk_bytes: 4096,
            ..Limits::default()
        },
    );
    assert_eq!(one.budgets, many.budgets);
    assert_eq!(totals(&one)["amortized"].as_deref(), Ok("10890 USD"));
}

#[test]
fn the_daily_series_holds_the_usage_and_once_the_rest() {
    let s = run(&cur1_text(ROWS), &specs(), &Limits::default());
    let all = s
        .budgets
        .iter()
        .find(|f| f.name == "data-amortized")
        .unwrap();
    let spend = &all.answer.as_ref().unwrap()[0];
    assert_eq!(spend.days.len(), 30);
    // day 2: 10 + 3 - 0.5; day 5: 0.4 + 0.3
    assert_eq!(spend.days[1], Decimal::new(125, 1));
    assert_eq!(spend.days[4], Decimal::new(7, 1));
    assert_eq!(spend.once, Decimal::ZERO);
    assert_eq!(spend.days.iter().sum::<Decimal>() + spend.once, spend.total);
}

#[test]
fn a_usage_budget_names_the_units_it_left_out() {
    let s = run(&cur1_text(ROWS), &specs(), &Limits::default());
    let f = s.budgets.iter().find(|f| f.name == "s3-storage").unwrap();
    assert_eq!(f.notes.len(), 1, "{:?}", f.notes);
    assert!(
        f.notes[0].starts_with("1 usage line(s) in other units (Requests)"),
        "{}",
        f.notes[0]
    );
}

#[test]
fn what_the_report_lacks_is_said_on_the_budget_never_a_zero() {
    use CostType::*;
    let without = |drop: &[&str]| -> String {
        let text = cur1_text(ROWS);
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let keep: Vec<usize> = (0..header.len())
            .filter(|i| !drop.contains(&header[*i]))
            .collect();
        let pick = |l: &str| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        };
        std::iter::once(pick(text.lines().next().unwrap()))
            .chain(lines.map(pick))
            .map(|l| l + "\n")
            .collect()
    };
    let asks = vec![
        spec("team", Unblended, &[], "tags.owner=x", None),
        spec("bu", Unblended, &[], "cost_categories.CostCenter=x", None),
        spec("amortized", Amortized, &[], "", None),
        spec("blended", Blended, &[], "", None),
        spec("storage", Unblended, &[], "", Some("GB-Mo")),
        spec("plain", Unblended, &[], "", None),
    ];
    let s = run(
        &without(&[
            "reservation/EffectiveCost",
            "lineItem/BlendedCost",
            "pricing/unit",
        ]),
        &asks,
        &Limits::default(),
    );
    let got = totals(&s);
    let why = |n: &str| got[n].clone().unwrap_err();
    assert!(
        why("team").contains("no column for tag \"owner\" (is it activated"),
        "{}",
        why("team")
    );
    assert!(why("bu").contains("no column for cost category \"CostCenter\""));
    assert!(
        why("amortized").contains("reservation/EffectiveCost"),
        "{}",
        why("amortized")
    );
    assert!(
        why("blended").contains("lineItem/BlendedCost"),
        "{}",
        why("blended")
    );
    assert!(
        why("storage").contains("pricing/unit"),
        "{}",
        why("storage")
    );
    assert_eq!(got["plain"].as_deref(), Ok("507.45 USD"));
}

#[test]
fn cur2_reads_tags_and_cost_categories_from_their_maps() {
    let header = "bill_billing_period_start_date,bill_payer_account_id,bill_invoice_id,line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,line_item_usage_type,line_item_operation,line_item_currency_code,line_item_unblended_cost,product_region_code,reservation_reservation_a_r_n,reservation_effective_cost,resource_tags,cost_category";
    let row = |kind: &str, cost: &str, eff: &str, tags: &str, cc: &str| {
        format!(
            "2026-11-01T00:00:00Z,{A},,{A},{kind},2026-11-02T00:00:00Z,2026-11-02T01:00:00Z,AmazonEC2,USE1-BoxUsage,RunInstances,USD,{cost},us-east-1,{},{eff},\"{}\",\"{}\"\n",
            if kind == "DiscountedUsage" { RI } else { "" },
            tags.replace('"', "\"\""),
            cc.replace('"', "\"\""),
        )
    };
    let text = format!(
        "{header}\n{}{}{}{}",
        row(
            "Usage",
            "1.10",
            "",
            r#"{"user_team":"data"}"#,
            r#"{"BusinessUnit":"Analytics"}"#
        ),
        row(
            "DiscountedUsage",
            "0",
            "0.70",
            r#"{"user_team":"data","user_env":"prod"}"#,
            "{}"
        ),
        row("Usage", "2.00", "", "{}", r#"{"BusinessUnit":"Research"}"#),
        row("Usage", "4.00", "", "", ""),
    );
    let asks = vec![
        spec("data", CostType::Amortized, &[], "tags.team=data", None),
        spec("untagged", CostType::Unblended, &[], "tags.team=", None),
        spec(
            "analytics",
            CostType::Unblended,
            &[],
            "cost_categories.BusinessUnit=Analytics",
            None,
        ),
        spec(
            "not-prod",
            CostType::Amortized,
            &[],
            "not_tags.env=prod",
            None,
        ),
    ];
    let got = totals(&run(&text, &asks, &Limits::default()));
    assert_eq!(got["data"].as_deref(), Ok("1.8 USD"));
    assert_eq!(got["untagged"].as_deref(), Ok("6 USD"));
    assert_eq!(got["analytics"].as_deref(), Ok("1.1 USD"));
    assert_eq!(got["not-prod"].as_deref(), Ok("7.1 USD"));
}

#[test]
fn focus_answers_billed_and_effective_cost_and_refuses_blended() {
    let header = "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargeClass,ChargeFrequency,ChargePeriodStart,ChargePeriodEnd,InvoiceId,ServiceName,SubAccountId,x_ServiceCode,RegionId,ConsumedQuantity,ConsumedUnit,Tags";
    let row = |billed: &str,
               eff: &str,
               cat: &str,
               freq: &str,
               service: &str,
               code: &str,
               qty: &str,
               unit: &str,
               tags: &str| {
        format!(
            "{billed},{eff},{A},USD,2026-11-01T00:00:00Z,{cat},,{freq},2026-11-03T00:00:00Z,2026-11-04T00:00:00Z,,{service},{B},{code},us-east-1,{qty},{unit},\"{}\"\n",
            tags.replace('"', "\"\"")
        )
    };
    let text = format!(
        "{header}\n{}{}{}{}{}",
        row(
            "3.00",
            "2.00",
            "Usage",
            "Usage-Based",
            "Amazon Elastic Compute Cloud",
            "AmazonEC2",
            "10",
            "Hrs",
            r#"{"user:team":"data"}"#
        ),
        row(
            "100.00",
            "0",
            "Purchase",
            "One-Time",
            "Amazon Elastic Compute Cloud",
            "AmazonEC2",
            "",
            "",
            "{}"
        ),
        row(
            "-5.00",
            "-5.00",
            "Credit",
            "One-Time",
            "Amazon Elastic Compute Cloud",
            "AmazonEC2",
            "",
            "",
            "{}"
        ),
        row(
            "0.50",
            "0.50",
            "Usage",
            "Usage-Based",
            "Amazon Simple Storage Service",
            "AmazonS3",
            "20",
            "GB-Mo",
            r#"{"team":"data"}"#
        ),
        row(
            "1.00",
            "1.00",
            "Tax",
            "One-Time",
            "Amazon Simple Storage Service",
            "AmazonS3",
            "",
            "",
            "{}"
        ),
    );
    let asks = vec![
        spec("billed", CostType::Unblended, &[], "", None),
        spec(
            "effective",
            CostType::Amortized,
            &[ChargeKind::Credit, ChargeKind::Tax],
            "",
            None,
        ),
        spec("blended", CostType::Blended, &[], "", None),
        spec("data", CostType::Amortized, &[], "tags.team=data", None),
        spec(
            "gb",
            CostType::Unblended,
            &[],
            "services=AmazonS3",
            Some("GB-Mo"),
        ),
        spec(
            "no-upfront",
            CostType::Unblended,
            &[ChargeKind::Upfront],
            "regions=us-east-1",
            None,
        ),
    ];
    let name = "focus.csv";
    let parts = LocalSource::new(None, Path::new(name));
    let specs: Specs = asks.into();
    let all = summarize_periods(
        Opened::Stream(Box::new(Cursor::new(text.into_bytes()))),
        name,
        name,
        &parts,
        &Limits::default(),
        &specs,
    )
    .unwrap();
    let got = totals(&all[0]);
    assert_eq!(got["billed"].as_deref(), Ok("99.5 USD"));
    assert_eq!(got["effective"].as_deref(), Ok("2.5 USD"));
    assert!(got["blended"]
        .clone()
        .unwrap_err()
        .contains("FOCUS has no such column"));
    assert_eq!(got["data"].as_deref(), Ok("2.5 USD"));
    assert_eq!(got["gb"].as_deref(), Ok("20 GB-Mo"));
    assert_eq!(got["no-upfront"].as_deref(), Ok("-0.5 USD"));
}

#[test]
fn without_budgets_the_pass_answers_none() {
    let s = run(&cur1_text(ROWS), &[], &Limits::default());
    assert!(s.budgets.is_empty());
}
