//! An exact sum that is cheap to add to, for the budgets' per-line values: a value with at most
//! ten decimals is added as an integer of ten-billionths (`i128`, one machine addition), anything
//! else (more decimals, a sum past `i128`) into an exact `Decimal` beside it.

use rust_decimal::Decimal;

const SCALE: u32 = 10;
const POW10: [i128; 11] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
];

/// An exact sum: ten-billionths as an integer, and an exact decimal for what does not fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sum {
    fixed: i128,
    rest: Decimal,
}

/// A value as a sum adds it: ten-billionths when it has at most ten decimals (and fits), else
/// the exact decimal. Worked out once per line, then added to every budget it counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixed {
    Tenbillionths(i128),
    Exact(Decimal),
}

impl Fixed {
    #[inline]
    pub fn of(v: Decimal) -> Fixed {
        let scale = v.scale();
        if scale <= SCALE {
            if let Some(m) = v.mantissa().checked_mul(POW10[(SCALE - scale) as usize]) {
                return Fixed::Tenbillionths(m);
            }
        }
        Fixed::Exact(v)
    }
}

/// A sum too large to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow;

impl Sum {
    /// Adds a value worked out beforehand ([`Fixed::of`]).
    #[inline]
    pub fn add_fixed(&mut self, v: &Fixed) -> Result<(), Overflow> {
        match *v {
            Fixed::Tenbillionths(m) => match self.fixed.checked_add(m) {
                Some(f) => {
                    self.fixed = f;
                    Ok(())
                }
                None => {
                    self.rest = self.rest.checked_add(fixed_value(m)?).ok_or(Overflow)?;
                    Ok(())
                }
            },
            Fixed::Exact(d) => {
                self.rest = self.rest.checked_add(d).ok_or(Overflow)?;
                Ok(())
            }
        }
    }

    /// Adds another sum.
    pub fn absorb(&mut self, other: Sum) -> Result<(), Overflow> {
        match self.fixed.checked_add(other.fixed) {
            Some(f) => self.fixed = f,
            None => {
                self.rest = self
                    .rest
                    .checked_add(fixed_value(other.fixed)?)
                    .ok_or(Overflow)?
            }
        }
        self.rest = self.rest.checked_add(other.rest).ok_or(Overflow)?;
        Ok(())
    }

    /// The exact value.
    pub fn value(&self) -> Result<Decimal, Overflow> {
        fixed_value(self.fixed)?
            .checked_add(self.rest)
            .ok_or(Overflow)
    }
}

/// Ten-billionths as a decimal, trailing zeros dropped (so that it fits a `Decimal` whenever the
/// value does).
fn fixed_value(mut fixed: i128) -> Result<Decimal, Overflow> {
    let mut scale = SCALE;
    while scale > 0 && fixed % 10 == 0 {
        fixed /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(fixed, scale).map_err(|_| Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn sums_are_exact_whatever_the_scale() {
        let mut s = Sum::default();
        for v in [
            "0.1",
            "0.2",
            "-0.3",
            "1.0000000001",
            "0.00000000001",
            "123456789.5",
        ] {
            s.add_fixed(&Fixed::of(d(v))).unwrap();
        }
        assert_eq!(
            s.value().unwrap(),
            d("0.1") + d("0.2") - d("0.3")
                + d("1.0000000001")
                + d("0.00000000001")
                + d("123456789.5")
        );
        // Past i128 at ten decimals the rest is exact too.
        let mut big = Sum::default();
        big.add_fixed(&Fixed::of(Decimal::MAX)).unwrap();
        big.add_fixed(&Fixed::of(d("-1"))).unwrap();
        assert_eq!(big.value().unwrap(), Decimal::MAX - Decimal::ONE);
        // A value worked out once adds as the decimal does.
        let mut f = Sum::default();
        for v in ["0.1", "0.000000000001", "-7.25", "1234567890.12345678901"] {
            f.add_fixed(&Fixed::of(d(v))).unwrap();
        }
        assert_eq!(
            f.value().unwrap(),
            d("0.1") + d("0.000000000001") - d("7.25") + d("1234567890.12345678901")
        );
        assert!(matches!(Fixed::of(d("0.000000000001")), Fixed::Exact(_)));
        let mut a = Sum::default();
        a.add_fixed(&Fixed::of(d("2.5"))).unwrap();
        let mut b = Sum::default();
        b.add_fixed(&Fixed::of(d("0.00000000001"))).unwrap();
        a.absorb(b).unwrap();
        assert_eq!(a.value().unwrap(), d("2.50000000001"));
    }
}
