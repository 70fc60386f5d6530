//! Budgets on cost types, team filters and quarters (issue 20) through the ingest handler
//! against the local AWS stack: CUR 1.0 manifests of two months, generated with every RI and
//! Savings Plans line type (tests/differential/budgets_sql.py), delivered as S3 events.

use billwatch_core::budget::cost::{ChargeKind, CostType, Measure};
use billwatch_core::budget::span::Cadence;
use billwatch_core::budget::spec::Specs;
use billwatch_core::budget::{Budget, Model, Scope, Threshold};
use billwatch_core::report::{summarize_path_periods, Limits};
use billwatch_tests::generated::{attr, cur_delivery, deliver, payload, tempdir};
use billwatch_tests::Stack;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::path::Path;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn quarterly_team(amount: Decimal) -> Budget {
    Budget {
        name: "data-q".into(),
        scope: Scope::All,
        amount,
        currency: "USD".into(),
        thresholds: vec![Threshold::percent(d("50")), Threshold::percent(d("80"))],
        escalation_step: None,
        topic_arn: None,
        digest: false,
        channels: Vec::new(),
        digest_every: Default::default(),
        model: Model {
            measure: Measure {
                cost: CostType::Amortized,
                exclude: [ChargeKind::Credit, ChargeKind::Refund, ChargeKind::Tax]
                    .into_iter()
                    .collect(),
            },
            filter: serde_json::from_value(json!({"tags": {"team": ["data"]}})).unwrap(),
            cadence: Cadence::Quarterly,
            ..Model::default()
        },
    }
}

