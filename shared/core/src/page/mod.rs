//! The month page: one self-contained HTML file of a billing month (inline CSS and SVG; no
//! script, font, image or request to anywhere), readable on a phone and printable. Per budget
//! (or per currency, without budgets): the month to date against the budget with the forecast and
//! its range, the spend per day with anomalies marked, and the services that moved most.
//!
//! Pure: [`month_page`] turns plain data ([`Section`]) into the page's text; [`sections`] builds
//! the sections of a report summary and its budgets. Every figure the page shows is also in a
//! `data-*` attribute with every digit, so a test (or a script) reads them back exactly.

mod svg;

use crate::alert::sanitize::report_text;
use crate::budget::standing::figures_in;
use crate::budget::Budget;
use crate::digest::{movers, Move};
use crate::forecast::{project, usage_series};
use crate::money_text::cents;
use crate::period::Period;
use crate::report::{ReportSummary, Status};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::fmt::Write;

/// Days of the run rate whose lowest and highest day bound the forecast's range.
pub const RANGE_DAYS: usize = 7;

/// A day flagged as an anomaly, as the page marks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marked {
    pub day: u32,
    pub account: String,
    pub service: String,
    /// Spend above the usual day, when known (an alerted anomaly read back keeps its reason).
    pub impact: Option<Decimal>,
}

/// An anomaly of the month, from a detection (`anomaly::Finding`) or an alert sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub day: NaiveDate,
    pub account: String,
    pub service: String,
    pub currency: String,
    pub impact: Option<Decimal>,
}

impl From<&crate::anomaly::Finding> for Flag {
    fn from(f: &crate::anomaly::Finding) -> Self {
        Flag {
            day: f.day,
            account: f.account.clone(),
            service: f.service.clone(),
            currency: f.currency.clone(),
            impact: Some(f.impact),
        }
    }
}

/// One budget's (or one currency's) part of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The budget's name, or the currency's code without budgets.
    pub title: String,
    /// What it counts, in words (the budget's scope and model).
    pub counts: String,
    pub currency: String,
    /// The budget's amount for the month; None without a budget.
    pub amount: Option<Decimal>,
    /// Month to date, exact.
    pub actual: Decimal,
    /// Spend per day of the month (index 0: day 1); empty when the report has no daily lines.
    pub days: Vec<Decimal>,
    /// The month-end forecast and its range (lowest and highest recent day run to the end).
    pub forecast: Option<Decimal>,
    pub range: Option<(Decimal, Decimal)>,
    pub movers: Vec<Move>,
    pub anomalies: Vec<Marked>,
    /// Why the report cannot answer this budget, instead of figures.
    pub unanswered: Option<String>,
}

/// What the page is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub period: Period,
    pub status: Status,
    pub as_of: Option<String>,
    pub report_key: String,
    pub sections: Vec<Section>,
}

/// The last complete day of the month (a day number), from the data's date.
fn complete_days(period: Period, as_of: Option<&str>, status: Status) -> usize {
    use chrono::Datelike;
    crate::anomaly::last_complete_day(period, as_of, status).map_or(0, |d| d.day() as usize)
}

/// The forecast's range: the month to date plus the days left at the lowest and at the highest
/// of the last [`RANGE_DAYS`] complete days (fees and other once-a-month charges are already in
/// the month to date).
fn range(
    actual: Decimal,
    days: &[Decimal],
    complete: usize,
    month: usize,
) -> Option<(Decimal, Decimal)> {
    if complete == 0 || days.len() != month || complete >= month {
        return None;
    }
    let window = &days[complete.saturating_sub(RANGE_DAYS)..complete];
    let (lo, hi) = (window.iter().min()?, window.iter().max()?);
    // The part of the month after the last complete day that is already in `actual`.
    let partial: Decimal = days[complete..].iter().sum();
    let left = Decimal::from((month - complete) as u64);
    Some((
        (actual - partial + *lo * left).round_dp(2),
        (actual - partial + *hi * left).round_dp(2),
    ))
}

