//! What `doctor --live` writes, and what it then expects to read back: a tiny legacy monthly
//! report (estimated) and a budget that it crosses, chosen so that nothing real can meet them.
//!
//! * Period 2000-01: AWS billed no one then, so no real delivery shares the period's pointer,
//!   ingest records or alert claims, and the health check (this month and the last) never counts
//!   the test as a delivery.
//! * Payer and account 000000000000, in the currency XTS (ISO 4217's code "reserved for testing"):
//!   a real budget sums only its own currency, so none of them sees a cent of it.
//! * The key lies under `<ReportPrefix>billwatch-doctor/<run>/`: inside what the function reads
//!   and the notifications or rule send, apart from every real report key.
//! * Estimated, never final: a final report would owe every budget a month-close summary.
//!
//! The budget `billwatch-doctor` (account 000000000000, 1 XTS a month, 50 %) is crossed by the
//! report's 0.60 XTS: one `warning` alert on the alert topic, whose subject names the budget.

use billwatch_core::budget::{Basis, Budget, Level, Scope, Threshold};
use billwatch_core::period::Period;
use rust_decimal::Decimal;

pub const PAYER: &str = "000000000000";
pub const CURRENCY: &str = "XTS";
pub const BUDGET: &str = "billwatch-doctor";
pub const SERVICE: &str = "AmazonS3";
/// The folder of every object the doctor writes, under the stack's ReportPrefix.
pub const FOLDER: &str = "billwatch-doctor/";

pub fn period() -> Period {
    "2000-01".parse().expect("a valid period")
}

/// The one total the report sums to.
pub fn cost() -> Decimal {
    Decimal::new(60, 2)
}

/// `<prefix>billwatch-doctor/`: every doctor object lives under it (and only doctor objects).
pub fn folder(report_prefix: &str) -> String {
    format!("{report_prefix}{FOLDER}")
}

/// The key of this run's report; its name is what AWS gives a legacy monthly report.
pub fn key(report_prefix: &str, run: &str) -> String {
    format!(
        "{}{run}/{PAYER}-aws-billing-csv-{}.csv",
        folder(report_prefix),
        period()
    )
}

/// The report: one line item, the invoice and statement totals that reconcile with it, and the
/// estimated-bill disclaimer.
pub fn report() -> String {
    let header = "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,BillingPeriodStartDate,BillingPeriodEndDate,InvoiceDate,PayerAccountName,LinkedAccountName,TaxationAddress,PayerPONumber,ProductCode,ProductName,SellerOfRecord,UsageType,Operation,RateId,ItemDescription,UsageStartDate,UsageEndDate,UsageQuantity,BlendedRate,CurrencyCode,CostBeforeTax,Credits,TaxAmount,TaxType,TotalCost";
    let start = "2000/01/01 00:00:00";
    let end = "2000/01/31 23:59:59";
    [
        header.to_string(),
        format!("\"Estimated\",\"{PAYER}\",\"\",\"PayerLineItem\",\"1\",\"{start}\",\"{end}\",\"2000/01/15 00:00:00\",\"billwatch doctor\",,,,\"{SERVICE}\",\"Amazon Simple Storage Service\",\"billwatch doctor\",\"TimedStorage-ByteHrs\",\"\",\"1\",\"billwatch doctor: a synthetic line, removed after the check\",\"{start}\",\"{end}\",\"1.00000000\",,\"{CURRENCY}\",\"0.60\",\"0.00\",\"0.00\",\"None\",\"0.60\""),
        format!("\"Estimated\",\"{PAYER}\",,\"InvoiceTotal\",\"InvoiceTotal:Estimated\",\"{start}\",\"{end}\",,\"billwatch doctor\",,,,,,,,,,\"Total amount for invoice Estimated\",,,,,\"{CURRENCY}\",\"0.60\",\"0.00\",\"0.00\",,\"0.60\""),
        format!(",\"{PAYER}\",,\"StatementTotal\",\"StatementTotal\",\"{start}\",\"{end}\",,\"billwatch doctor\",,,,,,,,,,\"Total statement amount for period {start} - {end}\",,,,,\"{CURRENCY}\",\"0.60\",\"0.00\",\"0.00\",,\"0.60\""),
        ",,,\"EstimatedDisclaimer\",,,,,,,,,,,,,,,\"This report reflects your estimated monthly bill for activity through approximately 2000/01/14 23:00:00\",,,,,,,,,,".to_string(),
    ]
    .join("\n")
        + "\n"
}

/// The budget the report crosses (50 % of 1 XTS, on the actual spend of the test account).
pub fn budget() -> Budget {
    Budget {
        name: BUDGET.into(),
        scope: Scope::Account(PAYER.into()),
        amount: Decimal::ONE,
        currency: CURRENCY.into(),
        thresholds: vec![Threshold {
            level: Level::Percent(Decimal::new(50, 0)),
            basis: Basis::Actual,
        }],
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: Vec::new(),
        digest_every: Default::default(),
        model: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use billwatch_core::budget::{evaluate, spent};
    use billwatch_core::report::{summarize_path, Limits, Status};

    #[test]
    fn the_report_sums_to_one_total_that_crosses_the_budget_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join(format!("{PAYER}-aws-billing-csv-2000-01.csv"));
        std::fs::write(&path, report()).unwrap();
        let s = summarize_path(&path, None, &Limits::default()).unwrap();
        assert_eq!(s.billing_period, Some(period()));
        assert_eq!(s.payer_account_id.as_deref(), Some(PAYER));
        assert_eq!(
            s.status,
            Status::Estimated,
            "never final: no month-close summaries"
        );
        assert_eq!(s.totals.len(), 1);
        let t = &s.totals[0];
        assert_eq!(
            (
                t.account_id.as_str(),
                t.service.as_str(),
                t.currency.as_str()
            ),
            (PAYER, SERVICE, CURRENCY)
        );
        assert_eq!(t.cost, cost());
        assert!(
            !s.checks.is_empty() && s.checks.iter().all(|c| c.ok),
            "{:?}",
            s.checks
        );

        let b = budget();
        assert_eq!(b.validate(), Ok(()));
        let crossed = evaluate(&b, period(), spent(&b, &s), None);
        assert_eq!(crossed.len(), 1);
        assert_eq!(crossed[0].alert_id(), "billwatch-doctor:2000-01:actual:50");

        // A real budget (any scope, any real currency) sees nothing of it.
        let mut real = b.clone();
        real.scope = Scope::All;
        real.currency = "USD".into();
        real.amount = Decimal::new(1, 2);
        assert_eq!(spent(&real, &s), Decimal::ZERO);
    }

    #[test]
    fn keys_live_under_the_prefix_and_the_doctor_folder() {
        assert_eq!(
            key("cur/", "r1"),
            "cur/billwatch-doctor/r1/000000000000-aws-billing-csv-2000-01.csv"
        );
        assert!(key("", "r1").starts_with(&folder("")));
        assert!(billwatch_aws::event::report_key(&key("cur/", "r1")).is_ok());
    }
}
