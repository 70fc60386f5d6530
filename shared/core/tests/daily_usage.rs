//! The engine's daily usage series (`Total::daily_usage`): which rows go on which day, which stay
//! off the series, which formats have none, and that the JSON contract does not show it.

use billwatch_core::forecast::{forecast, Method};
use billwatch_core::report::{
    summarize, Limits, LocalSource, Opened, ReportSummary, Status, Total,
};
use rust_decimal::Decimal;
use std::io::Cursor;
use std::path::Path;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn run(text: &str, name: &str) -> ReportSummary {
    let parts = LocalSource::new(None, Path::new(name));
    summarize(
        Opened::Stream(Box::new(Cursor::new(text.as_bytes().to_vec()))),
        name,
        name,
        &parts,
        &Limits::default(),
    )
    .expect("a well-formed report summarizes")
}

fn total<'a>(s: &'a ReportSummary, service: &str) -> &'a Total {
    s.totals
        .iter()
        .find(|t| t.service == service)
        .unwrap_or_else(|| panic!("no total for {service}"))
}

/// A series of `len` days with the given (day, amount) entries.
fn days(len: usize, entries: &[(usize, &str)]) -> Vec<Decimal> {
    let mut s = vec![Decimal::ZERO; len];
    for &(day, amount) in entries {
        s[day - 1] = d(amount);
    }
    s
}

const CUR1_HEADER: &str = "identity/LineItemId,bill/InvoiceId,bill/PayerAccountId,\
bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/ProductCode,\
lineItem/CurrencyCode,lineItem/UnblendedCost,lineItem/UsageStartDate,lineItem/UsageEndDate,\
product/ProductName";

#[test]
fn a_cur_report_books_usage_side_rows_on_their_day() {
    let rows = [
        // hourly usage on day 1, the last hour ending at the next midnight
        "a,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Usage,AmazonEC2,USD,1.5,2026-11-01T00:00:00.000Z,2026-11-01T01:00:00.000Z,Amazon Elastic Compute Cloud",
        "b,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Usage,AmazonEC2,USD,0.5,2026-11-01T23:00:00.000Z,2026-11-02T00:00:00.000Z,",
        // Savings Plans: covered usage and its negation, both on day 2
        "c,,111111111111,2026-11-01T00:00:00.000Z,222222222222,SavingsPlanCoveredUsage,AmazonEC2,USD,1,2026-11-02T05:00:00.000Z,2026-11-02T06:00:00.000Z,",
        "d,,111111111111,2026-11-01T00:00:00.000Z,222222222222,SavingsPlanNegation,AmazonEC2,USD,-1,2026-11-02T05:00:00.000Z,2026-11-02T06:00:00.000Z,",
        // a daily row and its discount on day 3
        "e,,111111111111,2026-11-01T00:00:00.000Z,222222222222,DiscountedUsage,AmazonEC2,USD,4.25,2026-11-03T00:00:00.000Z,2026-11-04T00:00:00.000Z,",
        "f,,111111111111,2026-11-01T00:00:00.000Z,222222222222,EdpDiscount,AmazonEC2,USD,-0.25,2026-11-03T00:00:00.000Z,2026-11-04T00:00:00.000Z,",
        // counted once: in the totals, never in the series
        "g,,111111111111,2026-11-01T00:00:00.000Z,222222222222,RIFee,AmazonEC2,USD,720,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,",
        "h,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Tax,AmazonEC2,USD,5,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,",
        "i,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Credit,AmazonEC2,USD,-2,2026-11-05T00:00:00.000Z,2026-11-06T00:00:00.000Z,",
        "j,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Fee,AWSSupportBusiness,USD,100,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,AWS Support (Business)",
        // usage on no single day of the month: a month-long line, a row dated in October
        "k,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Usage,AmazonRoute53,USD,0.50,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,Amazon Route 53",
        "l,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Usage,AmazonS3,USD,0.1,2026-10-31T23:00:00.000Z,2026-11-01T00:00:00.000Z,Amazon Simple Storage Service",
        // the last day of the month, in another account
        "m,,111111111111,2026-11-01T00:00:00.000Z,333333333333,Usage,AmazonS3,USD,0.2,2026-11-30T23:00:00.000Z,2026-12-01T00:00:00.000Z,",
        "n,,111111111111,2026-11-01T00:00:00.000Z,222222222222,Usage,AmazonS3,USD,0.3,2026-11-30T10:00:00.000Z,2026-11-30T11:00:00.000Z,",
    ];
    let text = format!("{CUR1_HEADER}\n{}\n", rows.join("\n"));
    let s = run(&text, "report-00001.csv");
    assert_eq!(
        s.billing_period.map(|p| p.to_string()).as_deref(),
        Some("2026-11")
    );
    assert_eq!(s.rows_summed, 14);

    let ec2 = total(&s, "AmazonEC2");
    assert_eq!(ec2.cost, d("729.00"));
    assert_eq!(
        ec2.daily_usage,
        Some(days(30, &[(1, "2.0"), (2, "0"), (3, "4.00")]))
    );
    let series: Decimal = ec2.daily_usage.as_ref().unwrap().iter().sum();
    assert_eq!(series, d("6.00"));

    // totals without usage rows still get a (zero) series: the report has daily usage
    assert_eq!(
        total(&s, "AWSSupportBusiness").daily_usage,
        Some(days(30, &[]))
    );
    assert_eq!(total(&s, "AmazonRoute53").daily_usage, Some(days(30, &[])));
    assert_eq!(total(&s, "AmazonRoute53").cost, d("0.50"));

    // one total per account: account 2's S3 has day 30 only (October's row is on no day)
    let s3: Vec<_> = s
        .totals
        .iter()
        .filter(|t| t.service == "AmazonS3")
        .collect();
    assert_eq!(s3[0].account_id, "222222222222");
    assert_eq!(s3[0].cost, d("0.4"));
    assert_eq!(s3[0].daily_usage, Some(days(30, &[(30, "0.3")])));
    assert_eq!(s3[1].daily_usage, Some(days(30, &[(30, "0.2")])));

    // not part of the JSON contract
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("daily"), "{json}");
}

