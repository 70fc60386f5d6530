//! The one spelling of a threshold, in the budgets file, on the command line and in every
//! output: `"80%"` (a percentage of the amount) or `"500 USD"` (an amount in the budget's
//! currency), followed by ` forecast` for the forecast month-end spend. It is what
//! [`Threshold::describe`] prints, read back.
//!
//! On the command line (`--thresholds 50%,80%,100%`) a bare number is still read as a
//! percentage when it is at least 1; a bare number below 1 is refused, since `0.8` is more
//! likely meant as 80 % than as 0.8 %, and the message says how to write either.

use super::{Basis, Level, Threshold};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The forms a threshold may take, for messages.
pub const ACCEPTED: &str = "write \"80%\" (a percentage of the amount) or \"500 USD\" \
    (an amount in the budget's currency), with \" forecast\" after it for the forecast \
    month-end spend, e.g. \"90% forecast\"";

fn not_a_threshold(text: &str) -> String {
    format!("'{text}' is not a threshold: {ACCEPTED}")
}

/// A bare number below 1 on the command line: refused, with both readings spelt out.
fn bare_fraction(text: &str, value: Decimal) -> String {
    let as_percent = (value * Decimal::ONE_HUNDRED).normalize();
    format!(
        "'{}' is a bare number below 1: write \"{as_percent}%\" for {as_percent} percent of the \
         amount, or \"{}%\" if you mean {} percent",
        text.trim(),
        value.normalize(),
        value.normalize()
    )
}

/// A commitment gauge's line as spelt: `below 90%` (the month to date or a complete day under
/// 90 % alerts), read as the percentage.
pub fn parse_below(text: &str) -> Result<Threshold, String> {
    let bad = || {
        format!("'{text}' is not a line of a utilization or coverage budget: write \"below 90%\"")
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    let (first, rest) = words.split_first().ok_or_else(bad)?;
    if !first.eq_ignore_ascii_case("below") {
        return Err(bad());
    }
    let level: String = rest.concat();
    let digits = level.strip_suffix('%').ok_or_else(bad)?;
    if digits.is_empty() || digits.starts_with('+') {
        return Err(bad());
    }
    let p = Decimal::from_str(digits).map_err(|_| bad())?;
    Ok(Threshold::percent(p))
}

/// A threshold as spelt, in a budget of `currency`. With `bare_is_percent` (the command line,
/// whose `--thresholds 50,80,100` predates the spelling), a bare number of at least 1 is a
/// percentage; below 1 it is refused (see the module's note).
pub fn parse_threshold(
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
        // A currency code, or a usage budget's own unit (`40000 GB-Mo`).
        let code = unit.len() == 3 && unit.chars().all(|c| c.is_ascii_alphabetic());
        if !code && unit != currency {
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
        let value = number(&level)?;
        if value > Decimal::ZERO && value < Decimal::ONE {
            return Err(bare_fraction(text, value));
        }
        Level::Percent(value)
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
            let t = parse_threshold(text, "USD", false).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(t, want, "{text}");
            assert_eq!(parse_threshold(&t.describe("USD"), "USD", false), Ok(t));
        }
        assert_eq!(
            parse_threshold("80", "USD", true),
            Ok(Threshold::percent(d("80")))
        );
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
            let e = parse_threshold(text, "USD", false).unwrap_err();
            assert_eq!(e, format!("'{text}' is not a threshold: {ACCEPTED}"));
        }
        assert_eq!(
            parse_threshold("500 EUR", "USD", false).unwrap_err(),
            "'500 EUR' is in EUR, but the budget is in USD"
        );
        assert!(parse_threshold("x", "USD", true)
            .unwrap_err()
            .contains("\"80%\""));
    }

    #[test]
    fn a_bare_number_below_1_is_refused_with_what_to_write() {
        assert_eq!(
            parse_threshold("0.8", "USD", true).unwrap_err(),
            "'0.8' is a bare number below 1: write \"80%\" for 80 percent of the amount, or \
             \"0.8%\" if you mean 0.8 percent"
        );
        assert!(parse_threshold(" 0.25 ", "USD", true)
            .unwrap_err()
            .contains("\"25%\""));
        // Spelt with %, a small percentage is what was written.
        assert_eq!(
            parse_threshold("0.8%", "USD", true),
            Ok(Threshold::percent(d("0.8")))
        );
        assert_eq!(
            parse_threshold("1", "USD", true),
            Ok(Threshold::percent(d("1")))
        );
    }
}
