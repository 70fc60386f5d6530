//! `billwatch generate cur --size-mb N --out FILE`: a synthetic CUR 1.0 report of about N MB,
//! written as a stream (memory stays flat at any size). Deterministic for a given seed.
//!
//! With `--accounts A --services S --days D` it writes instead one usage row per (account,
//! service, day): A × S distinct keys with D usage days each, day by day (every chunk of a day
//! holds other keys, so every reading thread sees most keys), whatever `--size-mb` says. This
//! is the shape of a large organisation's report, for measuring memory per key.

use crate::error::CliError;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Report shape; only `cur` (CUR 1.0 CSV) for now.
    #[arg(value_parser = ["cur"])]
    kind: String,
    /// Approximate size of the CSV in megabytes (10^6 bytes).
    #[arg(long, default_value_t = 10)]
    size_mb: u64,
    /// Gzip the output (multi-part CUR parts are gzip).
    #[arg(long)]
    gzip: bool,
    /// Seed for the pseudo-random rows.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The file to write.
    #[arg(long)]
    out: PathBuf,
    /// Write one row per (account, service, day) for this many accounts (needs `--services`).
    #[arg(long, requires = "services")]
    accounts: Option<u32>,
    /// Distinct service codes per account (with `--accounts`).
    #[arg(long, requires = "accounts")]
    services: Option<u32>,
    /// Usage days per key (with `--accounts`), 1 to 30.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=30))]
    days: u32,
}

const HEADER: &str = "identity/LineItemId,identity/TimeInterval,bill/InvoiceId,bill/InvoicingEntity,bill/BillingEntity,bill/BillType,bill/PayerAccountId,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UsageType,lineItem/Operation,lineItem/AvailabilityZone,lineItem/UsageAmount,lineItem/CurrencyCode,lineItem/UnblendedRate,lineItem/UnblendedCost,lineItem/BlendedRate,lineItem/BlendedCost,lineItem/LineItemDescription,lineItem/TaxType,lineItem/LegalEntity,product/ProductName,product/region,pricing/term,pricing/unit,resourceTags/user:team,reservation/ReservationARN,reservation/UnusedAmortizedUpfrontFeeForBillingPeriod,reservation/UnusedRecurringFee";

const SERVICES: &[(&str, &str, &str)] = &[
    (
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        "BoxUsage:m5.large",
    ),
    (
        "AmazonS3",
        "Amazon Simple Storage Service",
        "TimedStorage-ByteHrs",
    ),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        "InstanceUsage:db.r5.large",
    ),
    ("AWSLambda", "AWS Lambda", "Lambda-GB-Second"),
    ("AmazonDynamoDB", "Amazon DynamoDB", "ReadRequestUnits"),
    (
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        "CW:MetricMonitorUsage",
    ),
    (
        "AWSDataTransfer",
        "AWS Data Transfer",
        "DataTransfer-Out-Bytes",
    ),
    ("awskms", "AWS Key Management Service", "KMS-Requests"),
    (
        "AmazonSNS",
        "Amazon Simple Notification Service",
        "Requests-Tier1",
    ),
    (
        "AmazonEKS",
        "Amazon Elastic Container Service for Kubernetes",
        "AmazonEKS-Hours:perCluster",
    ),
];

/// xorshift64*: tiny, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

pub fn run(args: Args) -> Result<String, CliError> {
    let rows =
        write(&args).map_err(|e| CliError::failed(format!("{}: {e}", args.out.display())))?;
    eprintln!("wrote {rows} rows to {}", args.out.display());
    Ok(String::new())
}

fn write(args: &Args) -> std::io::Result<u64> {
    let file = BufWriter::with_capacity(1 << 20, File::create(&args.out)?);
    if args.gzip {
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let rows = write_rows(&mut gz, args)?;
        gz.finish()?.flush()?;
        Ok(rows)
    } else {
        let mut file = file;
        let rows = write_rows(&mut file, args)?;
        file.flush()?;
        Ok(rows)
    }
}

