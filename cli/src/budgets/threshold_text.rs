//! The one spelling of a threshold, in the budgets file, on the command line and in every
//! output: `"80%"` (a percentage of the amount) or `"500 USD"` (an amount in the budget's
//! currency), followed by ` forecast` for the forecast month-end spend. It is what
//! [`Threshold::describe`] prints, read back.

use billwatch_core::budget::{Basis, Level, Threshold};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The forms a threshold may take, for messages.
pub(super) const ACCEPTED: &str = "write \"80%\" (a percentage of the amount) or \"500 USD\" \
    (an amount in the budget's currency), with \" forecast\" after it for the forecast \
    month-end spend, e.g. \"90% forecast\"";

fn not_a_threshold(text: &str) -> String {
    format!("'{text}' is not a threshold: {ACCEPTED}")
}

/// A threshold as spelt, in a budget of `currency`. With `bare_is_percent` (the command line,
/// whose `--thresholds 50,80,100` predates the spelling), a bare number is a percentage.
pub(super) fn parse(
    text: &str,
    currency: &str,
    bare_is_percent: bool,
) -> Result<Threshold, String> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let basis = match words.last().map(|w| w.to_ascii_lowercase()) {
        Some(w) if w == "forecast" => Basis::Forecast,
        Some(w) if w == "actual" => Basis::Actual,
        _ => Basis::Actual,
    };
    if words
        .last()
        .is_some_and(|w| w.eq_ignore_ascii_case("forecast") || w.eq_ignore_ascii_case("actual"))
    {
        words.pop();
    }
    let level: String = words.concat();
    let number = |digits: &str| -> Result<Decimal, String> {
        let digits = digits.trim();
        if digits.is_empty() || digits.starts_with('+') {
            return Err(not_a_threshold(text));
        }
        Decimal::from_str(digits)
            .or_else(|_| Decimal::from_scientific(digits))
            .map_err(|_| not_a_threshold(text))
    };
    let level = if let Some(p) = level.strip_suffix('%') {
        Level::Percent(number(p)?)
    } else if let Some(split) = level.find(|c: char| c.is_ascii_alphabetic()) {
        let (value, unit) = level.split_at(split);
        if unit.len() != 3 || !unit.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(not_a_threshold(text));
        }
        let value = number(value)?;
        if unit != currency {
            return Err(format!(
                "'{}' is in {unit}, but the budget is in {currency}",
                text.trim()
            ));
        }
        Level::Absolute(value)
    } else if bare_is_percent {
        Level::Percent(number(&level)?)
    } else {
        return Err(not_a_threshold(text));
    };
    Ok(Threshold { level, basis })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn every_spelling_reads_back_what_describe_prints() {
        for (text, want) in [
            ("80%", Threshold::percent(d("80"))),
            (" 80 % ", Threshold::percent(d("80"))),
            ("12.5%", Threshold::percent(d("12.5"))),
            ("500 USD", Threshold::absolute(d("500"))),
            ("500USD", Threshold::absolute(d("500"))),
            ("1234.56 USD", Threshold::absolute(d("1234.56"))),
            (
                "90% forecast",
                Threshold::percent(d("90")).on(Basis::Forecast),
            ),
            (
                "90%   Forecast",
                Threshold::percent(d("90")).on(Basis::Forecast),
            ),
            (
                "500 USD forecast",
                Threshold::absolute(d("500")).on(Basis::Forecast),
            ),
            ("80% actual", Threshold::percent(d("80"))),
        ] {
            let t = parse(text, "USD", false).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(t, want, "{text}");
            assert_eq!(parse(&t.describe("USD"), "USD", false), Ok(t));
        }
        assert_eq!(parse("80", "USD", true), Ok(Threshold::percent(d("80"))));
    }

    #[test]
    fn a_wrong_spelling_names_the_accepted_forms() {
        for text in [
            "80",
            "",
            "%",
            "eighty%",
            "80 percent",
            "80 US",
            "USD",
            "+5%",
            "80%%",
        ] {
            let e = parse(text, "USD", false).unwrap_err();
            assert_eq!(e, format!("'{text}' is not a threshold: {ACCEPTED}"));
        }
        assert_eq!(
            parse("500 EUR", "USD", false).unwrap_err(),
            "'500 EUR' is in EUR, but the budget is in USD"
        );
        assert!(parse("x", "USD", true).unwrap_err().contains("\"80%\""));
    }
}
