//! Reading objects from S3 as the engine does (`S3Source`), against the local emulator: large
//! objects in concurrent byte ranges, byte-identical at every size around a range's edges, a
//! failed range retried, a failure's class carried in the error the engine sees, and a read
//! pinned to one version of the object (an overwrite between ranges is refused, never mixed
//! in).
//!
//! The throughput of one stream against ranged reads is measured by an ignored test (see
//! docs/scale.md, "Reading from S3"):
//! `./scripts/test --release -p billwatch-tests --test s3_reads -- --ignored --nocapture`

use aws_sdk_s3::primitives::ByteStream;
use billwatch_aws::error::ErrorClass;
use billwatch_aws::s3_read::{RangedReads, ReadFailure};
use billwatch_aws::s3_source::S3Source;
use billwatch_core::report::{summarize_periods, Limits, Opened, ReportError, ReportSummary};
use billwatch_tests::faults::{Fault, FaultPlan, OpMatch, Rng, When};
use billwatch_tests::Stack;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

const RANGE: u64 = 64 << 10;

fn bytes(len: u64, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

async fn put(stack: &Stack, key: &str, body: Vec<u8>) {
    stack
        .s3
        .put_object()
        .bucket(&stack.bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

fn stream(opened: Opened) -> Box<dyn Read + Send> {
    match opened {
        Opened::Stream(s) => s,
        Opened::File(f) => Box::new(f),
    }
}

/// Opens and reads `key` whole on a blocking thread, as the engine does.
async fn read_all(source: Arc<S3Source>, bucket: &str, key: &str) -> std::io::Result<Vec<u8>> {
    let (bucket, key) = (bucket.to_string(), key.to_string());
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        stream(source.open(&bucket, &key)?).read_to_end(&mut out)?;
        Ok(out)
    })
    .await
    .unwrap()
}

fn get_calls(plan: &FaultPlan) -> usize {
    plan.calls()
        .iter()
        .filter(|c| c.operation == "GetObject")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn ranged_reads_are_byte_identical_around_every_edge() {
    let stack = Stack::new().await;
    // threshold 0: every non-empty object is read in ranges; threshold RANGE: one GET up to it.
    for (threshold, in_flight) in [(0, 3), (RANGE, 2), (0, 1)] {
        let reads = RangedReads::new(threshold, RANGE, in_flight);
        for len in [0, 1, RANGE - 1, RANGE, RANGE + 1, 2 * RANGE, 5 * RANGE + 7] {
            let key = format!("edges/{threshold}-{in_flight}-{len}.bin");
            let body = bytes(len, len);
            put(&stack, &key, body.clone()).await;
            let plan = FaultPlan::new(0);
            let source = S3Source::new(
                plan.clients(&stack.ingest_sdk).s3,
                &stack.bucket,
                tokio::runtime::Handle::current(),
            )
            .with_ranged_reads(reads);
            let read = read_all(Arc::new(source), &stack.bucket, &key)
                .await
                .unwrap();
            assert!(read == body, "{key}: the bytes read differ");
            // The first GET asks for the whole object and serves its first range; each further
            // range is one ranged GET.
            let expected = if reads.is_ranged(len) {
                len.div_ceil(RANGE) as usize
            } else {
                1
            };
            assert_eq!(get_calls(&plan), expected, "{key}: GetObject calls");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_range_is_retried() {
    let stack = Stack::new().await;
    let key = "retry/object.bin";
    let body = bytes(6 * RANGE + 3, 7);
    put(&stack, key, body.clone()).await;
    // A range whose call fails for good at the SDK (three 503s, or a connection dropped before
    // it left), then succeeds when asked again.
    for (fault, attempts) in [(Fault::Http503, 3), (Fault::Drop, 1), (Fault::Reset, 3)] {
        for nth in [2, 4, 7] {
            let plan = FaultPlan::new(0).rule(
                OpMatch::op("S3", "GetObject"),
                When::Nth(nth),
                fault,
                attempts,
            );
            let source = S3Source::new(
                plan.clients(&stack.ingest_sdk).s3,
                &stack.bucket,
                tokio::runtime::Handle::current(),
            )
            .with_ranged_reads(RangedReads::new(0, RANGE, 3));
            let read = read_all(Arc::new(source), &stack.bucket, key).await;
            // A failure would be in the error; there is none.
            let read = read.unwrap_or_else(|e| panic!("{fault:?} at GET {nth}: {e}"));
            assert!(
                read == body,
                "{fault:?} at GET {nth}: the bytes read differ"
            );
            assert_eq!(plan.injected().total(), u64::from(attempts));
            assert_eq!(
                get_calls(&plan),
                7 + 1,
                "{fault:?} at GET {nth}: 7 ranges, 1 retry"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_failing_for_good_keeps_its_class() {
    let stack = Stack::new().await;
    let key = "retry/always.bin";
    let body = bytes(4 * RANGE, 9);
    put(&stack, key, body).await;
    // Every GET after the first fails (a dropped connection): the ranges' retries run out.
    let plan = (2..=64).fold(FaultPlan::new(0), |plan, nth| {
        plan.rule(
            OpMatch::op("S3", "GetObject"),
            When::Nth(nth),
            Fault::Drop,
            1,
        )
    });
    let source = Arc::new(
        S3Source::new(
            plan.clients(&stack.ingest_sdk).s3,
            &stack.bucket,
            tokio::runtime::Handle::current(),
        )
        .with_ranged_reads(RangedReads::new(0, RANGE, 2)),
    );
    let err = read_all(source, &stack.bucket, key)
        .await
        .expect_err("the read fails once the retries run out");
    let failure = ReadFailure::of_io(&err).expect("the failure travels in the error");
    assert_eq!(failure.error.class, ErrorClass::Transient, "{err}");
    assert_eq!(failure.key, key);
    // The first range and at least one range tried 5 times.
    assert!(get_calls(&plan) > 5, "{:?}", plan.calls());

    // A missing object: NotFound for the engine, permanent for the pipeline.
    let clean = Arc::new(S3Source::new(
        stack.s3.clone(),
        &stack.bucket,
        tokio::runtime::Handle::current(),
    ));
    let missing = read_all(clean, &stack.bucket, "retry/missing.bin")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    let failure = ReadFailure::of_io(&missing).expect("the failure travels in the error");
    assert_eq!(failure.error.class, ErrorClass::Permanent);
    assert_eq!(failure.key, "retry/missing.bin");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_overwrite_between_ranges_is_refused_not_mixed() {
    let stack = Stack::new().await;
    let key = "pinned/object.bin";
    let old = bytes(10 * RANGE, 1);
    let new = bytes(10 * RANGE, 2);
    put(&stack, key, old.clone()).await;
    let source = Arc::new(
        S3Source::new(
            stack.s3.clone(),
            &stack.bucket,
            tokio::runtime::Handle::current(),
        )
        .with_ranged_reads(RangedReads::new(0, RANGE, 2)),
    );
    // Open (the first two ranges are asked for), overwrite, then read on: the ranges asked for
    // after the overwrite are of another version.
    let (s, b, k) = (source, stack.bucket.clone(), key.to_string());
    let mut reader = tokio::task::spawn_blocking(move || stream(s.open(&b, &k).unwrap()))
        .await
        .unwrap();
    put(&stack, key, new.clone()).await;
    let read = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map(|_| out)
    })
    .await
    .unwrap();
    let err = read.expect_err("an overwritten object is not read");
    let text = err.to_string();
    assert!(
        text.contains("was replaced while it was being read"),
        "{text}"
    );
    let failure = ReadFailure::of_io(&err).expect("the failure travels in the error");
    assert_eq!(failure.error.code.as_deref(), Some("PreconditionFailed"));
    // A retry reads the new version whole.
    assert!(ErrorClass::Transient == failure.error.class);
    let again = read_all(
        Arc::new(
            S3Source::new(
                stack.s3.clone(),
                &stack.bucket,
                tokio::runtime::Handle::current(),
            )
            .with_ranged_reads(RangedReads::new(0, RANGE, 2)),
        ),
        &stack.bucket,
        key,
    )
    .await
    .unwrap();
    assert!(again == new);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_of_a_named_version_ignores_a_later_overwrite() {
    let stack = Stack::new().await;
    let key = "pinned/versioned.bin";
    let old = bytes(10 * RANGE, 3);
    put(&stack, key, old.clone()).await;
    let version = stack
        .s3
        .head_object()
        .bucket(&stack.bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .version_id()
        .expect("the test bucket is versioned")
        .to_string();
    let source = Arc::new(
        S3Source::new(
            stack.s3.clone(),
            &stack.bucket,
            tokio::runtime::Handle::current(),
        )
        .with_ranged_reads(RangedReads::new(0, RANGE, 2)),
    );
    let opened = source
        .open_object(&stack.bucket, key, Some(&version))
        .await
        .unwrap();
    put(&stack, key, bytes(10 * RANGE, 4)).await;
    let read = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        stream(opened).read_to_end(&mut out).map(|_| out)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(read == old, "the named version is read whole");
}

const CUR1_DIR: &str = "cur/billwatch-hourly/20261101-20261201";
const CUR1_MANIFEST: &str = "cur/billwatch-hourly/20261101-20261201/billwatch-hourly-Manifest.json";

/// Uploads the CUR 1.0 fixture's manifest and the parts named (1, 2) under their keys.
async fn put_cur1(stack: &Stack, parts: &[u32]) {
    let root = billwatch_tests::fixtures().join("bucket/cur1-2026-11");
    stack.upload(CUR1_MANIFEST, &root.join(CUR1_MANIFEST)).await;
    for n in parts {
        let key = cur1_part(*n);
        stack.upload(&key, &root.join(&key)).await;
    }
}

fn cur1_part(n: u32) -> String {
    format!("{CUR1_DIR}/5f0c7a1e-3b8d-4e2a-9c61-0d2f4b8a7e93/billwatch-hourly-{n}.csv.gz")
}

/// The manifest's summaries through the bridge, as the ingest and the CLI read them.
async fn summarize_manifest(
    source: S3Source,
    bucket: &str,
) -> Result<Vec<ReportSummary>, ReportError> {
    let opened = source
        .open_object(bucket, CUR1_MANIFEST, None)
        .await
        .map_err(|f| ReportError::new(CUR1_MANIFEST, f.kind(true)))?;
    source
        .run(CUR1_MANIFEST, opened, |opened, parts| {
            summarize_periods(
                opened,
                CUR1_MANIFEST,
                CUR1_MANIFEST,
                parts,
                &Limits::default(),
                &Default::default(),
            )
        })
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_part_that_fails_keeps_its_class_through_the_engine() {
    let stack = Stack::new().await;
    let source = |s3: aws_sdk_s3::Client| {
        S3Source::new(s3, &stack.bucket, tokio::runtime::Handle::current())
    };
    // A missing part: permanent (a retry cannot help), named, the engine's "cannot open".
    put_cur1(&stack, &[1]).await;
    let err = summarize_manifest(source(stack.s3.clone()), &stack.bucket)
        .await
        .expect_err("a part is missing");
    let failure = ReadFailure::of(&err).expect("the S3 failure is in the engine's error");
    assert_eq!(failure.error.code.as_deref(), Some("NoSuchKey"), "{err}");
    assert_eq!(failure.error.class, ErrorClass::Permanent);
    assert_eq!(failure.key, cur1_part(2));
    assert!(err.to_string().contains("cannot open: NoSuchKey"), "{err}");

    put_cur1(&stack, &[2]).await;
    let read = summarize_manifest(source(stack.s3.clone()), &stack.bucket)
        .await
        .unwrap();
    assert_eq!(read.len(), 1);

    // The parts' GETs (calls 2 and 3; the manifest's is 1) throttled for good at the SDK:
    // transient, so the ingest fails the invocation and Lambda retries it.
    let plan = [2, 3].into_iter().fold(FaultPlan::new(0), |plan, nth| {
        plan.rule(
            OpMatch::op("S3", "GetObject"),
            When::Nth(nth),
            Fault::Http503,
            3,
        )
    });
    let err = summarize_manifest(source(plan.clients(&stack.ingest_sdk).s3), &stack.bucket)
        .await
        .expect_err("the parts cannot be read");
    let failure = ReadFailure::of(&err).expect("the S3 failure is in the engine's error");
    assert_eq!(failure.error.class, ErrorClass::Transient, "{err}");
    assert_eq!(failure.error.status, Some(503), "{err}");
    assert!(failure.key.starts_with(CUR1_DIR) && failure.key.ends_with(".csv.gz"));

    // A read whose time is up stops, permanently (a retry has no more time).
    let late = source(stack.s3.clone()).stopping_at(Some(std::time::SystemTime::now()));
    let err = summarize_manifest(late, &stack.bucket)
        .await
        .expect_err("no time to read");
    let failure = ReadFailure::of(&err).expect("the stop is in the engine's error");
    assert_eq!(
        failure.error.code.as_deref(),
        Some("ReadTimeBudget"),
        "{err}"
    );
    assert_eq!(failure.error.class, ErrorClass::Permanent);
}

/// The read plans measured: one GET, and ranged reads of several shapes.
fn plans() -> Vec<(&'static str, RangedReads)> {
    vec![
        (
            "one GET (single stream)",
            RangedReads::new(u64::MAX, 8 << 20, 1),
        ),
        ("8 MiB x 1", RangedReads::new(0, 8 << 20, 1)),
        ("8 MiB x 2", RangedReads::new(0, 8 << 20, 2)),
        ("4 MiB x 4 (default)", RangedReads::new(0, 4 << 20, 4)),
        ("8 MiB x 4", RangedReads::new(0, 8 << 20, 4)),
        ("8 MiB x 8", RangedReads::new(0, 8 << 20, 8)),
    ]
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Reads `bucket/key` (`len` bytes) with each plan, best of `runs`, and prints MB/s.
async fn measure(client: &aws_sdk_s3::Client, bucket: &str, key: &str, len: u64, runs: usize) {
    for (name, reads) in plans() {
        let mut best = f64::MAX;
        for _ in 0..runs {
            let source = Arc::new(
                S3Source::new(client.clone(), bucket, tokio::runtime::Handle::current())
                    .with_ranged_reads(reads),
            );
            let (bucket, k) = (bucket.to_string(), key.to_string());
            let started = Instant::now();
            let n = tokio::task::spawn_blocking(move || {
                let mut r = stream(source.open(&bucket, &k).unwrap());
                std::io::copy(&mut r, &mut std::io::sink()).unwrap()
            })
            .await
            .unwrap();
            assert_eq!(n, len);
            best = best.min(started.elapsed().as_secs_f64());
        }
        let buffers = if reads.is_ranged(len) {
            reads.max_buffered() >> 20
        } else {
            0
        };
        println!(
            "  {name:<26} {:>7.1} MB/s  ({best:.2} s, buffers <= {buffers} MiB)",
            len as f64 / best / 1e6
        );
    }
}

/// Measures one stream against ranged reads of one large object on the local emulator and
/// prints MB/s (a measurement, not a test: it asserts only that the bytes arrive).
/// `BILLWATCH_BENCH_S3_MIB` sets the object's size (default 256).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn measure_s3_read_throughput_on_the_emulator() {
    let stack = Stack::new().await;
    let mib = env_u64("BILLWATCH_BENCH_S3_MIB", 256);
    let len = mib << 20;
    let key = "bench/object.bin";
    put(&stack, key, bytes(len, 5)).await;
    println!("local emulator (moto), object of {mib} MiB, best of 3:");
    measure(&stack.s3, &stack.bucket, key, len, 3).await;
}

/// The same plans against a local server paced as S3 documents a connection: a first-byte
/// latency (`BILLWATCH_BENCH_S3_FIRST_BYTE_MS`, default 100: S3 quotes 100–200 ms) and
/// 85 MB/s per connection (S3: "one concurrent request for each 85–90 MB/s").
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: run with --release -- --ignored --nocapture"]
async fn measure_s3_read_throughput_at_s3_pace() {
    let mib = env_u64("BILLWATCH_BENCH_S3_MIB", 256);
    let first_byte = env_u64("BILLWATCH_BENCH_S3_FIRST_BYTE_MS", 100);
    let len = mib << 20;
    let pace = billwatch_tests::paced_s3::Pace {
        first_byte: std::time::Duration::from_millis(first_byte),
        bytes_per_second: 85_000_000,
    };
    let addr = billwatch_tests::paced_s3::serve(bytes(len, 6), pace);
    let sdk = billwatch_aws::clients::sdk_config().await;
    let client = aws_sdk_s3::Client::from_conf(
        billwatch_aws::clients::s3_config(&sdk)
            .endpoint_url(format!("http://{addr}"))
            .force_path_style(true)
            .build(),
    );
    println!(
        "paced local server: {first_byte} ms to first byte, 85 MB/s per connection, \
         object of {mib} MiB, best of 2:"
    );
    measure(&client, "paced", "object.bin", len, 2).await;
}
