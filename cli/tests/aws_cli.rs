//! The CLI as an AWS tool: where AWS is comes from --region/--profile/--endpoint-url over the
//! usual environment, table names follow --stack, and the common failures read plainly with
//! their exit codes (1 for AWS, 2 for bad input). The emulator tests run under ./scripts/test.

use std::process::Command;

/// Runs billwatch with only PATH and `env` in its environment (no AWS settings of the machine),
/// HOME pointing nowhere (no ~/.aws files).
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_billwatch"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-billwatch-home")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args);
    let cli = billwatch_tests::Principal::CliReadOnly.access_key();
    for (k, v) in env {
        cmd.env(k, v);
        // The emulator's keys (emulator()): the CLI identity the command needs.
        if (*k, *v) == ("AWS_ACCESS_KEY_ID", cli) {
            cmd.envs(billwatch_tests::Principal::for_cli(args).env());
        }
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stack_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through ./scripts/test, which starts the local AWS stack")
    })
}

/// The emulator's credentials (the CLI's read-only identity, whose calls the permissions check
/// records), without any table variable.
fn emulator() -> Vec<(&'static str, String)> {
    billwatch_tests::Principal::CliReadOnly
        .env()
        .iter()
        .map(|(k, v)| (*k, v.to_string()))
        .collect()
}

fn with<'a>(
    base: &'a [(&'static str, String)],
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
    out.extend_from_slice(more);
    out
}

#[test]
fn no_region_is_one_plain_sentence_and_exit_1() {
    let (code, stdout, stderr) = run(
        &["totals"],
        &[("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y")],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: no AWS region: pass --region, set AWS_REGION, or run `aws configure` to give your profile one\n"
    );
}

#[test]
fn no_credentials_is_one_plain_sentence_and_exit_1() {
    let (code, _, stderr) = run(&["reports"], &[("AWS_REGION", "eu-west-1")]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        "error: no credentials: run `aws configure` or set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)\n"
    );
    let (code, _, stderr) = run(
        &["alerts", "--profile", "dev"],
        &[("AWS_DEFAULT_REGION", "eu-west-1")],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: no credentials for profile dev: run `aws configure --profile dev`"
        ),
        "{stderr}"
    );
}

#[test]
fn a_bad_period_exits_2_with_a_plain_message() {
    for args in [
        ["totals", "--period", "2026-13"],
        ["reports", "--period", "nope"],
        ["alerts", "--period", "26-11"],
    ] {
        let (code, stdout, stderr) = run(&args, &[]);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("is not a billing period: expected YYYY-MM"),
            "{stderr}"
        );
    }
}

#[test]
fn every_flag_has_help_text() {
    for command in [
        vec!["totals"],
        vec!["history"],
        vec!["reports"],
        vec!["alerts"],
        vec!["alerts", "test"],
        vec!["summarize"],
        vec!["generate"],
        vec!["budgets", "put"],
        vec!["budgets", "list"],
        vec!["budgets", "rm"],
        vec!["budgets", "apply"],
        vec!["budgets", "check"],
        vec!["budgets", "status"],
        vec!["budgets", "replay"],
        vec!["anomalies"],
        vec!["daily"],
        vec!["commitments"],
        vec!["doctor"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let (code, help, _) = run(&args, &[]);
        assert_eq!(code, 0, "{command:?}");
        // An option or argument line is indented by at most 6 spaces; its help is on the
        // same line (after a gap) or on the next, indented by 10.
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let indent = line.len() - line.trim_start().len();
            let t = line.trim_start();
            if indent == 0
                || indent > 6
                || !(t.starts_with('-') || t.starts_with('<') || t.starts_with('['))
            {
                continue;
            }
            if t.starts_with("-h, --help") || t.starts_with("-V, --version") {
                continue;
            }
            let inline = t.contains("  ");
            let below = lines
                .get(i + 1)
                .is_some_and(|l| l.starts_with("          ") && !l.trim().is_empty());
            assert!(inline || below, "{command:?}: no help for {t:?}\n{help}");
        }
        assert!(help.contains("--output"), "{command:?} lacks --output");
        // The AWS flags are on the commands that call AWS, and on no other.
        let offline = matches!(command[0], "summarize" | "generate")
            || matches!(command[..], ["budgets", "check" | "status" | "replay"]);
        for flag in ["--region", "--profile", "--endpoint-url", "--stack"] {
            assert_eq!(
                help.contains(flag),
                !offline,
                "{command:?}: {flag} listed: {}\n{help}",
                help.contains(flag)
            );
        }
    }
}

