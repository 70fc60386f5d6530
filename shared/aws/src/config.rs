//! The function's configuration: one typed struct read from the environment at start-up.

use crate::read_budget::ReadRate;
use crate::s3_read::RangedReads;
use crate::store::TableNames;
use billwatch_core::report::Limits;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub tables: TableNames,
    /// Where alerts are published; without it budgets are evaluated but nothing is sent.
    pub topic_arn: Option<String>,
    /// Where alerts also go in AWS Chatbot's custom-notification format (optional).
    pub chat_topic_arn: Option<String>,
    /// Where the functions write the month pages that alerts link to
    /// (`BILLWATCH_PAGES_BUCKET`); unset: alerts go without a page.
    pub pages_bucket: Option<String>,
    /// The billing bucket; events from any other bucket are skipped.
    pub bucket: Option<String>,
    /// Where in the bucket the reports are (`BILLWATCH_REPORT_PREFIX`, the template's
    /// ReportPrefix): keys outside it are skipped. The trigger filters on it already; this keeps
    /// the function to what its role may read whichever way an event arrives.
    pub report_prefix: Option<String>,
    pub limits: Limits,
    /// How large objects are read from S3: objects over `BILLWATCH_S3_RANGED_OVER_BYTES` in
    /// ranges of `BILLWATCH_S3_RANGE_BYTES`, `BILLWATCH_S3_RANGES_IN_FLIGHT` at once.
    pub s3_reads: RangedReads,
    /// The function's memory setting (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB): with the engine's
    /// rate, it says whether a report can be read in the time an invocation has left. Unknown
    /// outside Lambda; then 1 vCPU's worth is assumed.
    pub memory_mb: Option<u32>,
    pub read_rate: ReadRate,
    /// The CloudWatch namespace of the function's EMF metrics (`BILLWATCH_METRICS_NAMESPACE`);
    /// unset: no metric lines.
    pub metrics_namespace: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {name}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub reason: String,
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match optional(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError {
            name: name.into(),
            reason: format!("'{v}' is not a whole number"),
        }),
    }
}

impl Config {
    /// The topics alerts are sent to.
    pub fn topics(&self) -> crate::notify::Topics<'_> {
        crate::notify::Topics {
            alerts: self.topic_arn.as_deref(),
            chat: self.chat_topic_arn.as_deref(),
            channels: None,
            pages: None,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Limits::default();
        let memory_mb = optional("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .map(|_| number("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0u32))
            .transpose()?;
        Ok(Self {
            tables: TableNames::from_env(),
            topic_arn: optional("BILLWATCH_ALERT_TOPIC_ARN"),
            chat_topic_arn: optional("BILLWATCH_CHAT_TOPIC_ARN"),
            pages_bucket: optional("BILLWATCH_PAGES_BUCKET"),
            bucket: optional("BILLWATCH_BUCKET"),
            report_prefix: optional("BILLWATCH_REPORT_PREFIX"),
            limits: Limits {
                max_decompressed_bytes: number(
                    "BILLWATCH_MAX_DECOMPRESSED_BYTES",
                    d.max_decompressed_bytes,
                )?,
                max_ratio: number("BILLWATCH_MAX_RATIO", d.max_ratio)?,
                max_zip_entries: number("BILLWATCH_MAX_ZIP_ENTRIES", d.max_zip_entries)?,
                max_record_bytes: number("BILLWATCH_MAX_RECORD_BYTES", d.max_record_bytes)?,
                max_spool_bytes: number("BILLWATCH_MAX_SPOOL_BYTES", d.max_spool_bytes)?,
                // As many distinct totals as the function's memory holds: past them a report
                // fails at once, naming the memory to set, instead of being killed.
                max_keys: memory_mb.map_or(d.max_keys, Limits::keys_for_memory),
                max_keys_memory_mb: memory_mb.unwrap_or(0),
                ..d
            },
            s3_reads: {
                let r = RangedReads::default();
                RangedReads::new(
                    number("BILLWATCH_S3_RANGED_OVER_BYTES", r.threshold)?,
                    number("BILLWATCH_S3_RANGE_BYTES", r.range_size)?,
                    number("BILLWATCH_S3_RANGES_IN_FLIGHT", r.in_flight)?,
                )
            },
            memory_mb,
            read_rate: ReadRate::default(),
            metrics_namespace: optional("BILLWATCH_METRICS_NAMESPACE"),
        })
    }
}
