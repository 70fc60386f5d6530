//! Amounts: exact decimals parsed straight from report bytes. Never a float.

use rust_decimal::Decimal;

/// The most significant digits a [`Decimal`] holds (its 96-bit mantissa holds every 28-digit
/// number and some of 29).
const MAX_DIGITS: usize = 29;
/// The largest scale a [`Decimal`] can carry.
const MAX_SCALE: u32 = 28;

/// Parses an amount such as `148.770000`, `-2.61370000000`, `1.0E+7` or `4E-8` exactly.
/// Surrounding ASCII spaces are ignored. Returns `None` for anything else (empty included):
/// one optional sign, digits with at most one `.`, then optionally `e`/`E`, one optional sign
/// and at most 10 digits. Work is linear in the length: an exponent the decimal type cannot
/// honour exactly (`0E+2147483647`, `1E+29`, `1E-40`) is refused at once, never looped over.
pub fn parse_amount(raw: &[u8]) -> Option<Decimal> {
    let text = raw.trim_ascii();
    if let Some(value) = parse_plain(text) {
        return Some(value);
    }
    parse_general(text)
}

/// [`parse_amount`] for what [`parse_plain`] leaves: exponents, long mantissas, odd spellings.
fn parse_general(text: &[u8]) -> Option<Decimal> {
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e' || b == b'E') {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let unsigned = mantissa
        .strip_prefix(b"-")
        .or_else(|| mantissa.strip_prefix(b"+"));
    let digits = unsigned.unwrap_or(mantissa);
    let mut dots = 0;
    let mut count = 0;
    for &b in digits {
        match b {
            b'0'..=b'9' => count += 1,
            b'.' => dots += 1,
            _ => return None,
        }
    }
    if count == 0 || dots > 1 {
        return None;
    }
    // ASCII digits, one dot and a sign: valid UTF-8.
    let mantissa = std::str::from_utf8(mantissa).ok()?;
    let mantissa = mantissa.strip_prefix('+').unwrap_or(mantissa);
    let value = Decimal::from_str_exact(mantissa).ok()?;
    match exponent {
        None => Some(value),
        Some(exponent) => scale_by(value, parse_exponent(exponent)?),
    }
}

/// The common case, without building a string: an optional sign, at most 18 digits and at most
/// one `.` (so the digits fit an `i64` and the scale is at most 18). `None` for anything else,
/// which [`parse_amount`] then reads the general way.
#[inline]
fn parse_plain(text: &[u8]) -> Option<Decimal> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut mantissa: i64 = 0;
    let mut count = 0;
    let mut dot = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + i64::from(b - b'0');
                count += 1;
            }
            b'.' if dot.is_none() => dot = Some(i),
            _ => return None,
        }
    }
    // A dot at either end, and a negative zero, are left to the general reading.
    if count == 0 || count > 18 || dot == Some(0) || dot == Some(digits.len() - 1) {
        return None;
    }
    if negative && mantissa == 0 {
        return None;
    }
    let scale = dot.map_or(0, |at| digits.len() - at - 1) as u32;
    Some(Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale,
    ))
}

/// An exponent: one optional sign and 1 to 10 digits.
fn parse_exponent(raw: &[u8]) -> Option<i64> {
    let (negative, digits) = match raw.first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits
        .iter()
        .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    Some(if negative { -n } else { n })
}

/// `value × 10^exponent`, exactly, or `None` when the result does not fit a [`Decimal`]. The
/// mantissa's scale is kept where it can be (`1.0E+7` is `10000000.0`, `5.10E-7` is
/// `0.000000510`); trailing zeros are dropped only when that is the one exact way to fit.
fn scale_by(value: Decimal, exponent: i64) -> Option<Decimal> {
    // Anything beyond the digits a Decimal holds can never be exact: refuse before any work.
    if exponent.unsigned_abs() > u64::from(MAX_SCALE) + MAX_DIGITS as u64 {
        return None;
    }
    let shift = |v: Decimal| -> Option<Decimal> {
        if exponent <= 0 {
            let scale = i64::from(v.scale()) - exponent;
            if scale > i64::from(MAX_SCALE) {
                return None;
            }
            let mut out = v;
            out.set_scale(scale as u32).ok()?;
            return Some(out);
        }
        let mut out = v;
        let mut power = exponent as u32;
        while power > 0 {
            let step = power.min(MAX_SCALE);
            out = out.checked_mul(Decimal::from_i128_with_scale(10i128.pow(step), 0))?;
            power -= step;
        }
        // A product past 96 bits is rounded by lowering its scale: not exact.
        (out.scale() == v.scale()).then_some(out)
    };
    shift(value).or_else(|| shift(value.normalize()))
}

/// A sum of money that cannot be held exactly (see [`add_exact`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sum exceeds the exact decimal range")]
pub struct Overflow;

/// Adds `amount` into `total` exactly, leaving `total` untouched on [`Overflow`].
#[inline]
pub fn add_into(total: &mut Decimal, amount: Decimal) -> Result<(), Overflow> {
    *total = add_exact(*total, amount).ok_or(Overflow)?;
    Ok(())
}

