//! `billwatch summarize` on the real public samples of `tests/fixtures/public/`.

mod common;

use common::*;

fn cur_public_expected() -> Expected {
    let z = "0";
    let usage = |charges| cur_parts(charges, z, z, z, z, z);
    let a = "123412340534";
    Expected {
        format: "cur1",
        payer: a,
        period: "2023-11",
        status: "estimated",
        as_of: Some("2023-11-14T04:00:00.000Z"),
        rows_read: 1281,
        rows_summed: 1281,
        totals: vec![
            total(
                a,
                "AWSCloudShell",
                "AWS CloudShell",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "AWSCloudTrail",
                "AWS CloudTrail",
                "USD",
                "0.000240",
                usage("0.000240"),
            ),
            total(
                a,
                "AWSDataTransfer",
                "AWS Data Transfer",
                "USD",
                "0.0",
                usage("0"),
            ),
            total(a, "AWSGlue", "AWS Glue", "USD", "0.0", usage("0.0")),
            total(
                a,
                "AWSIoT",
                "AWS IoT",
                "USD",
                "0.00000250",
                usage("0.00000250"),
            ),
            total(
                a,
                "AWSMigrationHubRefactorSpaces",
                "AWS Migration Hub Refactor Spaces",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "AWSQueueService",
                "Amazon Simple Queue Service",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "AWSSecretsManager",
                "AWS Secrets Manager",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "AmazonCloudWatch",
                "AmazonCloudWatch",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "AmazonEFS",
                "Amazon Elastic File System",
                "USD",
                "0.0009452835",
                usage("0.0009452835"),
            ),
            total(
                a,
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "1.44056535650",
                cur_parts("1.37056535650", z, z, z, z, "0.07"),
            ),
            total(
                a,
                "AmazonSNS",
                "Amazon Simple Notification Service",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "AmazonStates",
                "AWS Step Functions",
                "USD",
                "0.0",
                usage("0.0"),
            ),
            total(
                a,
                "awskms",
                "AWS Key Management Service",
                "USD",
                "0.2405555574",
                cur_parts("0.2305555574", z, z, z, z, "0.01"),
            ),
        ],
        grand: vec![("USD", "1.68230869740")],
        checks: vec![],
    }
}

#[test]
fn public_cur1_sample_per_service_totals() {
    let input = fixture(
        "public/cur1-anonymized-2023-11__focus_converters-sample-anonymous-aws-export-dataset.csv",
    );
    let v = summarize_json(&input, &[]);
    let e = cur_public_expected();
    assert_summary(&v, &input, &e);
    // Of the grand total, 0.08 is tax (0.07 on AmazonS3, 0.01 on awskms).
    let tax: rust_decimal::Decimal = v["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| dec(t["breakdown"]["tax"].as_str().unwrap()))
        .sum();
    assert_eq!(tax, dec("0.08"));
}

#[test]
fn public_dbr_rt_final_consolidated() {
    let input =
        fixture("public/legacy-dbr-rt-anonymized-final__scopely-details-detailed_with_tags.csv");
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &dbr_rt_final_expected());
}

#[test]
fn public_dbr_rt_estimated_ragged_rows_are_refused() {
    // Header 24 fields, every row 25: the file was edited by hand (a tag column dropped from
    // the header), so the tag cells after `ResourceId` are shifted by one. billwatch used to
    // sum it anyway (Σ 3.10051350 USD, rows_read 23); a row whose cells do not line up with the
    // header is now refused at its line, with both counts, rather than read shifted.
    let input = fixture("public/legacy-dbr-rt-anonymized-estimated__scopely-skinflint-test.csv");
    let line = summarize_error(&input, &[]);
    assert_contains_all(
        &line,
        &[
            &format!("error: {input}: line 2: "),
            "the row has 25 cells but the header has 24",
        ],
    );
}

const ICE_BUCKET: &str = "bucket/cur1-2017-08";
const ICE_MANIFEST: &str =
    "hourly/hourly-cost-and-usage/20170801-20170901/hourly-cost-and-usage-Manifest.json";

fn ice_expected() -> Expected {
    let z = "0";
    Expected {
        format: "cur1",
        payer: "123456789012",
        period: "2017-08",
        status: "estimated",
        as_of: Some("2017-08-14T03:00:00.000Z"),
        rows_read: 6,
        rows_summed: 6,
        totals: vec![
            total(
                "123456789012",
                "AmazonEC2",
                "Amazon Elastic Compute Cloud",
                "USD",
                "54.9616000000",
                cur_parts("0.0116000000", "51.8400000000", z, z, z, "3.1100000000"),
            ),
            total(
                "234567890123",
                "AmazonDynamoDB",
                "Amazon DynamoDB",
                "USD",
                "0.0013000000",
                cur_parts("0.0013000000", z, z, z, z, z),
            ),
            total(
                "234567890123",
                "AmazonS3",
                "Amazon Simple Storage Service",
                "USD",
                "0.0000123456",
                cur_parts("0.0000123456", z, z, z, z, z),
            ),
        ],
        grand: vec![("USD", "54.9629123456")],
        checks: vec![],
    }
}

#[test]
fn public_ice_manifest_in_bucket_is_the_public_file_unchanged() {
    let public = std::fs::read(fixture(
        "public/cur1-manifest-2017-08-with-reportKeys__ice-manifestTest.json",
    ))
    .unwrap();
    let in_bucket = std::fs::read(fixture(&format!("{ICE_BUCKET}/{ICE_MANIFEST}"))).unwrap();
    assert_eq!(public, in_bucket);
}

#[test]
fn public_ice_manifest_drives_a_two_part_summary() {
    let input = fixture(&format!("{ICE_BUCKET}/{ICE_MANIFEST}"));
    let bucket = fixture(ICE_BUCKET);
    let v = summarize_json(&input, &["--bucket-dir", &bucket]);
    assert_summary(&v, &input, &ice_expected());
}

#[test]
fn public_ice_manifest_without_bucket_dir_finds_the_bucket_root() {
    let input = fixture(&format!("{ICE_BUCKET}/{ICE_MANIFEST}"));
    let v = summarize_json(&input, &[]);
    assert_summary(&v, &input, &ice_expected());
}