fn write_rows(out: &mut impl Write, args: &Args) -> std::io::Result<u64> {
    if let (Some(accounts), Some(services)) = (args.accounts, args.services) {
        return write_keys(out, args, accounts, services);
    }
    let target = args.size_mb * 1_000_000;
    let mut rng = Rng(args.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut written = HEADER.len() as u64 + 1;
    writeln!(out, "{HEADER}")?;
    let mut rows = 0u64;
    let mut line = String::with_capacity(1024);
    while written < target {
        let r = rng.next();
        let account = 100_000_000_000 + (r % 25);
        let (code, name, usage) = SERVICES[(r >> 8) as usize % SERVICES.len()];
        let day = 1 + (r >> 16) % 30;
        let hour = (r >> 24) % 24;
        let kind = match (r >> 32) % 100 {
            0 => "Tax",
            1 => "Credit",
            2 => "RIFee",
            _ => "Usage",
        };
        let micro = (r >> 20) % 5_000_000_000;
        let sign = if kind == "Credit" { "-" } else { "" };
        let cost = format!(
            "{sign}{}.{:010}",
            micro / 10_000_000_000,
            micro % 10_000_000_000
        );
        // A reservation's recurring fee carries its unused figures (for amortized cost).
        let reservation = if kind == "RIFee" {
            format!(
                "arn:aws:ec2:us-east-1:{account}:reserved-instances/r-{},0.{:04},0.{:04}",
                r % 3,
                (r >> 40) % 10_000,
                (r >> 44) % 10_000
            )
        } else {
            ",,".to_string()
        };
        line.clear();
        use std::fmt::Write as _;
        let _ = writeln!(
            line,
            "li{r:016x},2026-11-{day:02}T{hour:02}:00:00Z/2026-11-{day:02}T{hour:02}:59:59Z,,\"Amazon Web Services, Inc.\",AWS,Anniversary,100000000000,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,{account},{kind},2026-11-{day:02}T{hour:02}:00:00Z,2026-11-{day:02}T{hour:02}:59:59Z,{code},{usage},RunInstances,us-east-1a,1.0000000000,USD,0.0960000000,{cost},0.0960000000,{cost},\"{name} usage, synthetic\",,\"Amazon Web Services, Inc.\",{name},us-east-1,OnDemand,Hrs,team-{t},{reservation}",
            t = r % 7
        );
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        rows += 1;
    }
    Ok(rows)
}

/// One usage row per (account, service, day): `accounts` × `services` keys, `args.days` days
/// each, day by day. Every 16th row is a discount (a second part), costs are pseudo-random.
fn write_keys(
    out: &mut impl Write,
    args: &Args,
    accounts: u32,
    services: u32,
) -> std::io::Result<u64> {
    use std::fmt::Write as _;
    let mut rng = Rng(args.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    writeln!(out, "{HEADER}")?;
    let mut rows = 0u64;
    let mut line = String::with_capacity(1024);
    for d in 0..args.days {
        // Spread over the month: days 1 and 30 for two, 1..=30 for thirty.
        let day = 1 + d * 29 / (args.days - 1).max(1);
        for a in 0..accounts {
            let account = 200_000_000_000u64 + u64::from(a);
            for s in 0..services {
                let r = rng.next();
                let hour = r % 24;
                let (kind, sign) = if r >> 60 == 0 {
                    ("EdpDiscount", "-")
                } else {
                    ("Usage", "")
                };
                let micro = (r >> 20) % 5_000_000_000;
                line.clear();
                let _ = writeln!(
                    line,
                    "li{r:016x},2026-11-{day:02}T{hour:02}:00:00Z/2026-11-{day:02}T{hour:02}:59:59Z,,\"Amazon Web Services, Inc.\",AWS,Anniversary,100000000000,2026-11-01T00:00:00.000Z,2026-12-01T00:00:00.000Z,{account},{kind},2026-11-{day:02}T{hour:02}:00:00Z,2026-11-{day:02}T{hour:02}:59:59Z,Svc{s:04},Usage{s},Run,us-east-1a,1.0000000000,USD,0.0960000000,{sign}0.{micro:010},0.0960000000,{sign}0.{micro:010},,,\"Amazon Web Services, Inc.\",Synthetic Service {s:04},us-east-1,OnDemand,Hrs,team-{t},,,",
                    t = r % 7
                );
                out.write_all(line.as_bytes())?;
                rows += 1;
            }
        }
    }
    Ok(rows)
}
