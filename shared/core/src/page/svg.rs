//! The page's two charts, inline SVG: the month to date day by day against the budget's straight
//! line with the forecast and its range, and the spend per day with anomaly days marked.

use super::{esc, Section};
use crate::money_text::cents;

use crate::period::Period;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::fmt::Write;

const W: f64 = 480.0;
const H: f64 = 220.0;
/// Room for the axis labels.
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

fn f(v: Decimal) -> f64 {
    v.to_f64().unwrap_or_default()
}

/// An axis label short enough for the margin: `950`, `14.9k`, `2.3M` (the cards and the data
/// attributes carry the exact figures).
fn short(v: Decimal) -> String {
    let x = f(v);
    if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

struct Scale {
    days: usize,
    max: f64,
}

impl Scale {
    fn x(&self, day: f64) -> f64 {
        LEFT + (W - LEFT - 10.0) * day / self.days as f64
    }
    fn y(&self, v: f64) -> f64 {
        let span = if self.max > 0.0 { self.max } else { 1.0 };
        TOP + (H - TOP - BOTTOM) * (1.0 - (v / span).clamp(0.0, 1.0))
    }
}

fn axes(h: &mut String, s: &Scale, max_label: &str) {
    let _ = write!(
        h,
        "<line x1=\"{l}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#8c959f\"/>\
         <line x1=\"{l}\" y1=\"{t}\" x2=\"{l}\" y2=\"{b}\" stroke=\"#8c959f\"/>\
         <text x=\"{lx}\" y=\"{ty}\" font-size=\"13\" text-anchor=\"end\">{max_label}</text>\
         <text x=\"{lx}\" y=\"{b}\" font-size=\"13\" text-anchor=\"end\">0</text>",
        l = LEFT,
        r = W - 10.0,
        t = TOP,
        b = H - BOTTOM,
        lx = LEFT - 4.0,
        ty = TOP + 10.0,
    );
    for day in [1usize, 10, 20, s.days] {
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\">{day}</text>",
            s.x(day as f64 - 0.5),
            H - 6.0
        );
    }
}

/// The month to date, cumulative, against the budget's line `amount × d ÷ days`, with the
/// forecast from the last day with spend to the month's end and its range as a band.
pub fn cumulative(h: &mut String, period: Period, s: &Section) {
    let days = period.days() as usize;
    let mut run = Vec::with_capacity(days);
    let mut sum = Decimal::ZERO;
    for d in &s.days {
        sum += *d;
        run.push(sum);
    }
    // The once-a-month part (fees, tax, credits) is in the month to date but on no day.
    let offset = s.actual - sum;
    let last = s
        .days
        .iter()
        .rposition(|d| !d.is_zero())
        .map_or(0, |i| i + 1);
    let hi = s.range.map(|r| r.1).unwrap_or_default();
    let top = [
        s.actual,
        s.amount.unwrap_or_default(),
        s.forecast.unwrap_or_default(),
        hi,
    ]
    .into_iter()
    .max()
    .unwrap_or_default();
    let sc = Scale {
        days,
        max: f(top) * 1.05,
    };
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Month to date of {}, cumulative, against the budget\" data-chart=\"cumulative\">\
         <title>Month to date, cumulative: {} {}</title>",
        esc(&s.title),
        cents(s.actual),
        esc(&s.currency)
    );
    axes(h, &sc, &short(top));
    if let Some(amount) = s.amount {
        let _ = write!(
            h,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#57606a\" stroke-dasharray=\"4 3\"><title>budget {} {}</title></line>",
            sc.x(0.0),
            sc.y(0.0),
            sc.x(days as f64),
            sc.y(f(amount)),
            cents(amount),
            esc(&s.currency)
        );
    }
    let points: Vec<String> = run
        .iter()
        .take(last.max(1))
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", sc.x(i as f64 + 1.0), sc.y(f(*v + offset))))
        .collect();
    let _ = write!(
        h,
        "<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"2.5\" points=\"{}\"><title>spent</title></polyline>",
        points.join(" ")
    );
    let from = (sc.x(last as f64), sc.y(f(s.actual)));
    if let Some((lo, hi)) = s.range {
        let _ = write!(
            h,
            "<polygon fill=\"#0969da\" fill-opacity=\"0.12\" points=\"{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"><title>forecast range {} to {}</title></polygon>",
            from.0,
            from.1,
            sc.x(days as f64),
            sc.y(f(hi)),
            sc.x(days as f64),
            sc.y(f(lo)),
            cents(lo),
            cents(hi)
        );
    }
    if let Some(fc) = s.forecast {
        let _ = write!(
            h,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#0969da\" stroke-dasharray=\"6 4\"><title>forecast {} {}</title></line>",
            from.0,
            from.1,
            sc.x(days as f64),
            sc.y(f(fc)),
            cents(fc),
            esc(&s.currency)
        );
    }
    h.push_str("</svg>");
}

/// Spend per day, a bar each; anomaly days in red with a marker.
pub fn daily(h: &mut String, s: &Section) {
    let days = s.days.len();
    let top = s.days.iter().max().copied().unwrap_or_default();
    let sc = Scale {
        days,
        max: f(top) * 1.1,
    };
    let _ = write!(
        h,
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Spend per day of {}\" data-chart=\"daily\"><title>Spend per day</title>",
        esc(&s.title)
    );
    axes(h, &sc, &short(top));
    let width = (W - LEFT - 10.0) / days.max(1) as f64 * 0.8;
    for (i, v) in s.days.iter().enumerate() {
        let day = i as u32 + 1;
        let flagged = s.anomalies.iter().any(|a| a.day == day);
        let (x, y) = (sc.x(i as f64) + width * 0.125, sc.y(f(*v)));
        let _ = write!(
            h,
            "<rect data-day=\"{day}\" data-spend=\"{v}\"{} x=\"{x:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{}\"><title>day {day}: {} {}{}</title></rect>",
            if flagged { " data-anomaly=\"true\"" } else { "" },
            (H - BOTTOM - y).max(0.0),
            if flagged { "#cf222e" } else { "#54aeff" },
            cents(*v),
            esc(&s.currency),
            if flagged { " (anomaly)" } else { "" }
        );
        if flagged {
            let _ = write!(
                h,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"#cf222e\">&#9650;</text>",
                x + width / 2.0,
                (y - 3.0).max(TOP + 8.0)
            );
        }
    }
    h.push_str("</svg>");
}
