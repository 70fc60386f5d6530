//! One source of truth for names: the local stack that ./scripts/test starts is created from
//! template.yaml (infra/local/create_stack.py), and infra/local/parity_check.py proves that the
//! emulator holds exactly what the template declares (tables, keys, attribute types, indexes,
//! TTL, billing mode, the alert topic, the bucket) and that the BILLWATCH_* environment the tests
//! run with is the one the template gives the functions. These tests run that check, and prove
//! that it can fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// The project's venv interpreter (PyYAML and boto3 come with moto), else `python3` on PATH,
/// which infra/local/with-stack.sh points at the same venv.
fn python() -> PathBuf {
    let venv = repo().join(".venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn require_stack() {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        panic!(
            "AWS_ENDPOINT_URL is not set: run the tests through ./scripts/test, which starts the \
             local AWS stack (moto) and creates billwatch's tables from template.yaml"
        );
    }
}

fn parity_check(args: &[&str], env: &[(&str, &str)]) -> Output {
    require_stack();
    let script = repo().join("infra/local/parity_check.py");
    let mut cmd = Command::new(python());
    cmd.arg(&script).args(args).current_dir(repo());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| {
        panic!(
            "could not run {} {}: {e}",
            python().display(),
            script.display()
        )
    })
}

fn describe(out: &Output) -> String {
    format!(
        "exit status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A scratch directory removed on drop (no tempfile dependency for one directory).
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        // Two tests may read the same clock tick: a counter keeps them apart.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "billwatch-parity-{tag}-{}-{nanos}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// template.yaml with `edit` applied to the text of one resource (from its `  Name:` line to the
/// next resource), written to a scratch directory.
fn edited_template(scratch: &Scratch, resource: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("template.yaml")).unwrap();
    let start = text
        .find(&format!("\n  {resource}:\n"))
        .unwrap_or_else(|| panic!("template.yaml has no resource {resource}"))
        + 1;
    // The resource ends where the next line indented by two spaces or less (the next resource,
    // a section comment, or the next top-level section) starts.
    let first_line = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let end = text[first_line..]
        .match_indices('\n')
        .map(|(i, _)| first_line + i + 1)
        .find(|&i| {
            let line = &text[i..];
            !line.starts_with("   ") && !line.starts_with('\n')
        })
        .unwrap_or(text.len());
    let block = &text[start..end];
    let changed = edit(block);
    assert_ne!(changed, block, "the edit changed nothing in {resource}");
    let path = scratch.0.join("template.yaml");
    std::fs::write(
        &path,
        format!("{}{}{}", &text[..start], changed, &text[end..]),
    )
    .unwrap();
    path
}

#[test]
fn local_stack_matches_template() {
    let out = parity_check(&["--check-env"], &[]);
    assert!(
        out.status.success(),
        "the local stack differs from template.yaml:\n{}",
        describe(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("OK:"), "no OK line:\n{}", describe(&out));
    for table in ["totals", "reports", "budgets", "alerts"] {
        let name = std::env::var(format!("BILLWATCH_{}_TABLE", table.to_uppercase())).unwrap();
        assert!(
            stdout.contains(&name),
            "{name} not checked:\n{}",
            describe(&out)
        );
    }
}

#[test]
fn renamed_sort_key_in_the_template_is_a_mismatch() {
    let scratch = Scratch::new("key");
    let template = edited_template(&scratch, "ReportsTable", |block| {
        block.replace("AttributeName: sk\n", "AttributeName: sort_key\n")
    });
    let out = parity_check(
        &["--check-env", "--template", template.to_str().unwrap()],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let reports = std::env::var("BILLWATCH_REPORTS_TABLE").unwrap();
    let line = stderr
        .lines()
        .find(|l| l.contains("MISMATCH") && l.contains(&reports) && l.contains("key schema"))
        .unwrap_or_else(|| {
            panic!(
                "no key-schema MISMATCH line for {reports}:\n{}",
                describe(&out)
            )
        });
    assert!(
        line.contains("sort_key RANGE") && line.contains("sk RANGE"),
        "{line}"
    );
    assert!(
        stderr.contains("attribute sort_key"),
        "the attribute definitions differ too:\n{}",
        describe(&out)
    );
}

#[test]
fn dropped_ttl_and_renamed_index_are_mismatches() {
    let scratch = Scratch::new("index");
    let once = edited_template(&scratch, "AlertsTable", |block| {
        block.replace(
            "AttributeName: expires_at\n        Enabled: true",
            "AttributeName: expires_at\n        Enabled: false",
        )
    });
    let text = std::fs::read_to_string(&once).unwrap();
    std::fs::write(
        &once,
        text.replace("IndexName: by-account-service", "IndexName: by-service"),
    )
    .unwrap();
    let out = parity_check(&["--template", once.to_str().unwrap()], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr.contains("TTL attribute: template none"),
        "{}",
        describe(&out)
    );
    assert!(
        stderr.contains("GSI by-service missing")
            && stderr.contains("GSI by-account-service exists but is not in the template"),
        "{}",
        describe(&out)
    );
}

#[test]
fn environment_that_differs_from_the_template_is_a_mismatch() {
    let out = parity_check(
        &["--check-env"],
        &[("BILLWATCH_TOTALS_TABLE", "some-other-totals")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(
            |l| l.contains("MISMATCH environment BILLWATCH_TOTALS_TABLE")
                && l.contains("some-other-totals")
        ),
        "{}",
        describe(&out)
    );
}

fn template_check(template: &std::path::Path) -> Output {
    Command::new(python())
        .arg(repo().join("infra/template_check.py"))
        .arg("--template")
        .arg(template)
        .output()
        .expect("python runs infra/template_check.py")
}

#[test]
fn the_template_passes_its_own_rules() {
    let out = template_check(&repo().join("template.yaml"));
    assert!(out.status.success(), "{}", describe(&out));
}

#[test]
fn a_zip_spool_larger_than_the_functions_tmp_breaks_the_template_rules() {
    let scratch = Scratch::new("spool");
    let path = edited_template(&scratch, "ReportIngestFunction", |block| {
        block.replace(
            "BILLWATCH_MAX_SPOOL_BYTES: \"1900000000\"",
            "BILLWATCH_MAX_SPOOL_BYTES: \"3000000000\"",
        )
    });
    let out = template_check(&path);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not fit its 2048 MB of /tmp"),
        "{}",
        describe(&out)
    );
}

/// `create_stack.py` for a stack next to an existing bucket (idempotent); returns its exports.
fn create_existing_stack(stack: &str, bucket: &str, template: &Path) -> String {
    require_stack();
    let created = Command::new(python())
        .arg(repo().join("infra/local/create_stack.py"))
        .args(["--stack-name", stack, "--template"])
        .arg(template)
        .arg("--parameter")
        .arg(format!("ExistingBucketName={bucket}"))
        .args(["--parameter", "ReportPrefix=cur/"])
        .current_dir(repo())
        .output()
        .expect("python runs infra/local/create_stack.py");
    assert!(created.status.success(), "{}", describe(&created));
    String::from_utf8_lossy(&created.stdout).into_owned()
}

/// Next to an existing bucket (ExistingBucketName, ReportPrefix): the local stack made from the
/// template with those parameters stands the bucket in for the existing one, and the parity
/// check with the same parameters agrees, the function's BILLWATCH_BUCKET naming that bucket.
/// It also runs the template's EventBridge rule in the emulator against sample events: report
/// keys of the bucket under the prefix reach the target, nothing else does.
#[test]
fn the_existing_bucket_mode_has_a_matching_local_stack_and_rule() {
    let exports = create_existing_stack(
        "billwatch-existing",
        "billwatch-existing-reports",
        &repo().join("template.yaml"),
    );
    assert!(
        exports.contains("export BILLWATCH_BUCKET=billwatch-existing-reports\n"),
        "{exports}"
    );
    assert!(
        exports.contains("export BILLWATCH_TOTALS_TABLE=billwatch-existing-totals\n"),
        "{exports}"
    );
    let out = parity_check(
        &[
            "--stack-name",
            "billwatch-existing",
            "--parameter",
            "ExistingBucketName=billwatch-existing-reports",
            "--parameter",
            "ReportPrefix=cur/",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The existing bucket, and the stack's own pages bucket (the month pages alerts link to).
    assert!(
        stdout.contains(
            "2 bucket(s) (billwatch-existing-pages-123456789012, billwatch-existing-reports)"
        ),
        "{}",
        describe(&out)
    );
    assert!(
        stdout.contains("rule ReportCreatedRule matches 8 sample events as it should"),
        "{}",
        describe(&out)
    );
}

/// A rule that filters on the prefix alone lets every CUR data part invoke the function.
#[test]
fn a_rule_without_the_report_suffixes_is_a_mismatch() {
    let scratch = Scratch::new("rule-suffixes");
    let template = edited_template(&scratch, "ReportCreatedRule", |block| {
        block.replace(
            "              - wildcard: !Sub \"${ReportPrefix}*.csv\"\n",
            "              - prefix: !Ref ReportPrefix\n",
        )
    });
    create_existing_stack(
        "billwatch-suffixes",
        "billwatch-suffixes-reports",
        &template,
    );
    let out = parity_check(
        &[
            "--stack-name",
            "billwatch-suffixes",
            "--template",
            template.to_str().unwrap(),
            "--parameter",
            "ExistingBucketName=billwatch-suffixes-reports",
            "--parameter",
            "ReportPrefix=cur/",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MISMATCH rule ReportCreatedRule: a CUR data part")
            && stderr.contains("matches"),
        "{}",
        describe(&out)
    );
}

/// The template rules resolve every deployment mode: the EventBridge rule deployed with the
/// stack's own bucket is a second trigger for each object.
#[test]
fn an_eventbridge_rule_beside_the_buckets_notifications_breaks_the_template_rules() {
    let scratch = Scratch::new("two-triggers");
    let path = edited_template(&scratch, "ReportCreatedRule", |block| {
        block.replace("    Condition: UseExistingBucket\n", "")
    });
    let out = template_check(&path);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for mode in ["new-bucket", "new-bucket-prefix"] {
        assert!(
            stderr.contains(&format!(
                "mode {mode}: ReportCreatedRule is deployed as well"
            )),
            "{}",
            describe(&out)
        );
    }
    assert!(
        !stderr.contains("mode existing-bucket"),
        "{}",
        describe(&out)
    );
}

/// Least privilege in both modes: a role that reads the whole bucket when a ReportPrefix is
/// given, or a rule that does not filter on the prefix, breaks the rules.
#[test]
fn reading_or_triggering_beyond_the_report_prefix_breaks_the_template_rules() {
    let scratch = Scratch::new("prefix");
    let role = edited_template(&scratch, "ReportIngestRole", |block| {
        block.replace("s3:::${Bucket}/${ReportPrefix}*\"", "s3:::${Bucket}/*\"")
    });
    let out = template_check(&role);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (mode, bucket) in [
        ("new-bucket-prefix", "billwatch-billing-123456789012"),
        ("existing-bucket", "example-billing-reports"),
    ] {
        assert!(
            stderr.contains(&format!(
                "mode {mode}: ReportIngestRole ReadReports: S3 resource arn:aws:s3:::{bucket}/* is not arn:aws:s3:::{bucket}/cur/*"
            )),
            "{}",
            describe(&out)
        );
    }
    let scratch = Scratch::new("rule-prefix");
    let rule = edited_template(&scratch, "ReportCreatedRule", |block| {
        block.replace("!Sub \"${ReportPrefix}*.csv\"", "\"*.csv\"")
    });
    let out = template_check(&rule);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("mode existing-bucket: ReportCreatedRule's key filter"),
        "{}",
        describe(&out)
    );
}
