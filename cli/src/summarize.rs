//! `billwatch summarize [--json] [--bucket-dir DIR] [--period YYYY-MM] INPUT`

use crate::error::CliError;
use crate::table;
use billwatch_aws::s3_read::ReadFailure;
use billwatch_aws::s3_source::S3Source;
use billwatch_core::period::Period;
use billwatch_core::report::source::parse_s3_uri;
use billwatch_core::report::{
    summarize_path_periods, summarize_path_periods_pending, summarize_periods, ErrorKind, Limits,
    Pending, PendingError, ReportError, ReportSummary,
};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Show every digit of each amount in the table instead of rounding to the cent (JSON
    /// always has every digit).
    #[arg(long)]
    exact: bool,
    /// Local folder standing in for the bucket root when INPUT is a manifest.
    #[arg(long, value_name = "DIR")]
    bucket_dir: Option<PathBuf>,
    /// Cap on decompressed bytes per object.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_decompressed_bytes)]
    max_decompressed_bytes: u64,
    /// Cap on the compression ratio (decompressed ÷ compressed).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_ratio)]
    max_ratio: u64,
    /// Cap on entries in a zip archive.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_zip_entries)]
    max_zip_entries: usize,
    /// Cap on the bytes of one CSV record.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_record_bytes)]
    max_record_bytes: u64,
    /// Threads that read the report (its chunks, or a manifest's parts); default: every core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
    /// Only this billing period (YYYY-MM) of a report that spans several (a FOCUS dataset).
    #[arg(long, value_name = "YYYY-MM")]
    period: Option<Period>,
    /// A local path, or s3://bucket/key.
    input: String,
}

impl Args {
    fn limits(&self) -> Limits {
        Limits {
            max_decompressed_bytes: self.max_decompressed_bytes,
            max_ratio: self.max_ratio,
            max_zip_entries: self.max_zip_entries,
            max_record_bytes: self.max_record_bytes,
            threads: self.threads.map_or(Limits::default().threads, usize::from),
            ..Limits::default()
        }
    }
}

