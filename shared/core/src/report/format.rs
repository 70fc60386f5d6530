//! Which report a stream is: by the object key's pattern and by the header.

use super::header::Header;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    LegacyMonthly,
    LegacyCostAllocation,
    Dbr,
    DbrResourcesTags,
    #[serde(rename = "cur1")]
    Cur1,
    #[serde(rename = "cur2")]
    Cur2,
    Focus,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::LegacyMonthly,
        Format::LegacyCostAllocation,
        Format::Dbr,
        Format::DbrResourcesTags,
        Format::Cur1,
        Format::Cur2,
        Format::Focus,
    ];

    /// The format whose [`Format::name`] is `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How much a format is trusted as the period's source when several reach the bucket:
    /// CUR and FOCUS (line items, daily) above DBR above the monthly CSV above cost allocation.
    pub fn rank(self) -> u8 {
        match self {
            Format::Cur1 | Format::Cur2 | Format::Focus => 3,
            Format::Dbr | Format::DbrResourcesTags => 2,
            Format::LegacyMonthly => 1,
            Format::LegacyCostAllocation => 0,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::LegacyMonthly => "legacy-monthly",
            Format::LegacyCostAllocation => "legacy-cost-allocation",
            Format::Dbr => "dbr",
            Format::DbrResourcesTags => "dbr-resources-tags",
            Format::Cur1 => "cur1",
            Format::Cur2 => "cur2",
            Format::Focus => "focus",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [
            Format::LegacyMonthly,
            Format::LegacyCostAllocation,
            Format::Dbr,
            Format::DbrResourcesTags,
            Format::Cur1,
            Format::Cur2,
            Format::Focus,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }

    /// Formats read by the same row logic (the parts of one manifest must share it).
    pub fn family(self) -> Family {
        match self {
            Format::LegacyMonthly | Format::LegacyCostAllocation => Family::Legacy,
            Format::Dbr | Format::DbrResourcesTags => Family::Dbr,
            Format::Cur1 | Format::Cur2 => Family::Cur,
            Format::Focus => Family::Focus,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Legacy,
    Dbr,
    Cur,
    Focus,
}

/// What an object key says about the report, before a byte is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyInfo {
    pub format: Option<Format>,
    pub payer: Option<String>,
    pub period: Option<crate::period::Period>,
    pub manifest: bool,
}

const LEGACY_KINDS: &[(&str, Format)] = &[
    ("aws-billing-csv-", Format::LegacyMonthly),
    ("aws-cost-allocation-", Format::LegacyCostAllocation),
    (
        "aws-billing-detailed-line-items-with-resources-and-tags-",
        Format::DbrResourcesTags,
    ),
    ("aws-billing-detailed-line-items-", Format::Dbr),
];

/// Reads the key: legacy names `<payer12>-aws-…-[ENTITY-]YYYY-MM.csv[.zip]`, and manifests
/// (`*.json`).
pub fn key_info(key: &str) -> KeyInfo {
    let name = key.rsplit('/').next().unwrap_or(key);
    // AWS names manifests `<report>-Manifest.json`; any JSON object is read as a manifest.
    if name.to_ascii_lowercase().ends_with(".json") {
        return KeyInfo {
            manifest: true,
            ..KeyInfo::default()
        };
    }
    legacy_key(name).unwrap_or_default()
}

fn legacy_key(name: &str) -> Option<KeyInfo> {
    let payer = name.get(..12)?;
    if !payer.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = name.get(12..)?.strip_prefix('-')?;
    let (prefix, format) = LEGACY_KINDS.iter().find(|(p, _)| rest.starts_with(p))?;
    let tail = &rest[prefix.len()..];
    let stem = [".csv.zip", ".csv.gz", ".csv", ".zip"]
        .iter()
        .find_map(|ext| tail.strip_suffix(ext))?;
    // Optional billing-entity infix such as `AISPL-`, then `YYYY-MM`.
    let period = stem.get(stem.len().checked_sub(7)?..)?;
    let infix = &stem[..stem.len() - 7];
    let infix_ok = infix.is_empty()
        || (infix.ends_with('-')
            && infix.len() > 1
            && infix[..infix.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_uppercase()));
    let Ok(period) = period.parse::<crate::period::Period>() else {
        return None;
    };
    if !infix_ok {
        return None;
    }
    Some(KeyInfo {
        format: Some(*format),
        payer: Some(payer.to_string()),
        period: Some(period),
        manifest: false,
    })
}

/// Classifies a header row. `hint` is the key's format; `had_comment` tells whether free text
/// preceded the header (the cost allocation report's first line).
pub fn classify(header: &Header, hint: Option<Format>, had_comment: bool) -> Option<Format> {
    if header.has("lineItem/UnblendedCost") {
        return Some(Format::Cur1);
    }
    if header.has("line_item_unblended_cost") {
        return Some(Format::Cur2);
    }
    if header.has("BilledCost") && (header.has("SubAccountId") || header.has("BillingCurrency")) {
        return Some(Format::Focus);
    }
    if !header.has("RecordType") {
        return None;
    }
    if header.has("TotalCost") {
        return Some(match hint {
            Some(f @ (Format::LegacyMonthly | Format::LegacyCostAllocation)) => f,
            _ if had_comment || header.has("AvailabilityZone") => Format::LegacyCostAllocation,
            _ => Format::LegacyMonthly,
        });
    }
    if header.has("UnBlendedCost") || header.has("BlendedCost") || header.has("Cost") {
        return Some(if header.has("ResourceId") {
            Format::DbrResourcesTags
        } else {
            Format::Dbr
        });
    }
    None
}

/// When [`classify`] finds no format but the header is clearly one (several of its own column
/// names), the column it lacks: so the error says "missing required column 'TotalCost'" rather
/// than "not a recognised billing report".
pub fn missing_column(header: &Header) -> Option<&'static str> {
    let count = |names: &[&str]| names.iter().filter(|n| header.has(n)).count();
    const CUR1: &[&str] = &[
        "identity/LineItemId",
        "bill/PayerAccountId",
        "bill/BillingPeriodStartDate",
        "lineItem/UsageAccountId",
        "lineItem/LineItemType",
        "lineItem/ProductCode",
        "lineItem/CurrencyCode",
    ];
    const CUR2: &[&str] = &[
        "identity_line_item_id",
        "bill_payer_account_id",
        "bill_billing_period_start_date",
        "line_item_usage_account_id",
        "line_item_line_item_type",
        "line_item_product_code",
        "line_item_currency_code",
    ];
    const FOCUS: &[&str] = &[
        "BillingAccountId",
        "SubAccountId",
        "ServiceName",
        "BillingCurrency",
        "ChargeCategory",
        "BillingPeriodStart",
        "ChargePeriodStart",
        "EffectiveCost",
        "ListCost",
    ];
    const LEGACY: &[&str] = &[
        "InvoiceID",
        "PayerAccountId",
        "LinkedAccountId",
        "ProductCode",
        "ProductName",
        "UsageStartDate",
        "TotalCost",
        "UnBlendedCost",
        "BlendedCost",
    ];
    if count(CUR1) >= 2 {
        return Some("lineItem/UnblendedCost");
    }
    if count(CUR2) >= 2 {
        return Some("line_item_unblended_cost");
    }
    if count(FOCUS) >= 3 {
        return Some(if header.has("BilledCost") {
            "SubAccountId"
        } else {
            "BilledCost"
        });
    }
    if header.has("RecordType") {
        // Monthly reports carry ProductCode and CurrencyCode; DBRs carry neither.
        return Some(if header.has("ProductCode") || header.has("CurrencyCode") {
            "TotalCost"
        } else {
            "UnBlendedCost"
        });
    }
    (count(LEGACY) >= 3).then_some("RecordType")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_keys_give_format_payer_and_period() {
        let k = key_info("bills/123456789012-aws-billing-csv-2014-05.csv");
        assert_eq!(k.format, Some(Format::LegacyMonthly));
        assert_eq!(k.payer.as_deref(), Some("123456789012"));
        assert_eq!(k.period.map(|p| p.to_string()).as_deref(), Some("2014-05"));
        let k = key_info("239874210271-aws-billing-detailed-line-items-with-resources-and-tags-AISPL-2017-01.csv.zip");
        assert_eq!(k.format, Some(Format::DbrResourcesTags));
        assert_eq!(k.period.map(|p| p.to_string()).as_deref(), Some("2017-01"));
        let k = key_info("012345678901-aws-billing-detailed-line-items-2015-03.csv.zip");
        assert_eq!(k.format, Some(Format::Dbr));
        assert_eq!(k.payer.as_deref(), Some("012345678901"));
        let k = key_info("123456789012-aws-cost-allocation-2014-06.csv");
        assert_eq!(k.format, Some(Format::LegacyCostAllocation));
    }

    #[test]
    fn other_keys_say_nothing_or_manifest() {
        assert_eq!(key_info("notes/readme.txt"), KeyInfo::default());
        assert_eq!(
            key_info("12345678901-aws-billing-csv-2014-05.csv"),
            KeyInfo::default()
        );
        assert_eq!(
            key_info("123456789012-aws-billing-csv-aispl-2014-05.csv"),
            KeyInfo::default()
        );
        assert_eq!(
            key_info("123456789012-aws-billing-csv-2014-13.csv"),
            KeyInfo::default()
        );
        assert!(key_info("cur/r/20261101-20261201/r-Manifest.json").manifest);
        assert!(key_info("p/e/metadata/BILLING_PERIOD=2026-11/e-Manifest.json").manifest);
    }

    #[test]
    fn headers_classify() {
        let h = |names: &[&str]| Header::from_names(names);
        assert_eq!(
            classify(
                &h(&["identity/LineItemId", "lineItem/UnblendedCost"]),
                None,
                false
            ),
            Some(Format::Cur1)
        );
        assert_eq!(
            classify(&h(&["line_item_unblended_cost"]), None, false),
            Some(Format::Cur2)
        );
        assert_eq!(
            classify(&h(&["BilledCost", "SubAccountId"]), None, false),
            Some(Format::Focus)
        );
        let monthly = h(&["InvoiceID", "RecordType", "TotalCost"]);
        assert_eq!(classify(&monthly, None, false), Some(Format::LegacyMonthly));
        assert_eq!(
            classify(&monthly, None, true),
            Some(Format::LegacyCostAllocation)
        );
        assert_eq!(
            classify(&monthly, Some(Format::LegacyCostAllocation), false),
            Some(Format::LegacyCostAllocation)
        );
        assert_eq!(
            classify(
                &h(&["RecordType", "UnBlendedCost", "ResourceId"]),
                None,
                false
            ),
            Some(Format::DbrResourcesTags)
        );
        assert_eq!(
            classify(&h(&["RecordType", "Rate", "Cost"]), None, false),
            Some(Format::Dbr)
        );
        assert_eq!(classify(&h(&["date", "amount"]), None, false), None);
    }

    #[test]
    fn clear_headers_name_the_column_they_lack() {
        let h = |names: &[&str]| Header::from_names(names);
        assert_eq!(
            missing_column(&h(&["identity/LineItemId", "lineItem/UsageAccountId"])),
            Some("lineItem/UnblendedCost")
        );
        assert_eq!(
            missing_column(&h(&[
                "line_item_usage_account_id",
                "line_item_product_code"
            ])),
            Some("line_item_unblended_cost")
        );
        assert_eq!(
            missing_column(&h(&["SubAccountId", "ServiceName", "BillingCurrency"])),
            Some("BilledCost")
        );
        assert_eq!(
            missing_column(&h(&["RecordType", "ProductCode", "CostBeforeTax"])),
            Some("TotalCost")
        );
        assert_eq!(
            missing_column(&h(&["RecordType", "ProductName", "Rate"])),
            Some("UnBlendedCost")
        );
        assert_eq!(
            missing_column(&h(&["InvoiceID", "PayerAccountId", "TotalCost"])),
            Some("RecordType")
        );
        assert_eq!(missing_column(&h(&["date", "amount", "ServiceName"])), None);
    }
}