/// The budget's spend in one local report, read by the engine as the ingest reads it.
fn spend_of(budget: &Budget, csv: &Path) -> Decimal {
    let specs: Specs = vec![budget.spec().unwrap()].into();
    let s = summarize_path_periods(csv, None, &Limits::default(), &specs).unwrap();
    s[0].budgets[0].spend_in("USD").unwrap().total
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quarterly_amortized_team_budget_alerts_once_across_two_months_of_deliveries() {
    let stack = Stack::new().await;
    let dir = tempdir("budgets");
    let oct = cur_delivery(&dir, "2026-10", 1);
    let nov = cur_delivery(&dir, "2026-11", 2);
    // The amount puts October alone under 50 % and the quarter (October + November) at 60 %.
    let probe = quarterly_team(Decimal::ONE);
    let (oct_spend, nov_spend) = (spend_of(&probe, &oct.4), spend_of(&probe, &nov.4));
    let quarter = oct_spend + nov_spend;
    let amount = (quarter / d("0.6")).round_dp(2);
    assert!(
        oct_spend * d("2") < amount && nov_spend > Decimal::ZERO,
        "{oct_spend} {nov_spend}"
    );
    let budget = quarterly_team(amount);
    stack.setup.budgets.put(&budget).await.unwrap();
    // A budget the report cannot answer: its cost category has no column.
    let mut unanswerable = quarterly_team(amount);
    unanswerable.name = "cost-center".into();
    unanswerable.model.filter =
        serde_json::from_value(json!({"cost_categories": {"CostCenter": ["42"]}})).unwrap();
    stack.setup.budgets.put(&unanswerable).await.unwrap();

    let event = deliver(&stack, &oct).await;
    stack.ingest.handle(&event).await.unwrap();
    let after_october = stack.received_alerts().await;
    assert!(
        after_october.iter().all(|m| attr(m, "kind") != "budget"),
        "October alone is under 50 %: {after_october:#?}"
    );
    let notices: Vec<&Value> = after_october
        .iter()
        .filter(|m| attr(m, "check") == "budget-unanswerable")
        .collect();
    assert_eq!(notices.len(), 1, "{after_october:#?}");
    assert!(payload(notices[0])["details"]["reason"]
        .as_str()
        .unwrap()
        .contains("no column for cost category \"CostCenter\""));

    let event = deliver(&stack, &nov).await;
    let result = stack.ingest.handle(&event).await.unwrap();
    assert_eq!(result[0].outcome.as_str(), "stored", "{result:?}");
    let after_november = stack.received_alerts().await;
    let budget_alerts: Vec<&Value> = after_november
        .iter()
        .filter(|m| attr(m, "kind") == "budget")
        .collect();
    assert_eq!(budget_alerts.len(), 1, "{after_november:#?}");
    let p = payload(budget_alerts[0]);
    assert_eq!(attr(budget_alerts[0], "threshold"), "50");
    assert_eq!(p["budget"], "data-q");
    assert_eq!(p["span"], "2026-Q4");
    assert_eq!(p["cadence"], "quarterly");
    assert_eq!(
        d(p["actual"].as_str().unwrap()),
        quarter,
        "October + November"
    );
    assert!(
        p["counts"]
            .as_str()
            .unwrap()
            .starts_with("amortized cost, quarterly, without credits, refunds, tax, filter tags"),
        "{p}"
    );
    let subject = budget_alerts[0]["Subject"].as_str().unwrap();
    assert!(subject.contains("2026-Q4"), "{subject}");
    // The notice of the budget that cannot be answered was the quarter's: not sent again.
    assert!(
        after_november
            .iter()
            .all(|m| attr(m, "check") != "budget-unanswerable"),
        "{after_november:#?}"
    );

    // November delivered again (a new event, the same content): nothing new.
    let event = deliver(&stack, &nov).await;
    stack.ingest.handle(&event).await.unwrap();
    let again = stack.received_alerts().await;
    assert!(
        again.iter().all(|m| attr(m, "kind") != "budget"),
        "{again:#?}"
    );

    // The figures are stored with November's live version.
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
    let stored = figures.iter().find(|f| f.name == "data-q").unwrap();
    assert_eq!(stored.spend_in("USD").unwrap().total, nov_spend);

    // Its daily digest stands on the same figures: the quarter to date, yesterday from its own
    // daily series.
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
    assert_eq!(p["span"], "2026-Q4");
    assert_eq!(d(p["month_to_date"].as_str().unwrap()), quarter);
    let nov_days = &summarize_path_periods(
        &nov.4,
        None,
        &Limits::default(),
        &vec![budget.spec().unwrap()].into(),
    )
    .unwrap()[0]
        .budgets[0];
    let yesterday = nov_days.spend_in("USD").unwrap().days[28];
    assert_eq!(d(p["yesterday"].as_str().unwrap()), yesterday, "{p}");
    assert!(digests[0]["Subject"]
        .as_str()
        .unwrap()
        .ends_with("2026-Q4 to date"));
    assert!(figures
        .iter()
        .find(|f| f.name == "cost-center")
        .unwrap()
        .answer
        .is_err());
}

/// The weekly digest (issue 22): the week of Monday 2026-11-30 to Sunday 2026-12-06 crosses a
/// month boundary; its spend is the live deliveries' daily series of both months, and it goes
/// once per week however often the digest runs.
#[tokio::test(flavor = "multi_thread")]
async fn a_weekly_digest_across_a_month_boundary_sums_both_months_and_goes_once_a_week() {
    use billwatch_core::budget::Every;
    let stack = Stack::new().await;
    let dir = tempdir("budgets");
    let nov = cur_delivery(&dir, "2026-11", 7);
    let dec = cur_delivery(&dir, "2026-12", 8);
    for d in [&nov, &dec] {
        let event = deliver(&stack, d).await;
        stack.ingest.handle(&event).await.unwrap();
    }
    let budget = Budget {
        name: "weekly-all".into(),
        scope: Scope::All,
        amount: d("100000"),
        currency: "USD".into(),
        thresholds: vec![Threshold::percent(d("80"))],
        escalation_step: None,
        topic_arn: None,
        digest: true,
        digest_every: Every::Week,
        channels: vec!["weekly-discord".into()],
        model: Model::default(),
    };
    stack.setup.budgets.put(&budget).await.unwrap();
    // The weekly report also goes to the channel the budget names, once a week.
    let receiver = billwatch_tests::receiver::Receiver::start().await;
    let secret = format!("billwatch/{}/discord", billwatch_tests::unique("weekly"));
    stack.put_secret(&secret, &receiver.url("/discord")).await;
    stack
        .setup
        .budgets
        .put_channels(&[billwatch_core::channel::Channel {
            name: "weekly-discord".into(),
            kind: billwatch_core::channel::ChannelKind::Discord,
            url: billwatch_core::channel::SecretRef::Secret(secret),
            signing_key: None,
            default: false,
        }])
        .await
        .unwrap();
    stack.received_alerts().await;
    // The same days, from the engine's own read of the two files.
    let day_sum = |csv: &Path, days: std::ops::RangeInclusive<usize>| -> Decimal {
        let s =
            &summarize_path_periods(csv, None, &Limits::default(), &Specs::default()).unwrap()[0];
        s.totals
            .iter()
            .filter(|t| t.currency == "USD")
            .map(|t| {
                days.clone()
                    .map(|day| t.daily_usage.as_ref().unwrap()[day - 1])
                    .sum::<Decimal>()
            })
            .sum()
    };
    let week = day_sum(&nov.4, 30..=30) + day_sum(&dec.4, 1..=6);
    let before = day_sum(&nov.4, 23..=29);
    assert_eq!(stack.run_digest("2026-12-07T08:00:00Z").await, (1, 1));
    let digests: Vec<Value> = stack
        .received_alerts_now()
        .await
        .into_iter()
        .filter(|m| attr(m, "kind") == "digest")
        .collect();
    assert_eq!(digests.len(), 1);
    let p = payload(&digests[0]);
    assert_eq!(p["every"], "weekly");
    assert_eq!(p["week"], "2026-W49");
    assert_eq!(d(p["week_spend"].as_str().unwrap()), week);
    assert_eq!(d(p["week_before"].as_str().unwrap()), before);
    assert!(digests[0]["Subject"]
        .as_str()
        .unwrap()
        .starts_with("billwatch: weekly-all weekly digest 2026-W49:"));
    let posted = receiver.to("/discord");
    assert_eq!(posted.len(), 1);
    assert!(
        posted[0].json()["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .contains("weekly digest 2026-W49"),
        "{:?}",
        posted[0].json()
    );
    // Again the same day, and on the Tuesday: the week's digest went.
    assert_eq!(stack.run_digest("2026-12-07T20:00:00Z").await, (1, 0));
    assert_eq!(stack.run_digest("2026-12-08T08:00:00Z").await, (1, 0));
    assert_eq!(receiver.to("/discord").len(), 1);
    // The next Monday: the next week.
    assert_eq!(stack.run_digest("2026-12-14T08:00:00Z").await, (1, 1));
    assert_eq!(receiver.to("/discord").len(), 2);
}