/// `a + b` exactly: `None` when the sum overflows the 96-bit mantissa or would have to be
/// rounded to fit (more than 28 significant digits after the point, as `12345678901234567890 +
/// 1e-27`). Every sum of money in the engine goes through here.
#[inline]
pub fn add_exact(a: Decimal, b: Decimal) -> Option<Decimal> {
    if a.scale() == b.scale() {
        // The common case (a report writes one scale): the mantissas' sum, exact while it fits
        // in 96 bits (two 96-bit mantissas cannot overflow an i128).
        let sum = a.mantissa() + b.mantissa();
        if sum.unsigned_abs() < 1 << 96 {
            return Some(Decimal::from_i128_with_scale(sum, a.scale()));
        }
    }
    add_exact_general(a, b)
}

/// [`add_exact`] for operands of different scales or a sum past 96 bits.
fn add_exact_general(a: Decimal, b: Decimal) -> Option<Decimal> {
    let sum = a.checked_add(b)?;
    let scale = sum.scale();
    if scale >= a.scale().max(b.scale()) {
        return Some(sum);
    }
    // rust_decimal lowers the scale of a sum that needs more than 96 bits at the larger scale
    // (rounding it), and hands back the other operand as it is when one is zero. The sum is
    // exact only when both operands are whole numbers at the scale it ended up with.
    (a.round_dp(scale) == a && b.round_dp(scale) == b).then_some(sum)
}

/// `a − b` exactly, as [`add_exact`].
#[inline]
pub fn sub_exact(a: Decimal, b: Decimal) -> Option<Decimal> {
    add_exact(a, -b)
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_fast_reading_agrees_with_the_general_one() {
        use proptest::prelude::*;
        let mut runner =
            proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(4000));
        let text = proptest::collection::vec(
            prop_oneof![
                Just(b'-'),
                Just(b'+'),
                Just(b'.'),
                Just(b'0'),
                Just(b'9'),
                Just(b'5'),
                Just(b'e')
            ],
            0..24,
        );
        runner
            .run(&text, |t| {
                if let Some(fast) = parse_plain(&t) {
                    let general = parse_general(&t);
                    prop_assert_eq!(Some(fast), general);
                    prop_assert_eq!(fast.to_string(), general.unwrap().to_string());
                    prop_assert_eq!(fast.scale(), general.unwrap().scale());
                }
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn the_same_scale_sum_agrees_with_the_general_one() {
        use proptest::prelude::*;
        let mut runner =
            proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(4000));
        // Mantissas anywhere in 96 bits, or near its end (sums that overflow or just fit).
        let mantissa = prop_oneof![
            any::<i64>().prop_map(i128::from),
            (-(1i128 << 96) + 1..1i128 << 96),
            (0..1000i128).prop_map(|k| (1i128 << 96) - 1 - k),
            (0..1000i128).prop_map(|k| -(1i128 << 96) + 1 + k),
        ];
        runner
            .run(&(mantissa.clone(), mantissa, 0..=28u32), |(a, b, scale)| {
                let (a, b) = (
                    Decimal::from_i128_with_scale(a, scale),
                    Decimal::from_i128_with_scale(b, scale),
                );
                let (fast, general) = (add_exact(a, b), add_exact_general(a, b));
                prop_assert_eq!(fast, general);
                prop_assert_eq!(fast.map(|v| v.scale()), general.map(|v| v.scale()));
                Ok(())
            })
            .unwrap();
    }

    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
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
            b"+-1",
            b"-+1",
            b"--1",
            b"1e+-2",
            b"1e--2",
            b"1_000",
            b"1e",
            b"1e12345678901",
            b"0E+2147483647",
            b"1E+58",
            b".",
            b"-",
            b"1 2",
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
    fn exponents_at_the_edge_of_the_range() {
        assert_eq!(parse_amount(b"1.0E-28").unwrap(), d("1e-28"));
        assert_eq!(
            parse_amount(b"1E+28").unwrap(),
            d("10000000000000000000000000000")
        );
        assert_eq!(parse_amount(b"0E+5").unwrap(), Decimal::ZERO);
        assert_eq!(parse_amount(b"-12.5E+1").unwrap(), d("-125"));
        assert_eq!(parse_amount(b"1.25E1").unwrap().to_string(), "12.50");
        assert_eq!(parse_amount(b"1E-29"), None);
        assert_eq!(parse_amount(b"1E+29"), None);
        assert_eq!(parse_amount(b".5").unwrap(), d("0.5"));
    }

    #[test]
    fn sums_are_exact_or_refused() {
        assert_eq!(
            add_exact(d("1.10"), d("2.005")).unwrap().to_string(),
            "3.105"
        );
        assert_eq!(add_exact(Decimal::MAX, d("1")), None);
        assert_eq!(add_exact(d("12345678901234567890"), d("1e-27")), None);
        assert_eq!(add_exact(d("7e28"), d("7e28")), None);
        assert_eq!(sub_exact(Decimal::MIN, d("1")), None);
        assert_eq!(add_exact(d("-1.50"), d("1.5")).unwrap().to_string(), "0.00");
        assert_eq!(add_exact(d("1.5"), d("-0.00")).unwrap(), d("1.5"));
        assert_eq!(add_exact(d("0.000"), d("2")).unwrap(), d("2"));
        // Exact, though the larger scale cannot be kept: 1.00 is 1.
        assert_eq!(
            add_exact(d("1.00"), d("79228162514264337593543950334")).unwrap(),
            Decimal::MAX
        );
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        assert_eq!(canonical(d("-0.00")).to_string(), "0.00");
    }
}