#[test]
fn cur2_and_focus_have_daily_usage_too() {
    let cur2 = "bill_invoice_id,bill_payer_account_id,bill_billing_period_start_date,\
line_item_usage_account_id,line_item_line_item_type,line_item_product_code,line_item_currency_code,\
line_item_unblended_cost,line_item_usage_start_date,line_item_usage_end_date\n\
,1,2027-02-01T00:00:00.000Z,2,Usage,AWSLambda,USD,0.000001,2027-02-28T00:00:00.000Z,2027-03-01T00:00:00.000Z\n\
,1,2027-02-01T00:00:00.000Z,2,Usage,AWSLambda,USD,2E-6,2027-02-28T01:00:00.000Z,2027-02-28T02:00:00.000Z\n";
    let s = run(cur2, "data.csv");
    assert_eq!(s.totals[0].daily_usage, Some(days(28, &[(28, "0.000003")])));

    let focus = "BilledCost,BillingAccountId,SubAccountId,x_ServiceCode,ServiceName,BillingCurrency,\
ChargeCategory,BillingPeriodStart,ChargePeriodStart,ChargePeriodEnd\n\
1.25,1,2,AmazonEC2,Amazon EC2,EUR,Usage,2026-12-01T00:00:00.000Z,2026-12-31T00:00:00.000Z,2027-01-01T00:00:00.000Z\n\
3,1,2,AmazonEC2,Amazon EC2,EUR,usage,2026-12-01T00:00:00.000Z,2026-12-02T00:00:00.000Z,2026-12-03T00:00:00.000Z\n\
7,1,2,AmazonEC2,Amazon EC2,EUR,Purchase,2026-12-01T00:00:00.000Z,2026-12-02T00:00:00.000Z,2026-12-03T00:00:00.000Z\n\
-1,1,2,AmazonEC2,Amazon EC2,EUR,Credit,2026-12-01T00:00:00.000Z,2026-12-02T00:00:00.000Z,2026-12-03T00:00:00.000Z\n";
    let s = run(focus, "focus.csv");
    assert_eq!(s.totals[0].cost, d("10.25"));
    assert_eq!(
        s.totals[0].daily_usage,
        Some(days(31, &[(2, "3"), (31, "1.25")]))
    );
}