/// The sections of a summary: one per budget (a commitment budget has none: its page is its
/// listing), or one per currency without budgets. `anomalies` are the month's.
pub fn sections(summary: &ReportSummary, budgets: &[Budget], anomalies: &[Flag]) -> Vec<Section> {
    let Some(period) = summary.billing_period else {
        return Vec::new();
    };
    let month = period.days() as usize;
    let complete = complete_days(period, summary.as_of.as_deref(), summary.status);
    let marked = |covers: &dyn Fn(&str, &str, &str) -> bool| -> Vec<Marked> {
        use chrono::Datelike;
        anomalies
            .iter()
            .filter(|f| covers(&f.account, &f.service, &f.currency))
            .map(|f| Marked {
                day: f.day.day(),
                account: f.account.clone(),
                service: f.service.clone(),
                impact: f.impact,
            })
            .collect()
    };
    let build = |title: String,
                 counts: String,
                 currency: &str,
                 amount: Option<Decimal>,
                 figures: Result<(Decimal, Decimal, Vec<Decimal>), String>,
                 covers: &dyn Fn(&str, &str, &str) -> bool| {
        let in_scope: Vec<_> = summary
            .totals
            .iter()
            .filter(|t| covers(&t.account_id, &t.service, &t.currency))
            .collect();
        let movers = if complete > 0 {
            movers(&in_scope, complete)
        } else {
            Vec::new()
        };
        match figures {
            Err(why) => Section {
                title,
                counts,
                currency: currency.to_string(),
                amount,
                actual: Decimal::ZERO,
                days: Vec::new(),
                forecast: None,
                range: None,
                movers: Vec::new(),
                anomalies: Vec::new(),
                unanswered: Some(why),
            },
            Ok((actual, once, days)) => {
                let daily = (days.len() == month).then_some(days.as_slice());
                let f = project(
                    actual,
                    once,
                    daily,
                    period,
                    summary.as_of.as_deref(),
                    summary.status,
                );
                Section {
                    title,
                    counts,
                    currency: currency.to_string(),
                    amount,
                    actual,
                    forecast: (summary.status != Status::Final).then_some(f.projected),
                    range: range(actual, &days, complete, month),
                    days,
                    movers,
                    anomalies: marked(covers),
                    unanswered: None,
                }
            }
        }
    };
    let mut out = Vec::new();
    if budgets.is_empty() {
        let mut currencies: Vec<&str> =
            summary.totals.iter().map(|t| t.currency.as_str()).collect();
        currencies.sort_unstable();
        currencies.dedup();
        for cur in currencies {
            let in_cur: Vec<_> = summary
                .totals
                .iter()
                .filter(|t| t.currency == cur)
                .collect();
            let actual: Decimal = in_cur.iter().map(|t| t.cost).sum();
            let once: Decimal = in_cur.iter().map(|t| crate::forecast::once_of(t)).sum();
            let days = usage_series(&in_cur, period).unwrap_or_default();
            let covers = move |_: &str, _: &str, c: &str| c == cur;
            out.push(build(
                format!("All spend in {cur}"),
                "every account and service".into(),
                cur,
                None,
                Ok((actual, once, days)),
                &covers,
            ));
        }
        return out;
    }
    for b in budgets.iter().filter(|b| b.watch().is_none()) {
        let f = figures_in(b, summary);
        let figures = f.spend_in(&b.currency).map(|s| (s.total, s.once, s.days));
        let counts = match b.model_text() {
            t if t.is_empty() => b.scope.describe(),
            t => t,
        };
        let plain = !b.summed_in_pass();
        let covers = |a: &str, s: &str, c: &str| {
            if plain {
                b.covers_line(a, s, c)
            } else {
                c == b.currency
                    && b.model
                        .filter
                        .judge(
                            &crate::budget::filter::Source::Plain(
                                crate::budget::filter::Dimension::Account,
                            ),
                            a,
                        )
                        .0
                    && b.model
                        .filter
                        .judge(
                            &crate::budget::filter::Source::Plain(
                                crate::budget::filter::Dimension::Service,
                            ),
                            s,
                        )
                        .0
            }
        };
        let amount = (b.model.auto.is_none()
            && b.model.cadence == crate::budget::span::Cadence::Monthly)
            .then_some(b.amount);
        out.push(build(
            b.name.clone(),
            counts,
            &b.currency,
            amount,
            figures,
            &covers,
        ));
    }
    out
}