#[test]
fn the_aws_flags_before_the_subcommand_still_parse() {
    // `billwatch --stack NAME alerts` (as .ci/run writes it) reaches the command: here it
    // fails for want of a region, not on the flag's position.
    let (code, _, stderr) = run(
        &[
            "--stack",
            "team",
            "--region",
            "eu-west-1",
            "reports",
            "--period",
            "x",
        ],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not a billing period"), "{stderr}");
}

#[test]
fn an_explicit_stack_wins_over_the_billwatch_variables() {
    // Inside scripts/shell every BILLWATCH_* name is set; `--stack nosuchstack` must not read
    // the shell's stack.
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let reports = stack_env("BILLWATCH_REPORTS_TABLE");
    let totals = stack_env("BILLWATCH_TOTALS_TABLE");
    let base = emulator();
    let env = with(
        &base,
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", &endpoint),
            ("BILLWATCH_REPORTS_TABLE", &reports),
            ("BILLWATCH_TOTALS_TABLE", &totals),
        ],
    );
    for args in [
        &["totals", "--stack", "nosuchstack", "--period", "2026-11"][..],
        &["--stack", "nosuchstack", "totals", "--period", "2026-11"][..],
    ] {
        let (code, stdout, stderr) = run(args, &env);
        assert_eq!(code, 1, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.starts_with("error: nosuchstack-reports not found in us-east-1"),
            "{args:?}: {stderr}"
        );
    }
    // Without --stack, the variables name the tables.
    let (code, _, stderr) = run(&["reports", "--period", "2031-01"], &env);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_missing_table_says_deployed_try_stack() {
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let base = emulator();
    let env = with(
        &base,
        &[("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", &endpoint)],
    );
    let (code, stdout, stderr) = run(
        &["totals", "--stack", "nosuchstack", "--period", "2026-11"],
        &env,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: nosuchstack-reports not found in us-east-1: is billwatch deployed there? try --stack NAME (now nosuchstack) or --region\n"
    );
}

#[test]
fn region_and_endpoint_flags_stand_in_for_the_environment() {
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|_| "us-east-1".into());
    let reports = stack_env("BILLWATCH_REPORTS_TABLE");
    let base = emulator();
    let env = with(&base, &[("BILLWATCH_REPORTS_TABLE", &reports)]);
    let (code, stdout, stderr) = run(
        &[
            "reports",
            "--region",
            &region,
            "--endpoint-url",
            &endpoint,
            "--period",
            "2031-01",
            "--output",
            "json",
        ],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["billing_period"], "2031-01");
    assert_eq!(v["reports"], serde_json::json!([]));
    // AWS_DEFAULT_REGION alone is enough too.
    let env = with(
        &base,
        &[
            ("BILLWATCH_REPORTS_TABLE", &reports),
            ("AWS_DEFAULT_REGION", &region),
            ("AWS_ENDPOINT_URL", &endpoint),
        ],
    );
    let (code, stdout, stderr) = run(&["reports", "--period", "2031-01"], &env);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "no reports ingested for 2031-01\n");
}

/// A stand-in for DynamoDB on 127.0.0.1 that answers every request with HTTP 400 and this
/// error (the service's JSON error shape); its URL.
fn failing_dynamodb(error_type: &'static str, message: &'static str) -> String {
    let payload = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
        "message": message,
    })
    .to_string();
    stand_in(
        "400 Bad Request",
        "application/x-amz-json-1.0",
        Box::leak(payload.into_boxed_str()),
    )
}

/// A stand-in for S3 on 127.0.0.1 that answers every request with this status and error code
/// (S3's XML error shape); its URL.
fn failing_s3(status: &'static str, code: &str, message: &str) -> String {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>TESTREQUEST</RequestId></Error>"
    );
    stand_in(status, "application/xml", Box::leak(body.into_boxed_str()))
}

