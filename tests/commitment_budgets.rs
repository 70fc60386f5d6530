//! Commitment budgets (issue 21) through the ingest handler against the local AWS stack: CUR 1.0
//! manifests generated with Savings Plans and Reserved Instance lines, delivered as S3 events.
//! A utilization budget alerts once when it falls under its line and not again that month; an
//! expiry budget warns once per commitment and lead time across many deliveries; the gauge is
//! stored with the delivery's version and equals an independent SQL computation (DuckDB).

use billwatch_core::budget::{Budget, Model, Scope, Threshold};
use billwatch_core::commitment::Watch;
use billwatch_tests::generated::{attr, cur_delivery, deliver, payload, python, tempdir};
use billwatch_tests::Stack;
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn watching(name: &str, kind: &str, lines: &[Decimal], days: Option<Vec<u32>>) -> Budget {
    Budget {
        name: name.into(),
        scope: Scope::All,
        amount: Decimal::ONE_HUNDRED,
        currency: "USD".into(),
        thresholds: lines.iter().map(|l| Threshold::percent(*l)).collect(),
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: Vec::new(),
        digest_every: Default::default(),
        model: Model {
            watch: Watch::of_kind(kind, days),
            ..Model::default()
        },
    }
}

/// Savings Plans utilization of a CUR file in SQL: Σ used ÷ Σ committed over the Savings Plans'
/// recurring fee lines, as a percentage (the differential script's `commitments`).
fn sql_sp_utilization(csv: &Path) -> Decimal {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("differential/budgets_sql.py");
    let out = Command::new(python())
        .arg(&script)
        .arg("commitments")
        .arg(csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (mut used, mut committed) = (Decimal::ZERO, Decimal::ZERO);
    for (arn, f) in v["commitments"].as_object().unwrap() {
        if arn.starts_with("arn:aws:savingsplans") {
            committed += d(f[0].as_str().unwrap());
            used += d(f[1].as_str().unwrap());
        }
    }
    used * Decimal::ONE_HUNDRED / committed
}

#[tokio::test(flavor = "multi_thread")]
async fn a_utilization_budget_alerts_once_under_its_line_and_not_again_that_month() {
    let stack = Stack::new().await;
    let dir = tempdir("commitments-util");
    let nov = cur_delivery(&dir, "2026-11", 2);
    let nov_again = cur_delivery(&dir.join("again"), "2026-11", 5);
    let expected = sql_sp_utilization(&nov.4);
    // A line just above the month's utilization (so the month is under it), and one far below
    // every figure of the report (never crossed).
    let line = (expected + d("1")).round_dp(0);
    let budget = watching("sp-use", "savings_plans_utilization", &[line, d("1")], None);
    stack.setup.budgets.put(&budget).await.unwrap();
    // A coverage budget on a service with no eligible usage: said once, never 0 %.
    let mut nothing = watching("s3-cover", "savings_plans_coverage", &[d("50")], None);
    nothing.model.filter =
        serde_json::from_value(serde_json::json!({"services": ["AmazonS3"]})).unwrap();
    stack.setup.budgets.put(&nothing).await.unwrap();

    let event = deliver(&stack, &nov).await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(result[0].outcome.as_str(), "stored", "{result:?}");
    let first = stack.received_alerts().await;
    let gauges: Vec<&Value> = first
        .iter()
        .filter(|m| attr(m, "kind") == "commitment")
        .collect();
    assert_eq!(gauges.len(), 1, "{first:#?}");
    let m = gauges[0];
    let p = payload(m);
    assert_eq!(attr(m, "check"), "savings_plans_utilization");
    assert_eq!(attr(m, "threshold"), line.normalize().to_string());
    assert_eq!(p["budget"], "sp-use");
    assert_eq!(
        d(p["percent"].as_str().unwrap()),
        expected,
        "the SQL figure, every digit"
    );
    assert_eq!(p["month_below"], true);
    let unused = d(p["unused"].as_str().unwrap());
    assert!(unused > Decimal::ZERO);
    let text = m["Message"].as_str().unwrap();
    let subject = m["Subject"].as_str().unwrap();
    assert!(
        subject.starts_with("billwatch: sp-use: Savings Plans utilization"),
        "{subject}"
    );
    assert!(p.to_string().contains("of commitment unused") || text.contains("unused"));
    let notices: Vec<&Value> = first
        .iter()
        .filter(|m| attr(m, "check") == "budget-unanswerable")
        .collect();
    assert_eq!(notices.len(), 1, "{first:#?}");
    let reason = payload(notices[0])["details"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("no usage a Savings Plan could cover within this budget's filter"),
        "{reason}"
    );

    // The gauge is stored with November's live version.
    let live = stack
        .setup
        .reports
        .pointer("2026-11".parse().unwrap(), "111111111111")
        .await
        .unwrap()
        .expect("November is live");
    let figures = stack
        .setup
        .totals
        .budget_figures(&live.payer, live.period, &live.version)
        .await
        .unwrap();
    let stored = figures.iter().find(|f| f.name == "sp-use").unwrap();
    assert_eq!(stored.gauge.as_ref().unwrap().percent(), Some(expected));

    // The same object again, and a later November delivery (new figures, still under the
    // line): nothing more this month.
    let event = deliver(&stack, &nov).await;
    stack.ingest.handle(&event).await.unwrap();
    let event = deliver(&stack, &nov_again).await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(result[0].outcome.as_str(), "stored", "{result:?}");
    assert!(sql_sp_utilization(&nov_again.4) < line);
    let nov_again_percent = sql_sp_utilization(&nov_again.4);
    let later = stack.received_alerts().await;
    assert!(
        later
            .iter()
            .all(|m| attr(m, "kind") != "commitment" && attr(m, "check") != "budget-unanswerable"),
        "{later:#?}"
    );

    // Its daily digest: the live month's gauge (the later delivery's), in money.
    let mut with_digest = budget.clone();
    with_digest.digest = true;
    stack.setup.budgets.put(&with_digest).await.unwrap();
    assert_eq!(stack.run_digest("2026-11-30T08:00:00Z").await, (1, 1));
    let digests: Vec<Value> = stack
        .received_alerts_now()
        .await
        .into_iter()
        .filter(|m| attr(m, "kind") == "digest")
        .collect();
    assert_eq!(digests.len(), 1);
    let p = payload(&digests[0]);
    assert_eq!(
        d(p["utilization"].as_str().unwrap()),
        nov_again_percent,
        "{p}"
    );
    assert!(
        digests[0]["Message"].as_str().is_some(),
        "{:#?}",
        digests[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expiry_budget_warns_once_per_commitment_and_lead_time_across_deliveries() {
    let stack = Stack::new().await;
    let dir = tempdir("commitments-expiry");
    // The generator's reservations end on the 15th of 2027's months, its Savings Plans in 2028.
    let budget = watching("ends", "commitment_expiry", &[], Some(vec![60, 30]));
    stack.setup.budgets.put(&budget).await.unwrap();
    let mut sent: Vec<(String, String)> = Vec::new();
    let mut expected: BTreeSet<(String, String)> = BTreeSet::new();
    let deliveries = [
        ("2026-10", 1),
        ("2026-11", 2),
        ("2026-11", 3),
        ("2026-12", 4),
        ("2026-12", 4),
    ];
    for (i, (month, seed)) in deliveries.iter().enumerate() {
        let delivery = cur_delivery(&dir.join(i.to_string()), month, *seed);
        expected.extend(tightest_leads(&delivery.4, &[60, 30]));
        let event = deliver(&stack, &delivery).await;
        stack.ingest.handle(&event).await.unwrap();
        for m in stack.received_alerts().await {
            assert_ne!(attr(&m, "check"), "budget-unanswerable", "{m:#?}");
            if attr(&m, "check") == "commitment_expiry" {
                let p = payload(&m);
                sent.push((
                    p["commitment"].as_str().unwrap().to_string(),
                    p["lead_days"].to_string(),
                ));
            }
        }
    }
    let unique: BTreeSet<_> = sent.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        sent.len(),
        "each commitment and lead time once: {sent:#?}"
    );
    assert_eq!(unique, expected);
    // As of 2026-10-31 nothing ends within 60 days; as of 2026-11-30 the reservations ending
    // 2027-01-15 are 46 days away (60); as of 2026-12-31 they are 15 days away (30) and those
    // ending 2027-02-15, 46 (60).
    let leads: BTreeSet<(&str, &str)> = sent
        .iter()
        .map(|(id, l)| (id.rsplit('/').next().unwrap(), l.as_str()))
        .collect();
    assert_eq!(
        leads,
        [("r-1", "60"), ("r-1", "30"), ("r-2", "60")]
            .into_iter()
            .collect(),
        "{sent:#?}"
    );
}

/// Worked out from the report's own cells, apart from the engine: each reservation or Savings
/// Plan with a fee line, its end date, and the tightest of `leads` it is within on the day the
/// report's data reaches (the latest usage end).
fn tightest_leads(csv: &Path, leads: &[i64]) -> BTreeSet<(String, String)> {
    use chrono::NaiveDate;
    let text = std::fs::read_to_string(csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (t, ri, ri_end, sp, sp_end, end) = (
        col("lineItem/LineItemType"),
        col("reservation/ReservationARN"),
        col("reservation/EndTime"),
        col("savingsPlan/SavingsPlanARN"),
        col("savingsPlan/EndTime"),
        col("lineItem/UsageEndDate"),
    );
    let date = |s: &str| NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let today = rows
        .iter()
        .filter(|r| !r[end].is_empty())
        .map(|r| date(r[end]))
        .max()
        .unwrap();
    let mut out = BTreeSet::new();
    for r in &rows {
        let (id, ends) = match r[t] {
            "RIFee" => (r[ri], r[ri_end]),
            "SavingsPlanRecurringFee" => (r[sp], r[sp_end]),
            _ => continue,
        };
        let left = (date(ends) - today).num_days();
        if let Some(lead) = leads.iter().filter(|l| left >= 0 && left <= **l).min() {
            out.insert((id.to_string(), lead.to_string()));
        }
    }
    out
}
