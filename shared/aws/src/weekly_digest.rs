//! The weekly digest's edge (`digest = "weekly"`), run by the daily digest: the last complete
//! ISO week's months' live totals and figures (two months when the week crosses one), the
//! anomalies alerted in them; the core composes it (`billwatch_core::weekly_digest`) and it is
//! sent once per budget and week, by the first run of the next week (its claim keeps it to one).

use crate::health::{HealthConfig, HealthError};
use crate::notify::{send_once, Sent, Topics};
use crate::store::{
    core_totals, live_totals, pass_months, AlertsStore, BudgetsStore, Owed, ReportsStore,
    TotalsStore,
};
use billwatch_core::alert::plan::AlertKind;
use billwatch_core::budget::Budget;
use billwatch_core::digest::OpenAnomaly;
use billwatch_core::period::Period;
use billwatch_core::report::{Status, Total};
use billwatch_core::weekly_digest::{compose_weekly, week_of, MonthTotals, WeeklyInput};
use chrono::{DateTime, Duration, Utc};

/// Sends each of `budgets` its weekly digest of the week before `now`'s; returns how many went.
pub async fn weekly(
    config: &HealthConfig,
    stores: (&BudgetsStore, &ReportsStore, &TotalsStore, &AlertsStore),
    senders: crate::notify::Senders<'_>,
    now: DateTime<Utc>,
    budgets: &[Budget],
) -> Result<u64, HealthError> {
    if budgets.is_empty() {
        return Ok(0);
    }
    let (_, reports, totals, alerts) = stores;
    let today = now.date_naive();
    let (monday, sunday) = week_of(today);
    // The months of the week and of the one before it.
    let mut periods = vec![Period::of_date(monday - Duration::days(7))];
    for p in [Period::of_date(monday), Period::of_date(sunday)] {
        if !periods.contains(&p) {
            periods.push(p);
        }
    }
    let mut held: Vec<(Period, Vec<Total>)> = Vec::new();
    let mut anomalies = Vec::new();
    let feedback = stores.0.feedback().await?;
    let (mut as_of, mut all_final) = (None::<String>, true);
    for &period in &periods {
        let stored = live_totals(reports, totals, period, None).await?;
        if period == Period::of_date(sunday) {
            as_of = stored.iter().filter_map(|t| t.as_of.clone()).max();
            all_final = !stored.is_empty() && stored.iter().all(|t| t.status == Status::Final);
        }
        held.push((period, core_totals(&stored, period)));
        anomalies.extend(
            alerts
                .list(period)
                .await?
                .into_iter()
                .filter(|a| a.kind == AlertKind::Anomaly)
                .filter_map(|a| OpenAnomaly::from_key(&a.key, &a.reason))
                .map(|a| a.answered(&feedback)),
        );
    }
    let months: Vec<MonthTotals<'_>> = held
        .iter()
        .map(|(period, totals)| MonthTotals {
            period: *period,
            totals,
        })
        .collect();
    let mut figures = Vec::new();
    for &period in &periods {
        figures.extend(pass_months(reports, totals, budgets, period).await?);
    }
    figures.sort_by_key(|m| m.period);
    figures.dedup_by_key(|m| m.period);
    let topics = Topics {
        alerts: config.topic_arn.as_deref(),
        chat: config.chat_topic_arn.as_deref(),
        channels: senders.channels,
        pages: senders.pages,
    };
    let mut sent = 0;
    for b in budgets {
        let alert = compose_weekly(&WeeklyInput {
            budget: b,
            today,
            months: &months,
            figures: &figures,
            as_of: as_of.as_deref(),
            status: if all_final {
                Status::Final
            } else {
                Status::Estimated
            },
            anomalies: &anomalies,
        });
        if send_once(alerts, senders.sns, topics, &Owed::from(&alert), now).await? == Sent::Now {
            sent += 1;
        }
    }
    Ok(sent)
}
