//! Amounts as people read them: thousands separators, rounded to the cent or every stored
//! digit. Formatting works on the decimal's own digits, never through a float.

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounded to the cent (half away from zero, as on an invoice), with thousands separators:
/// `1234.565` → `1,234.57`, `-0.004` → `0.00`.
pub fn cents(value: Decimal) -> String {
    let mut v = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    if v.is_zero() {
        v = Decimal::ZERO;
    }
    v.rescale(2);
    grouped(&v.to_string())
}

/// Every stored digit (at least two decimals), with thousands separators:
/// `1234.5678` → `1,234.5678`, `5` → `5.00`.
pub fn exact(value: Decimal) -> String {
    let mut v = value;
    if v.scale() < 2 {
        v.rescale(2);
    }
    grouped(&v.to_string())
}

/// [`cents`] with a sign on changes: `+2.30`, `-1.50`, `0.00`.
pub fn signed_cents(value: Decimal) -> String {
    let text = cents(value);
    if text.starts_with('-') || text.trim_start_matches(['0', '.', ',']).is_empty() {
        text
    } else {
        format!("+{text}")
    }
}

/// A percentage as written in messages: at most one decimal, no trailing zeros (`76.7`, `100`).
pub fn percent(value: Decimal) -> String {
    value
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
}

/// Inserts `,` every three digits of the integer part of a plain decimal string.
fn grouped(plain: &str) -> String {
    let (sign, rest) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn cents_round_half_away_from_zero_and_group_thousands() {
        assert_eq!(cents(d("1234.565")), "1,234.57");
        assert_eq!(cents(d("-1234.565")), "-1,234.57");
        assert_eq!(cents(d("999.994")), "999.99");
        assert_eq!(cents(d("999.995")), "1,000.00");
        assert_eq!(cents(d("1000")), "1,000.00");
        assert_eq!(cents(d("123456789.1")), "123,456,789.10");
        assert_eq!(cents(d("12")), "12.00");
        assert_eq!(cents(d("-0.004")), "0.00");
        assert_eq!(cents(d("0")), "0.00");
    }

    #[test]
    fn exact_keeps_every_digit() {
        assert_eq!(exact(d("1234.5678901234")), "1,234.5678901234");
        assert_eq!(exact(d("5")), "5.00");
        assert_eq!(exact(d("-1000000.1")), "-1,000,000.10");
        assert_eq!(exact(d("0.0000001")), "0.0000001");
    }

    #[test]
    fn signed_and_percent() {
        assert_eq!(signed_cents(d("2.304")), "+2.30");
        assert_eq!(signed_cents(d("-1.5")), "-1.50");
        assert_eq!(signed_cents(d("0.001")), "0.00");
        assert_eq!(signed_cents(d("1500")), "+1,500.00");
        assert_eq!(percent(d("76.66")), "76.7");
        assert_eq!(percent(d("100.00")), "100");
        assert_eq!(percent(d("123.45")), "123.5");
    }
}