pub fn run(ctx: &crate::context::Ctx, args: Args) -> Result<String, CliError> {
    let limits = args.limits();
    if ctx.json(args.json) && parse_s3_uri(&args.input).is_none() {
        return json_streamed(&args, &limits);
    }
    let result = match parse_s3_uri(&args.input) {
        Some((bucket, key)) => {
            // The AWS flags given before the subcommand, if any, over the environment.
            let aws = ctx.block_on(ctx.aws(&crate::aws::AwsArgs::default()))?;
            from_s3(
                ctx.runtime(),
                &aws.config,
                &args.input,
                bucket,
                key,
                &limits,
            )?
        }
        None => summarize_path_periods(
            Path::new(&args.input),
            args.bucket_dir.as_deref(),
            &limits,
            &Default::default(),
        ),
    };
    let mut summaries = result
        .and_then(|all| select(&args.input, all, args.period))
        .map_err(|e| CliError::input(e.to_string()))?;
    Ok(if summaries.len() == 1 {
        let summary = summaries.remove(0);
        if ctx.json(args.json) {
            serde_json::to_string(&summary).expect("a summary always serialises") + "\n"
        } else {
            table::render(&summary, args.exact)
        }
    } else if ctx.json(args.json) {
        // Several periods: one object holding one summary per period.
        serde_json::json!({
            "source": summaries[0].source,
            "format": summaries[0].format,
            "periods": summaries,
        })
        .to_string()
            + "\n"
    } else {
        summaries
            .iter()
            .map(|s| table::render(s, args.exact))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// `--json` of a local report: one summary is written to stdout a total at a time, so that a
/// report with many keys never holds all its totals (or their text) at once; the bytes are
/// those of the summary serialised whole. Several periods are printed as before.
fn json_streamed(args: &Args, limits: &Limits) -> Result<String, CliError> {
    let input = CliError::input;
    let all = summarize_path_periods_pending(
        Path::new(&args.input),
        args.bucket_dir.as_deref(),
        limits,
        &Default::default(),
    )
    .map_err(|e| input(e.to_string()))?;
    let mut pending =
        select_pending(&args.input, all, args.period).map_err(|e| input(e.to_string()))?;
    if pending.len() != 1 {
        let summaries = pending
            .into_iter()
            .map(Pending::into_summary)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| input(e.to_string()))?;
        return Ok(serde_json::json!({
            "source": summaries[0].source,
            "format": summaries[0].format,
            "periods": summaries,
        })
        .to_string()
            + "\n");
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = pending
        .remove(0)
        .write_json(&mut out)
        .and_then(|()| Ok(out.write_all(b"\n").and_then(|()| out.flush())?));
    match written {
        Ok(()) => Ok(String::new()),
        Err(PendingError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::exit(0)
        }
        Err(PendingError::Report(e)) => Err(input(e.to_string())),
        Err(e) => Err(CliError::failed(e.to_string())),
    }
}

/// [`select`] for summaries whose totals are not built yet.
fn select_pending(
    input: &str,
    all: Vec<Pending>,
    period: Option<Period>,
) -> Result<Vec<Pending>, ReportError> {
    let Some(period) = period else {
        return Ok(all);
    };
    let held: Vec<String> = all
        .iter()
        .filter_map(|p| p.summary.billing_period.map(|p| p.to_string()))
        .collect();
    let keep: Vec<_> = all
        .into_iter()
        .filter(|p| p.summary.billing_period == Some(period))
        .collect();
    if keep.is_empty() {
        return Err(missing_period(input, period, &held));
    }
    Ok(keep)
}

/// The summaries to print: all of them, or the one of `--period`.
fn select(
    input: &str,
    all: Vec<ReportSummary>,
    period: Option<Period>,
) -> Result<Vec<ReportSummary>, ReportError> {
    let Some(period) = period else {
        return Ok(all);
    };
    let held: Vec<String> = all
        .iter()
        .filter_map(|s| s.billing_period.map(|p| p.to_string()))
        .collect();
    let one: Vec<_> = all
        .into_iter()
        .filter(|s| s.billing_period == Some(period))
        .collect();
    if one.is_empty() {
        return Err(missing_period(input, period, &held));
    }
    Ok(one)
}

/// `--period` names a period the report does not hold.
fn missing_period(input: &str, period: Period, held: &[String]) -> ReportError {
    ReportError::new(
        input,
        ErrorKind::Invalid(format!(
            "billing period {period} is not in the report (it holds {})",
            if held.is_empty() {
                "no period".to_string()
            } else {
                held.join(", ")
            }
        )),
    )
}

/// The summaries of an S3 object, read through the ingest's bridge (`S3Source::run`). A read
/// that failed on AWS's side (access denied, throttled, no such bucket, unreachable) is an AWS
/// failure in plain words (exit 1); a missing object, like a missing local file, and anything
/// wrong with the report itself are the report's errors (exit 2).
fn from_s3(
    runtime: &tokio::runtime::Runtime,
    config: &aws_config::SdkConfig,
    input: &str,
    bucket: &str,
    key: &str,
    limits: &Limits,
) -> Result<Result<Vec<ReportSummary>, ReportError>, CliError> {
    let client = billwatch_aws::clients::s3(config);
    let source = S3Source::new(client, bucket, runtime.handle().clone());
    let (name, key, limits) = (input.to_string(), key.to_string(), *limits);
    let result = runtime.block_on(async {
        let opened = source
            .open_object(bucket, &key, None)
            .await
            .map_err(|failure| ReportError::new(input, failure.kind(true)))?;
        source
            .run(input, opened, move |opened, parts| {
                summarize_periods(opened, &name, &key, parts, &limits, &Default::default())
            })
            .await
    });
    match result {
        Ok(summaries) => Ok(Ok(summaries)),
        Err(e) => match ReadFailure::of(&e) {
            Some(f) if f.error.code.as_deref() != Some("NoSuchKey") => {
                Err(crate::aws_error::explain(
                    "s3:GetObject",
                    &f.error,
                    Some(&format!("s3://{}/{}", f.bucket, f.key)),
                ))
            }
            _ => Ok(Err(e)),
        },
    }
}
