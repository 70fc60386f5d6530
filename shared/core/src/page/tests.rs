//! The month page on constructed sections: every figure is in the page exactly, report text is
//! escaped, nothing is fetched from anywhere.

use super::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn section() -> Section {
    let mut days = vec![Decimal::ZERO; 30];
    for (i, v) in ["10", "12", "11", "40", "9"].iter().enumerate() {
        days[i] = d(v);
    }
    Section {
        title: "team <a>".into(),
        counts: "account 111111111111".into(),
        currency: "USD".into(),
        amount: Some(d("300")),
        actual: d("85.5"),
        days,
        forecast: Some(d("512.75")),
        range: Some((d("300.10"), d("1100.20"))),
        movers: Vec::new(),
        anomalies: vec![Marked {
            day: 4,
            account: "111111111111".into(),
            service: "AmazonEC2\"><script>".into(),
            impact: Some(d("29")),
        }],
        unanswered: None,
    }
}

#[test]
fn the_page_holds_every_figure_exactly_and_escapes_report_text() {
    let page = month_page(&Page {
        period: "2026-11".parse().unwrap(),
        status: Status::Estimated,
        as_of: Some("2026-11-06T00:00:00Z".into()),
        report_key: "cur/r/<x>.csv".into(),
        sections: vec![section()],
    });
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("data-actual=\"85.5\""));
    assert!(page.contains("data-amount=\"300\""));
    assert!(page.contains("data-forecast=\"512.75\""));
    assert!(page.contains("data-day=\"4\" data-spend=\"40\" data-anomaly=\"true\""));
    assert!(page.contains("range 300.10 to 1,100.20 USD"));
    assert!(page.contains("team &lt;a&gt;"));
    assert!(
        !page.contains("<script"),
        "no script, and report text cannot make one"
    );
    assert!(page.contains("AmazonEC2&quot;&gt;&lt;script&gt;"));
    assert!(page.contains("cur/r/&lt;x&gt;.csv"));
    // Nothing from elsewhere: no URL, no link, no image.
    for banned in [
        "http://", "https://", "<link", "<img", "url(", "@import", "src=",
    ] {
        assert!(!page.contains(banned), "{banned}");
    }
    assert!(
        page.contains("class=\"over\""),
        "the forecast over the budget is marked"
    );
}

#[test]
fn the_range_runs_the_lowest_and_highest_recent_day_to_the_end() {
    let mut days = vec![Decimal::ZERO; 30];
    for (i, v) in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
        .iter()
        .enumerate()
    {
        days[i] = d(v);
    }
    // 10 complete days: the last 7 are 4..=10; 20 days left.
    let (lo, hi) = range(d("55"), &days, 10, 30).unwrap();
    assert_eq!((lo, hi), (d("135"), d("255")));
    assert_eq!(range(d("1"), &days, 0, 30), None);
    assert_eq!(range(d("1"), &days, 30, 30), None);
}
