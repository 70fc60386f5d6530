//! Budgets of a report that sums none per row (the legacy monthly and cost allocation CSVs,
//! DBR), answered from its totals per (account, service, currency) and their parts, where the
//! budget asks only what those hold ([`Spec::from_totals`]): unblended cost, filtered on
//! accounts and services, less credits, refunds, tax, discounts or support. Anything else is
//! refused with the reason, never answered with a zero.

use crate::budget::cost::{ChargeKind, CostType};
use crate::budget::filter::{Dimension, Keyed, Line};
use crate::budget::spec::{Figures, Spec, Spend};
use crate::ledger::{Ledger, Part};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// One total as a filter reads it: its account and service; the other dimensions are empty
/// (a spec that reads them is refused before).
struct TotalLine<'a> {
    account: &'a str,
    service: &'a str,
}

impl Line for TotalLine<'_> {
    fn value(&self, dimension: Dimension) -> &str {
        match dimension {
            Dimension::Account => self.account,
            Dimension::Service => self.service,
            _ => "",
        }
    }

    fn keyed(&self, _: Keyed, _: &str) -> Option<&str> {
        None
    }
}

/// `spec`'s answer from `ledger`, the totals of a report of format `format` (named in the
/// refusal); `service_code` turns the ledger's service field into the code a filter names.
pub fn figures(
    spec: &Spec,
    ledger: &Ledger,
    format: &str,
    service_code: fn(&str) -> String,
) -> Figures {
    let refuse = |why: String| Figures {
        name: spec.name.clone(),
        answer: Err(why),
        notes: Vec::new(),
        gauge: None,
    };
    if !spec.from_totals() {
        return refuse(refusal(spec, format));
    }
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for (&(a, s, c), amounts) in ledger.iter() {
        let account = ledger.accounts.text(a);
        let service = service_code(&ledger.services.text(s));
        let line = TotalLine {
            account: &account,
            service: &service,
        };
        if !spec.filter.matches(&line).unwrap_or(false) {
            continue;
        }
        let support = crate::forecast::is_support(&service);
        if support && spec.measure.exclude.contains(&ChargeKind::Support) {
            continue;
        }
        let mut v = amounts.cost;
        for (kind, part) in [
            (ChargeKind::Credit, Part::Credits),
            (ChargeKind::Refund, Part::Refunds),
            (ChargeKind::Tax, Part::Tax),
            (ChargeKind::Discount, Part::Discounts),
        ] {
            if spec.measure.exclude.contains(&kind) {
                v -= amounts.part(part);
            }
        }
        let sum = sums.entry(ledger.currencies.text(c)).or_default();
        match sum.checked_add(v) {
            Some(t) => *sum = t,
            None => return refuse("the budget's total overflows".into()),
        }
    }
    Figures {
        name: spec.name.clone(),
        answer: Ok(sums
            .into_iter()
            .map(|(currency, total)| Spend {
                currency,
                total,
                once: total,
                days: Vec::new(),
            })
            .collect()),
        notes: Vec::new(),
        gauge: None,
    }
}

/// Why a report of `format` cannot answer `spec`.
fn refusal(spec: &Spec, format: &str) -> String {
    let what = if let Some(unit) = &spec.unit {
        format!("a usage budget (in {unit})")
    } else if spec.measure.cost != CostType::Unblended {
        format!("{} cost", spec.measure.cost)
    } else if !spec.filter.plain_on_accounts_and_services() {
        "a filter on regions, usage types, operations, tags or cost categories".to_string()
    } else {
        "leaving out upfront or recurring commitment fees".to_string()
    };
    format!(
        "a {format} report cannot answer {what}: it has unblended totals per account and service only (a Cost and Usage Report or FOCUS export can)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::cost::Measure;
    use crate::report::tally::same_code as same;

    fn spec(toml_filter: &[(&str, &[&str])], cost: CostType, exclude: &[ChargeKind]) -> Spec {
        let table = toml_filter
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    crate::budget::filter::Values::List(v.iter().map(|s| s.to_string()).collect()),
                )
            })
            .collect::<BTreeMap<_, _>>();
        Spec {
            name: "b".into(),
            filter: table.try_into().unwrap(),
            measure: Measure {
                cost,
                exclude: exclude.iter().copied().collect(),
            },
            unit: None,
        }
    }

    fn ledger() -> Ledger {
        let mut l = Ledger::default();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        l.entry(b"111111111111", b"AmazonEC2", b"USD")
            .add(Part::Charges, d("100.10"))
            .unwrap();
        l.entry(b"111111111111", b"AmazonEC2", b"USD")
            .add(Part::Credits, d("-10.00"))
            .unwrap();
        l.entry(b"111111111111", b"AmazonEC2", b"USD")
            .add(Part::Tax, d("8.01"))
            .unwrap();
        l.entry(b"222222222222", b"AWSSupportBusiness", b"USD")
            .add(Part::Charges, d("100"))
            .unwrap();
        l.entry(b"222222222222", b"AmazonS3", b"EUR")
            .add(Part::Charges, d("5.5"))
            .unwrap();
        l
    }

    fn answer(f: Figures) -> Vec<(String, String)> {
        f.answer
            .unwrap()
            .into_iter()
            .map(|s| (s.currency, s.total.to_string()))
            .collect()
    }

    #[test]
    fn unblended_by_account_and_service_less_what_the_parts_hold() {
        let l = ledger();
        let all = figures(
            &spec(&[], CostType::Unblended, &[]),
            &l,
            "legacy-monthly",
            same,
        );
        assert_eq!(
            answer(all),
            [
                ("EUR".into(), "5.5".into()),
                ("USD".into(), "198.11".into())
            ]
        );
        let ec2 = spec(
            &[("accounts", &["111111111111"])],
            CostType::Unblended,
            &[ChargeKind::Credit, ChargeKind::Tax],
        );
        assert_eq!(
            answer(figures(&ec2, &l, "legacy-monthly", same)),
            [("USD".into(), "100.10".into())]
        );
        let no_support = spec(
            &[("not_services", &["AWSSupport*"])],
            CostType::Unblended,
            &[ChargeKind::Support],
        );
        assert_eq!(
            answer(figures(&no_support, &l, "dbr", same)),
            [("EUR".into(), "5.5".into()), ("USD".into(), "98.11".into())]
        );
    }

    #[test]
    fn what_the_totals_do_not_hold_is_refused_by_name() {
        let l = ledger();
        let amortized = figures(
            &spec(&[], CostType::Amortized, &[]),
            &l,
            "legacy-monthly",
            same,
        );
        let why = amortized.answer.unwrap_err();
        assert!(
            why.contains("legacy-monthly report cannot answer amortized cost"),
            "{why}"
        );
        let region = figures(
            &spec(&[("regions", &["us-east-1"])], CostType::Unblended, &[]),
            &l,
            "dbr",
            same,
        );
        assert!(region.answer.unwrap_err().contains("a filter on regions"));
        let upfront = figures(
            &spec(&[], CostType::Unblended, &[ChargeKind::Upfront]),
            &l,
            "dbr",
            same,
        );
        assert!(upfront.answer.unwrap_err().contains("upfront"));
    }
}
