//! Where a budget's filter and measure read in a report's header: the column (or the key of a
//! JSON map column) of each dimension, tag and cost category per format, and the columns each
//! cost type and usage unit needs; and how one cell of a filtered column is judged for every
//! budget at once (as bit sets).

use super::error::RowError;
use super::header::{Col, Header};
use crate::budget::cost::Field;
use crate::budget::filter::{Dimension, Keyed, Source};
use crate::budget::spec::Spec;

/// Which report's columns a pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Cur1,
    Cur2,
    Focus,
}

pub type Bits = Vec<u64>;

pub fn words(n: usize) -> usize {
    n.div_ceil(64)
}

pub fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

/// Where one source's value sits in the header bound last.
#[derive(Debug, Clone)]
pub enum Place {
    /// A column's cell; the second column when the first is empty (FOCUS `x_ServiceCode`, then
    /// `ServiceName`).
    Column(usize, Option<usize>),
    /// A key of a JSON map column (CUR 2.0 `resource_tags`, FOCUS `Tags`), tried in order.
    MapKey(usize, Vec<String>),
    /// Not in this report: why.
    Absent(String),
}

/// The columns a measure reads, bound to the last header.
#[derive(Debug, Clone, Default)]
pub struct MeasureCols {
    pub item_type: Option<Col>,
    pub product_code: Option<Col>,
    pub reservation_arn: Option<Col>,
    pub payment_option: Option<Col>,
    /// Each figure's column, indexed by `Field as usize`.
    pub figures: [Option<Col>; Field::ALL.len()],
    pub usage_amount: Option<Col>,
    pub unit: Option<Col>,
    // FOCUS
    pub effective: Option<Col>,
    pub category: Option<Col>,
    pub class: Option<Col>,
    pub frequency: Option<Col>,
    pub service_name: Option<Col>,
}

/// Judges one raw cell of `source` for every spec: (lets through, excludes) as bits.
pub fn judge(specs: &[Spec], source: &Source, place: &Place, raw: &[u8]) -> (Bits, Bits) {
    let value = match place {
        Place::MapKey(_, keys) => map_value(raw, keys),
        _ => String::from_utf8_lossy(raw).into_owned(),
    };
    let n = words(specs.len());
    let (mut inc, mut exc) = (vec![0; n], vec![0; n]);
    for (i, spec) in specs.iter().enumerate() {
        let (passes, excludes) = spec.filter.judge(source, &value);
        if passes {
            set(&mut inc, i);
        }
        if excludes {
            set(&mut exc, i);
        }
    }
    (inc, exc)
}