/// A server on 127.0.0.1 that answers every request with this status and body; its URL.
fn stand_in(status: &'static str, content_type: &'static str, payload: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n\
                 x-amzn-requestid: TESTREQUEST\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{payload}",
                payload.len()
            );
            let _ = reader.get_mut().write_all(response.as_bytes());
        }
    });
    url
}

fn against(url: &str, args: &[&str]) -> (i32, String, String) {
    run(
        args,
        &[
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "y"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", url),
            ("AWS_MAX_ATTEMPTS", "1"),
        ],
    )
}

#[test]
fn access_denied_names_the_missing_action_and_exits_1() {
    let url = failing_dynamodb(
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/dev is not authorized to perform: dynamodb:Query \
         on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/billwatch-reports because \
         no identity-based policy allows the dynamodb:Query action",
    );
    let (code, stdout, stderr) = against(&url, &["reports", "--period", "2026-11"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: access denied: your credentials may not call dynamodb:Query on \
         billwatch-reports (ask for that permission, or use another --profile)\n"
    );
    // The budgets commands read the same way.
    let (code, _, stderr) = against(&url, &["budgets", "list"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("error: access denied: your credentials may not call dynamodb:Query on billwatch-budgets"),
        "{stderr}"
    );
}

#[test]
fn throttling_says_wait_and_retry_and_exits_1() {
    let url = failing_dynamodb(
        "ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    );
    let (code, stdout, stderr) =
        against(&url, &["alerts", "--period", "2026-11", "--stack", "team"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: throttled by AWS (ThrottlingException) calling dynamodb:Query on team-alerts: \
         wait a moment and run it again\n"
    );
    let url = failing_dynamodb("ProvisionedThroughputExceededException", "slow down");
    let (code, _, stderr) = against(&url, &["totals", "--period", "2026-11"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("error: throttled by AWS (ProvisionedThroughputExceededException)"),
        "{stderr}"
    );
}

#[test]
fn a_missing_table_on_aws_reads_the_same_as_on_the_emulator() {
    let url = failing_dynamodb(
        "ResourceNotFoundException",
        "Requested resource not found: Table: prod-bw-reports not found",
    );
    let (code, _, stderr) = against(&url, &["reports", "--stack", "prod-bw"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        "error: prod-bw-reports not found in eu-west-1: is billwatch deployed there? try --stack \
         NAME (now prod-bw) or --region\n"
    );
}

#[test]
fn profiles_and_their_region_come_from_the_config_files() {
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let reports = stack_env("BILLWATCH_REPORTS_TABLE");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[profile dev]\nregion = us-east-1\n").unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            stack_env("AWS_ACCESS_KEY_ID"),
            stack_env("AWS_SECRET_ACCESS_KEY")
        ),
    )
    .unwrap();
    let files = [
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("BILLWATCH_REPORTS_TABLE", reports.as_str()),
    ];
    let with_profile = |more: &[(&str, &str)], args: &[&str]| {
        let mut env = files.to_vec();
        env.extend_from_slice(more);
        run(args, &env)
    };
    let (code, stdout, stderr) =
        with_profile(&[], &["reports", "--period", "2031-02", "--profile", "dev"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "no reports ingested for 2031-02\n");
    let (code, _, stderr) = with_profile(
        &[("AWS_PROFILE", "dev")],
        &["reports", "--period", "2031-02"],
    );
    assert_eq!(code, 0, "{stderr}");
    // A missing table names the profile's region.
    let (code, _, stderr) = with_profile(
        &[("AWS_PROFILE", "dev")],
        &["alerts", "--stack", "nosuchstack", "--period", "2031-02"],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: nosuchstack-alerts not found in us-east-1: "),
        "{stderr}"
    );
    // Without the profile there are no credentials (and no region).
    let (code, _, stderr) = with_profile(&[("AWS_REGION", "us-east-1")], &["reports"]);
    assert_eq!(code, 1);
    assert!(
        stderr.starts_with("error: no credentials: run `aws configure` or set AWS_PROFILE"),
        "{stderr}"
    );
}

#[test]
fn alerts_test_finds_the_stacks_topic_by_name() {
    let endpoint = stack_env("AWS_ENDPOINT_URL");
    let base = emulator();
    let env = with(
        &base,
        &[("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", &endpoint)],
    );
    let stack = format!("clitopic{}", std::process::id());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let arn = runtime.block_on(async {
        let sdk = billwatch_aws::clients::sdk_config().await;
        billwatch_aws::clients::sns(&sdk)
            .create_topic()
            .name(format!("{stack}-alerts"))
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string()
    });
    let (code, stdout, stderr) = run(&["alerts", "test", "--stack", &stack], &env);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!("test message published to {arn} (message id ")),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(
        &["alerts", "test", "--stack", &stack, "--output", "json"],
        &env,
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["published"][0]["topic_arn"], arn.as_str());
    assert!(v["published"][0]["message_id"].is_string(), "{v}");
    let (code, stdout, stderr) = run(&["alerts", "test", "--stack", "nosuchstack"], &env);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: no alert topic nosuchstack-alerts found in us-east-1: is billwatch deployed there? \
         try --stack NAME or --region, or pass --topic-arn\n"
    );
}

/// `2026-11-20T08:00:00.123Z`: RFC 3339, UTC, milliseconds.
fn is_millis_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 24
        && text.ends_with('Z')
        && b[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// A legacy monthly report of this month for a payer no other test uses, ingested through the
/// Lambda's pipeline into the local stack; then totals (without --period), history and reports
/// read it back in the summarize contract's words and one timestamp format.
#[tokio::test(flavor = "multi_thread")]
async fn totals_history_and_reports_speak_one_vocabulary_and_totals_default_to_this_month() {
    use billwatch_aws::clients::{sdk_config, Clients};
    stack_env("AWS_ENDPOINT_URL");
    let bucket = stack_env("BILLWATCH_BUCKET");
    let payer = format!(
        "{:012}",
        (u64::from(std::process::id()) * 1_000_003
            + std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos() as u64)
            % 1_000_000_000_000
    );
    let now = chrono::Utc::now();
    let period = now.format("%Y-%m").to_string();
    let start = now.format("%Y/%m/01 00:00:00").to_string();
    let header = "InvoiceID,PayerAccountId,LinkedAccountId,RecordType,RecordID,BillingPeriodStartDate,\
                  BillingPeriodEndDate,InvoiceDate,PayerAccountName,LinkedAccountName,TaxationAddress,\
                  PayerPONumber,ProductCode,ProductName,SellerOfRecord,UsageType,Operation,RateId,\
                  ItemDescription,UsageStartDate,UsageEndDate,UsageQuantity,BlendedRate,CurrencyCode,\
                  CostBeforeTax,Credits,TaxAmount,TaxType,TotalCost";
    let mut csv = format!("{header}\n");
    for (i, (code, name, cost)) in [
        ("AmazonEC2", "Amazon Elastic Compute Cloud", "1234.5678"),
        ("AmazonS3", "Amazon Simple Storage Service", "0.004"),
    ]
    .iter()
    .enumerate()
    {
        csv += &format!(
            "\"1\",\"{payer}\",\"\",\"PayerLineItem\",\"{i}\",\"{start}\",\"{start}\",\"{start}\",\
             \"Acme\",,,,\"{code}\",\"{name}\",\"AWS\",\"u\",\"o\",\"1\",\"d\",\"{start}\",\
             \"{start}\",\"1\",,\"USD\",\"{cost}\",\"0\",\"0\",\"None\",\"{cost}\"\n"
        );
    }
    let key = format!("{payer}-aws-billing-csv-{period}.csv");
    let sdk = sdk_config().await;
    let put = billwatch_aws::clients::s3(&sdk)
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(csv.clone().into_bytes().into())
        .send()
        .await
        .unwrap();
    let event = serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "billwatch-reports",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A"}, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": csv.len(), "eTag": put.e_tag().unwrap_or("e").trim_matches('"'),
                          "sequencer": "0055AED6DCD90281E5"}}
    }]});
    let ingest = billwatch_aws::ingest::Ingest::new(
        billwatch_aws::config::Config::from_env().unwrap(),
        Clients::from_sdk(&billwatch_tests::Principal::Ingest.sdk(&sdk)),
        billwatch_aws::clock::Clock::system(),
    );
    ingest.handle(&event).await.unwrap();

    let cli = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
                .args(&args)
                .envs(billwatch_tests::Principal::for_cli(&words).env())
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        })
    };
    let json = |text: String| serde_json::from_str::<serde_json::Value>(&text).unwrap();
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // totals: this month without --period.
    let v = json(
        cli(args(&["totals", "--account", &payer, "--output", "json"]))
            .await
            .unwrap(),
    );
    assert_eq!(v["billing_period"], period.as_str());
    let totals = v["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 2, "{v}");
    let ec2 = &totals[0];
    assert_eq!(ec2["account_id"], payer.as_str());
    assert_eq!(ec2["payer_account_id"], payer.as_str());
    assert_eq!(ec2["billing_period"], period.as_str());
    assert_eq!(ec2["service"], "AmazonEC2");
    assert_eq!(ec2["cost"], "1234.5678");
    assert!(ec2["breakdown"].is_object(), "{v}");
    assert!(
        ec2.get("account").is_none() && ec2.get("payer").is_none(),
        "{v}"
    );
    assert!(is_millis_utc(ec2["stored_at"].as_str().unwrap()), "{v}");
    // The table rounds to the cent.
    let table = cli(args(&["totals", "--account", &payer])).await.unwrap();
    assert!(
        table.contains("1,234.57") && table.contains("Total USD: 1,234.57"),
        "{table}"
    );
    assert!(!table.contains("1234.5678"), "{table}");
    let exact = cli(args(&["totals", "--account", &payer, "--exact"]))
        .await
        .unwrap();
    assert!(exact.contains("1,234.5678"), "{exact}");

    // history: the same words.
    let v = json(
        cli(args(&[
            "history",
            "--account",
            &payer,
            "--service",
            "AmazonEC2",
            "--json",
        ]))
        .await
        .unwrap(),
    );
    assert_eq!(v["account_id"], payer.as_str());
    assert_eq!(v["history"][0]["billing_period"], period.as_str());
    assert_eq!(v["history"][0]["cost"], "1234.5678");

    // reports: billing_period and payer_account_id, millisecond timestamps, in JSON and text.
    let v = json(cli(args(&["reports", "--output", "json"])).await.unwrap());
    assert_eq!(v["billing_period"], period.as_str());
    let ours = v["reports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key.as_str())
        .unwrap_or_else(|| panic!("{key} in {v}"));
    assert_eq!(ours["payer_account_id"], payer.as_str());
    assert_eq!(ours["billing_period"], period.as_str());
    assert!(
        is_millis_utc(ours["received_at"].as_str().unwrap()),
        "{ours}"
    );
    let live = v["live"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["payer_account_id"] == payer.as_str())
        .unwrap();
    assert!(is_millis_utc(live["stored_at"].as_str().unwrap()), "{live}");
    let text = cli(args(&["reports"])).await.unwrap();
    let line = text.lines().find(|l| l.ends_with(&key)).unwrap();
    assert!(
        is_millis_utc(line.split_whitespace().next().unwrap()),
        "{line}"
    );
}

#[test]
fn summarize_from_s3_reads_aws_failures_plainly() {
    let url = failing_s3("403 Forbidden", "AccessDenied", "Access Denied");
    let (code, stdout, stderr) = against(
        &url,
        &[
            "summarize",
            "s3://billing/cur/123456789012-aws-billing-csv-2026-11.csv",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(
        stderr,
        "error: access denied: your credentials may not call s3:GetObject on \
         s3://billing/cur/123456789012-aws-billing-csv-2026-11.csv (ask for that permission, or \
         use another --profile)\n"
    );
    let url = failing_s3(
        "503 Slow Down",
        "SlowDown",
        "Please reduce your request rate.",
    );
    let (code, _, stderr) = against(&url, &["summarize", "s3://billing/a-Manifest.json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.starts_with("error: throttled by AWS (SlowDown) calling s3:GetObject"),
        "{stderr}"
    );
}