/// HTML-escaped text (report text is the report's: anything may be in it).
pub fn esc(text: &str) -> String {
    let clean = report_text(text);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;background:#fff}\
main{max-width:960px;margin:0 auto;padding:16px}h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.15em;margin:1.2em 0 .3em}\
.meta{color:#57606a;font-size:.9em}.cards{display:flex;flex-wrap:wrap;gap:8px;margin:.6em 0}\
.card{flex:1 1 140px;border:1px solid #d0d7de;border-radius:6px;padding:8px 10px}.card b{display:block;font-size:1.2em}.card small{display:block}\
code{word-break:break-all}.wide{overflow-x:auto}.legend{font-size:.85em;color:#57606a;margin:.2em 0 .8em}\
.legend span{margin-right:1em;white-space:nowrap}.k{display:inline-block;width:18px;height:0;border-top:3px solid #0969da;vertical-align:middle;margin-right:4px}\
.over{color:#b42318}.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px}\
svg{width:100%;max-width:720px;height:auto;display:block}table{border-collapse:collapse;width:100%;font-size:.9em}\
td,th{text-align:left;padding:4px 6px;border-bottom:1px solid #eaeef2}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
section{border-top:2px solid #eaeef2;margin-top:1.2em}footer{color:#57606a;font-size:.8em;margin:2em 0 1em}\
@media print{body{font-size:11pt}section{break-inside:avoid}}";

/// The page's text.
pub fn month_page(p: &Page) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>billwatch {} {}</title><style>{STYLE}</style></head><body><main>",
        p.period,
        p.status.name()
    );
    let _ = write!(
        h,
        "<h1>{} spend</h1><p class=\"meta\">{} bill, data as of {} &middot; report <code>{}</code></p>",
        p.period.label(),
        p.status.name(),
        esc(p.as_of.as_deref().unwrap_or("an unknown time")),
        esc(&p.report_key)
    );
    if p.sections.is_empty() {
        h += "<p class=\"note\">The report holds no spend for this month.</p>";
    }
    for s in &p.sections {
        section(&mut h, p, s);
    }
    h.push_str(
        "<footer>Made by billwatch from the billing report above. Amounts to the cent; every digit \
         is in the page's data attributes.</footer></main></body></html>\n",
    );
    h
}

fn section(h: &mut String, p: &Page, s: &Section) {
    let c = esc(&s.currency);
    let _ = write!(
        h,
        "<section data-section=\"{}\" data-currency=\"{c}\" data-actual=\"{}\"{}{}>",
        esc(&s.title),
        s.actual,
        s.amount
            .map(|a| format!(" data-amount=\"{a}\""))
            .unwrap_or_default(),
        s.forecast
            .map(|f| format!(" data-forecast=\"{f}\""))
            .unwrap_or_default(),
    );
    let _ = write!(
        h,
        "<h2>{}</h2><p class=\"meta\">{}</p>",
        esc(&s.title),
        esc(&s.counts)
    );
    if let Some(why) = &s.unanswered {
        let _ = write!(
            h,
            "<p class=\"note\">This report cannot answer this budget: {}</p></section>",
            esc(why)
        );
        return;
    }
    h.push_str("<div class=\"cards\">");
    let over = |v: Decimal| s.amount.is_some_and(|a| v > a);
    let card = |h: &mut String, label: &str, v: Decimal, extra: String| {
        let _ = write!(
            h,
            "<div class=\"card\"><span>{label}</span><b{}>{} {c}</b>{extra}</div>",
            if over(v) { " class=\"over\"" } else { "" },
            cents(v)
        );
    };
    let share = |v: Decimal| match s.amount {
        Some(a) if !a.is_zero() => format!(
            "<small>{} % of the budget</small>",
            (v * Decimal::ONE_HUNDRED / a).round_dp(1)
        ),
        _ => String::new(),
    };
    card(h, "Month to date", s.actual, share(s.actual));
    if let Some(a) = s.amount {
        card(h, "Budget", a, String::new());
    }
    if let Some(f) = s.forecast {
        let range = s
            .range
            .map(|(lo, hi)| format!("<small>range {} to {} {c}</small>", cents(lo), cents(hi)))
            .unwrap_or_default();
        card(h, "Month-end forecast", f, format!("{}{range}", share(f)));
    }
    h.push_str("</div>");
    if !s.days.is_empty() {
        svg::cumulative(h, p.period, s);
        h.push_str(
            "<p class=\"legend\"><span><i class=\"k\"></i>spent</span>\
             <span><i class=\"k\" style=\"border-top:2px dashed #57606a\"></i>budget, spread over the month</span>\
             <span><i class=\"k\" style=\"border-top:2px dashed #0969da\"></i>forecast</span>\
             <span><i class=\"k\" style=\"border-top:8px solid #cfe3fb\"></i>forecast range</span></p>",
        );
        svg::daily(h, s);
        h.push_str(
            "<p class=\"legend\"><span><i class=\"k\" style=\"border-top:8px solid #54aeff\"></i>spend per day</span>\
             <span><i class=\"k\" style=\"border-top:8px solid #cf222e\"></i>anomaly</span></p>",
        );
    } else {
        h.push_str("<p class=\"meta\">The report has no daily lines (a legacy or DBR report is monthly): no chart per day.</p>");
    }
    if !s.anomalies.is_empty() {
        h.push_str("<h3>Anomalies</h3><div class=\"wide\"><table><tr><th>Day</th><th>Account</th><th>Service</th><th class=\"n\">Above usual</th></tr>");
        for a in &s.anomalies {
            let _ = write!(
                h,
                "<tr data-anomaly-day=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                a.day,
                p.period
                    .start()
                    .date_naive()
                    .with_day(a.day)
                    .map(|d: NaiveDate| d.to_string())
                    .unwrap_or_else(|| a.day.to_string()),
                esc(&a.account),
                esc(&a.service),
                a.impact
                    .map(|v| format!("{} {c}", cents(v)))
                    .unwrap_or_else(|| "alerted".into())
            );
        }
        h.push_str("</table></div>");
    }
    if !s.movers.is_empty() {
        h.push_str("<h3>What moved on the last complete day</h3><div class=\"wide\"><table><tr><th>Service</th><th>Account</th><th class=\"n\">That day</th><th class=\"n\">Usual</th><th class=\"n\">Change</th></tr>");
        for m in &s.movers {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&m.service),
                esc(&m.account),
                cents(m.yesterday),
                cents(m.usual),
                crate::money_text::signed_cents(m.change)
            );
        }
        h.push_str("</table></div>");
    }
    h.push_str("</section>");
}

use chrono::Datelike;

#[cfg(test)]
mod tests;