/// The value of the first of `keys` in a JSON map cell (`{"user_team":"data"}`), or `""` when
/// the cell is empty, not a map, or names none of them (untagged).
fn map_value(raw: &[u8], keys: &[String]) -> String {
    let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(raw) else {
        return String::new();
    };
    keys.iter()
        .find_map(|k| match map.get(k)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
        .unwrap_or_default()
}

/// Where `source` is in `header`, for a report of `flavor`.
pub fn place_of(header: &Header, flavor: Flavor, source: &Source) -> Place {
    let find = |name: &str| header.names().iter().position(|n| n == name);
    let column = |names: &[&str], what: &str| match names.iter().find_map(|n| find(n)) {
        Some(i) => Place::Column(i, None),
        None => Place::Absent(format!(
            "the report has no {what} column ({}), which the filter reads",
            names.join(" or ")
        )),
    };
    match (source, flavor) {
        (Source::Plain(d), Flavor::Cur1) => {
            let names: &[&str] = match d {
                Dimension::Account => &["lineItem/UsageAccountId"],
                Dimension::Service => &["lineItem/ProductCode"],
                Dimension::Region => &["product/region", "product/regionCode"],
                Dimension::UsageType => &["lineItem/UsageType"],
                Dimension::Operation => &["lineItem/Operation"],
            };
            column(names, d.key())
        }
        (Source::Plain(d), Flavor::Cur2) => {
            let names: &[&str] = match d {
                Dimension::Account => &["line_item_usage_account_id"],
                Dimension::Service => &["line_item_product_code"],
                Dimension::Region => &["product_region_code", "product_region"],
                Dimension::UsageType => &["line_item_usage_type"],
                Dimension::Operation => &["line_item_operation"],
            };
            column(names, d.key())
        }
        (Source::Plain(Dimension::Service), Flavor::Focus) => {
            match (find("x_ServiceCode"), find("ServiceName")) {
                (Some(a), b) => Place::Column(a, b),
                (None, Some(b)) => Place::Column(b, None),
                (None, None) => column(&["x_ServiceCode", "ServiceName"], "services"),
            }
        }
        (Source::Plain(d), Flavor::Focus) => {
            let names: &[&str] = match d {
                Dimension::Account => &["SubAccountId"],
                Dimension::Region => &["RegionId", "Region"],
                Dimension::UsageType => &["x_UsageType"],
                Dimension::Operation => &["x_Operation"],
                Dimension::Service => unreachable!("matched above"),
            };
            column(names, d.key())
        }
        (Source::Keyed(kind, name), flavor) => keyed_place(header, flavor, *kind, name),
    }
}

fn keyed_place(header: &Header, flavor: Flavor, kind: Keyed, name: &str) -> Place {
    let find = |n: &str| header.names().iter().position(|h| h == n);
    let absent = || {
        Place::Absent(
            crate::budget::filter::Unanswerable {
                kind,
                name: name.to_string(),
            }
            .to_string(),
        )
    };
    match (flavor, kind) {
        (Flavor::Cur1, Keyed::Tag) => {
            let column = if name.contains(':') {
                format!("resourceTags/{name}")
            } else {
                format!("resourceTags/user:{name}")
            };
            find(&column).map_or_else(absent, |i| Place::Column(i, None))
        }
        (Flavor::Cur1, Keyed::CostCategory) => {
            find(&format!("costCategory/{name}")).map_or_else(absent, |i| Place::Column(i, None))
        }
        (Flavor::Cur2, Keyed::Tag) => find("resource_tags").map_or_else(absent, |i| {
            let key = if name.contains(':') {
                name.replace(':', "_")
            } else {
                format!("user_{name}")
            };
            Place::MapKey(i, vec![key])
        }),
        (Flavor::Cur2, Keyed::CostCategory) => {
            find("cost_category").map_or_else(absent, |i| Place::MapKey(i, vec![name.to_string()]))
        }
        (Flavor::Focus, Keyed::Tag) => find("Tags").map_or_else(absent, |i| {
            Place::MapKey(i, vec![name.to_string(), format!("user:{name}")])
        }),
        (Flavor::Focus, Keyed::CostCategory) => find("x_CostCategories")
            .map_or_else(absent, |i| Place::MapKey(i, vec![name.to_string()])),
    }
}

pub fn measure_cols(h: &Header, flavor: Flavor) -> Result<MeasureCols, RowError> {
    Ok(match flavor {
        Flavor::Cur1 | Flavor::Cur2 => {
            let cur1 = flavor == Flavor::Cur1;
            let pick = |a: &'static str, b: &'static str| if cur1 { a } else { b };
            let mut figures = [None; Field::ALL.len()];
            for f in Field::ALL {
                let (one, two) = f.column();
                figures[f as usize] = h.optional(pick(one, two))?;
            }
            MeasureCols {
                item_type: h.optional(pick("lineItem/LineItemType", "line_item_line_item_type"))?,
                product_code: h.optional(pick("lineItem/ProductCode", "line_item_product_code"))?,
                reservation_arn: if cur1 {
                    h.optional("reservation/ReservationARN")?
                } else {
                    h.first_of(&[
                        "reservation_reservation_a_r_n",
                        "reservation_reservation_arn",
                    ])?
                },
                payment_option: h.optional(pick(
                    "savingsPlan/PaymentOption",
                    "savings_plan_payment_option",
                ))?,
                figures,
                usage_amount: h.optional(pick("lineItem/UsageAmount", "line_item_usage_amount"))?,
                unit: h.optional(pick("pricing/unit", "pricing_unit"))?,
                ..MeasureCols::default()
            }
        }
        Flavor::Focus => MeasureCols {
            effective: h.optional("EffectiveCost")?,
            category: h.optional("ChargeCategory")?,
            class: h.optional("ChargeClass")?,
            frequency: h.optional("ChargeFrequency")?,
            service_name: h.optional("ServiceName")?,
            usage_amount: h.optional("ConsumedQuantity")?,
            unit: h.optional("ConsumedUnit")?,
            ..MeasureCols::default()
        },
    })
}
