//! Amounts: exact decimals parsed straight from report bytes. Never a float.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Parses an amount such as `148.770000`, `-2.61370000000`, `1.0E+7` or `4E-8` exactly.
/// Surrounding ASCII spaces are ignored. Returns `None` for anything else (empty included).
pub fn parse_amount(raw: &[u8]) -> Option<Decimal> {
    let text = std::str::from_utf8(raw.trim_ascii()).ok()?;
    if text.is_empty() {
        return None;
    }
    if text.bytes().any(|b| b == b'e' || b == b'E') {
        return parse_scientific(text);
    }
    let text = text.strip_prefix('+').unwrap_or(text);
    if !text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return None;
    }
    Decimal::from_str_exact(text).ok()
}

fn parse_scientific(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let exponent: i32 = exponent
        .strip_prefix('+')
        .unwrap_or(exponent)
        .parse()
        .ok()?;
    let mut value = Decimal::from_str_exact(mantissa.strip_prefix('+').unwrap_or(mantissa)).ok()?;
    let ten = Decimal::TEN;
    if exponent >= 0 {
        for _ in 0..exponent {
            value = value.checked_mul(ten)?;
        }
    } else {
        let scale = value.scale().checked_add(exponent.unsigned_abs())?;
        if scale > 28 {
            return None;
        }
        value.set_scale(scale).ok()?;
    }
    Some(value)
}

/// `-0` and `0` print the same.
pub fn canonical(value: Decimal) -> Decimal {
    if value.is_zero() {
        let mut v = value;
        v.set_sign_positive(true);
        v
    } else {
        value
    }
}

/// Parses a decimal written by us (a stored or configured amount).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    Decimal::from_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn plain_amounts_keep_their_scale() {
        assert_eq!(
            parse_amount(b"148.770000").unwrap().to_string(),
            "148.770000"
        );
        assert_eq!(parse_amount(b"-2.61370000000").unwrap(), d("-2.6137"));
        assert_eq!(parse_amount(b" 0.44 ").unwrap(), d("0.44"));
        assert_eq!(parse_amount(b"+3").unwrap(), d("3"));
        assert_eq!(parse_amount(b"0.0000001234").unwrap(), d("0.0000001234"));
    }

    #[test]
    fn exponent_notation_is_exact() {
        assert_eq!(parse_amount(b"1.0E+7").unwrap(), d("10000000"));
        assert_eq!(parse_amount(b"5.1E-7").unwrap(), d("0.00000051"));
        assert_eq!(parse_amount(b"4E-8").unwrap(), d("0.00000004"));
        assert_eq!(parse_amount(b"-1.5e-3").unwrap(), d("-0.0015"));
        assert_eq!(parse_amount(b"2e0").unwrap(), d("2"));
    }

    #[test]
    fn junk_is_rejected() {
        for junk in [
            &b""[..],
            b"abc",
            b"12,34",
            b"1.2.3",
            b"NaN",
            b"inf",
            b"1e",
            b"e5",
            b"1e-40",
            b"\xff",
            b"NULL",
        ] {
            assert_eq!(
                parse_amount(junk),
                None,
                "{:?}",
                String::from_utf8_lossy(junk)
            );
        }
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        assert_eq!(canonical(d("-0.00")).to_string(), "0.00");
    }
}