#[test]
fn reports_without_daily_usage_leave_it_none() {
    // a monthly-granularity CUR: every usage row spans the month
    let monthly = format!(
        "{CUR1_HEADER}\n\
a,,1,2026-11-01T00:00:00.000Z,2,Usage,AmazonEC2,USD,10,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,\n"
    );
    let s = run(&monthly, "report-00001.csv");
    assert_eq!(s.totals[0].daily_usage, None);

    // a CUR without a usage start column
    let undated = "lineItem/UsageAccountId,lineItem/LineItemType,lineItem/ProductCode,\
lineItem/CurrencyCode,lineItem/UnblendedCost,bill/BillingPeriodStartDate\n\
2,Usage,AmazonEC2,USD,10,2026-11-01T00:00:00.000Z\n";
    assert_eq!(run(undated, "r.csv").totals[0].daily_usage, None);

    // the legacy monthly report
    let legacy = "\"InvoiceID\",\"PayerAccountId\",\"LinkedAccountId\",\"RecordType\",\"RecordID\",\
\"BillingPeriodStartDate\",\"BillingPeriodEndDate\",\"ProductCode\",\"ProductName\",\"CurrencyCode\",\
\"Credits\",\"TaxAmount\",\"TotalCost\"\n\
\"1\",\"1\",\"2\",\"LinkedLineItem\",\"1\",\"2014/05/01 00:00:00\",\"2014/05/31 23:59:59\",\
\"AmazonEC2\",\"Amazon EC2\",\"USD\",\"0\",\"0\",\"10\"\n";
    let s = run(legacy, "1-aws-billing-csv-2014-05.csv");
    assert_eq!(s.totals.len(), 1);
    assert_eq!(s.totals[0].daily_usage, None);
}

#[test]
fn a_summarized_cur_forecasts_from_its_daily_usage() {
    // 24 a day (1 an hour) for days 1-10 and six hours of day 11; a 720 fee on day 1
    let mut text = format!("{CUR1_HEADER}\n");
    for day in 1..=11 {
        let hours = if day == 11 { 6 } else { 24 };
        for hour in 0..hours {
            let (end_day, end_hour) = if hour == 23 {
                (day + 1, 0)
            } else {
                (day, hour + 1)
            };
            text += &format!(
                "x,,1,2026-11-01T00:00:00.000Z,2,Usage,AmazonEC2,USD,1.000,\
2026-11-{day:02}T{hour:02}:00:00Z,2026-11-{end_day:02}T{end_hour:02}:00:00Z,\n"
            );
        }
    }
    text += "y,,1,2026-11-01T00:00:00.000Z,2,RIFee,AmazonEC2,USD,720,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,\n";
    let s = run(&text, "report-00001.csv");
    assert_eq!(s.as_of.as_deref(), Some("2026-11-11T06:00:00.000Z"));
    assert_eq!(s.status, Status::Estimated);
    let refs: Vec<&Total> = s.totals.iter().collect();
    let f = forecast(
        &refs,
        s.billing_period.unwrap(),
        s.as_of.as_deref(),
        s.status,
    );
    assert_eq!(f.actual, d("966"));
    assert_eq!(f.once, d("720"));
    // 720 once + 10 complete days + 20 days (the 11th included) at 24 a day
    assert_eq!(f.projected, d("1440"));
    assert_eq!(f.method, Method::DailyRunRate { days: 7 });
}

const AS_OF_HEADER: &str = "bill/InvoiceId,bill/PayerAccountId,bill/BillingPeriodStartDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/CurrencyCode,lineItem/UnblendedCost\n";

#[test]
fn as_of_follows_daily_usage_not_month_long_lines() {
    // Hourly EC2 usage up to the 14th, 10:00, and a hosted zone billed for the whole month.
    let text = format!(
        "{AS_OF_HEADER}\
         ,1,2026-11-01T00:00:00.000Z,1,Usage,2026-11-14T09:00:00.000Z,2026-11-14T10:00:00.000Z,AmazonEC2,USD,0.1\n\
         ,1,2026-11-01T00:00:00.000Z,1,Usage,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,AmazonRoute53,USD,0.5\n\
         ,1,2026-11-01T00:00:00.000Z,1,Usage,2026-11-13T09:00:00.000Z,2026-11-13T10:00:00.000Z,AmazonEC2,USD,0.1\n"
    );
    let s = run(&text, "cur.csv");
    assert_eq!(s.as_of.as_deref(), Some("2026-11-14T10:00:00.000Z"));
    // With only month-long usage lines, the month-long end is all there is.
    let monthly = format!(
        "{AS_OF_HEADER}\
         ,1,2026-11-01T00:00:00.000Z,1,Usage,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,AmazonRoute53,USD,0.5\n"
    );
    assert_eq!(
        run(&monthly, "cur.csv").as_of.as_deref(),
        Some("2026-12-01T00:00:00.000Z")
    );
}
