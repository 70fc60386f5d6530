//! `billwatch budgets apply | put | list | rm` against the local DynamoDB emulator (started by
//! ./scripts/test, which sets AWS_ENDPOINT_URL and BILLWATCH_BUDGETS_TABLE). Each test runs the
//! binary against its own budgets table, cloned from the stack's. Its stdin is not a terminal,
//! so `apply` asks no question: it needs `--yes` to remove or change budgets. `budgets check`
//! runs with no AWS settings at all.

use aws_sdk_dynamodb::types::{AttributeValue, BillingMode};
use billwatch_aws::store::BudgetsStore;
use billwatch_core::budget::{Basis, Budget, Level, Scope, Threshold};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

fn require(name: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not set: run these tests through ./scripts/test (e.g. \
             ./scripts/test -p billwatch-cli --test budgets_apply), which starts the local AWS \
             emulator and creates the stack's tables"
            )
        })
}

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// A name no other test (in this process or another) uses: the process id,
/// the clock and a counter, since two tests can read the same clock tick.
fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{}-{nanos}-{n}", std::process::id())
}

/// A budgets table of its own (the stack's key schema) and a folder for files.
struct Env {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    dir: tempfile::TempDir,
}

impl Env {
    async fn new() -> Self {
        require("AWS_ENDPOINT_URL");
        let source = require("BILLWATCH_BUDGETS_TABLE");
        let dynamo = billwatch_aws::clients::dynamodb(&billwatch_aws::clients::sdk_config().await);
        let described = dynamo
            .describe_table()
            .table_name(&source)
            .send()
            .await
            .unwrap_or_else(|e| panic!("table {source} from the local stack: {e:?}"));
        let t = described.table().expect("a table description");
        let table = unique(&source);
        dynamo
            .create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(t.key_schema().to_vec()))
            .set_attribute_definitions(Some(t.attribute_definitions().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {table}: {e:?}"));
        Self {
            dynamo,
            table,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn billwatch(&self, args: &[&str]) -> Run {
        let words: Vec<&str> = ["budgets"].iter().chain(args).copied().collect();
        let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
            .arg("budgets")
            .args(args)
            .envs(billwatch_tests::Principal::for_cli(&words).env())
            .env("BILLWATCH_BUDGETS_TABLE", &self.table)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `apply FILE --dry-run`, or `apply FILE --yes` (stdin is not a terminal here, so apply
    /// would refuse to remove or change budgets without it).
    fn apply(&self, file: &Path, dry_run: bool) -> Run {
        let mut args = vec!["apply", file.to_str().unwrap()];
        args.push(if dry_run { "--dry-run" } else { "--yes" });
        self.billwatch(&args)
    }

    async fn stored(&self) -> Vec<Budget> {
        let mut b = BudgetsStore::new(self.dynamo.clone(), &self.table)
            .list()
            .await
            .unwrap();
        b.sort_by(|a, b| a.name.cmp(&b.name));
        b
    }

    async fn names(&self) -> Vec<String> {
        self.stored().await.into_iter().map(|b| b.name).collect()
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:#?}");
        self
    }

    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

const TWO: &str = r#"
[[budget]]
name = "all"
amount = "1000.00"
currency = "USD"
scope = "all"
thresholds = [{ percent = 50 }, { percent = 80, basis = "forecast" }, { amount = "1000" }]
escalation_step = 20

[[budget]]
name = "ec2"
amount = 250
currency = "USD"
account = "123456789012"
service = "AmazonEC2"
thresholds = [{ percent = 100 }]
topic_arn = "arn:aws:sns:us-east-1:123456789012:ec2-owners"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn apply_creates_every_field_and_reapplying_changes_nothing() {
    let env = Env::new().await;
    let file = env.file("budgets.toml", TWO);
    let run = env.apply(&file, false).ok();
    assert_eq!(
        run.lines(),
        [
            "+ all  1000 USD  scope all  thresholds 50%, 1000 USD, 80% forecast  escalation every 20%  topic default",
            "+ ec2  250 USD  scope account-service:123456789012:AmazonEC2  thresholds 100%  escalation none  topic arn:aws:sns:us-east-1:123456789012:ec2-owners",
            "applied: 2 added, 0 changed, 0 removed",
        ]
    );
    let stored = env.stored().await;
    assert_eq!(
        stored[0],
        Budget {
            name: "all".into(),
            scope: Scope::All,
            amount: d("1000"),
            currency: "USD".into(),
            thresholds: vec![
                Threshold::percent(d("50")),
                Threshold::percent(d("80")).on(Basis::Forecast),
                Threshold::absolute(d("1000")),
            ],
            escalation_step: Some(d("20")),
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        }
    );
    assert_eq!(
        stored[1].scope,
        Scope::AccountService {
            account: "123456789012".into(),
            service: "AmazonEC2".into()
        }
    );
    assert_eq!(
        stored[1].topic_arn.as_deref(),
        Some("arn:aws:sns:us-east-1:123456789012:ec2-owners")
    );
    // Stored as documented: scope text, thresholds a list of maps.
    let item = env
        .dynamo
        .get_item()
        .table_name(&env.table)
        .key("pk", AttributeValue::S("BUDGETS".into()))
        .key("sk", AttributeValue::S("all".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["scope"].as_s().unwrap(), "all");
    let t = item["thresholds"].as_l().unwrap();
    assert_eq!(t[1].as_m().unwrap()["percent"].as_n().unwrap(), "80");
    assert_eq!(t[1].as_m().unwrap()["basis"].as_s().unwrap(), "forecast");
    assert_eq!(t[2].as_m().unwrap()["amount"].as_n().unwrap(), "1000");

    let again = env.apply(&file, false).ok();
    assert_eq!(again.lines(), ["no changes"]);
    assert_eq!(env.stored().await, stored);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_is_a_field_diff_and_a_removal_a_minus() {
    let env = Env::new().await;
    env.apply(&env.file("v1.toml", TWO), false).ok();
    let v2 = r#"
[[budget]]
name = "all"
amount = "1200"
currency = "USD"
thresholds = [{ amount = "1000" }, { percent = 80, basis = "forecast" }, { percent = 60 }]
escalation_step = 20

[[budget]]
name = "s3"
amount = "80.5"
currency = "USD"
service = "AmazonS3"
thresholds = [{ percent = 90, basis = "forecast" }]
"#;
    let file = env.file("v2.toml", v2);
    let run = env.apply(&file, false).ok();
    assert_eq!(
        run.lines(),
        [
            "~ all: amount 1000 → 1200",
            "~ all: thresholds 50%, 1000 USD, 80% forecast → 60%, 1000 USD, 80% forecast",
            "- ec2",
            "+ s3  80.5 USD  scope service:AmazonS3  thresholds 90% forecast  escalation none  topic default",
            "applied: 1 added, 1 changed, 1 removed",
        ]
    );
    let stored = env.stored().await;
    assert_eq!(env.names().await, ["all", "s3"]);
    assert_eq!(stored[0].amount, d("1200"));
    assert_eq!(stored[0].thresholds_text(), "60%, 1000 USD, 80% forecast");
    assert_eq!(stored[1].scope, Scope::Service("AmazonS3".into()));
    assert_eq!(env.apply(&file, false).ok().lines(), ["no changes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_prints_the_diff_and_writes_nothing() {
    let env = Env::new().await;
    let run = env.apply(&env.file("a.toml", TWO), true).ok();
    assert_eq!(run.lines().len(), 3, "{run:#?}");
    assert!(run.stdout.starts_with("+ all  1000 USD"), "{run:#?}");
    assert_eq!(
        run.lines()[2],
        "dry run: 2 to add, 0 to change, 0 to remove; nothing was written"
    );
    assert!(env.stored().await.is_empty());

    env.apply(&env.file("a.toml", TWO), false).ok();
    let before = env.stored().await;
    let edit = TWO.replace("amount = 250", "amount = 300");
    let only_one = &edit[..edit.find("[[budget]]\nname = \"ec2\"").unwrap()];
    let run = env.apply(&env.file("b.toml", only_one), true).ok();
    assert_eq!(
        run.lines(),
        [
            "- ec2",
            "dry run: 0 to add, 0 to change, 1 to remove; nothing was written"
        ]
    );
    let run = env.apply(&env.file("c.toml", &edit), true).ok();
    assert_eq!(run.lines()[0], "~ ec2: amount 250 → 300");
    assert_eq!(env.stored().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_file_exits_2_lists_every_problem_and_writes_nothing() {
    let env = Env::new().await;
    env.apply(&env.file("good.toml", TWO), false).ok();
    let before = env.stored().await;
    let bad = r#"
[[budget]]
name = "dup"
amount = "100"
currency = "USD"
thresholds = [{ percent = 50 }]

[[budget]]
name = "dup"
amount = "-100"
currency = "USD"
thresholds = [{ percent = 50 }]

[[budget]]
name = "empty"
amount = "100"
currency = "USD"
thresholds = []

[[budget]]
name = "typo"
amount = "100"
currency = "USD"
acount = "123456789012"
thresholds = [{ percent = 50 }]

[[budget]]
name = "money"
amount = "100"
currency = "dollars"
thresholds = [{ percent = 50 }]
"#;
    let file = env.file("bad.toml", bad);
    for dry_run in [false, true] {
        let run = env.apply(&file, dry_run);
        assert_eq!(run.code, 2, "{run:#?}");
        assert_eq!(run.stdout, "", "no diff for an invalid file");
        let f = file.display();
        let expected = [
            format!("error: {f}: budget 'dup' (#2): amount: must be greater than zero, got -100"),
            format!("error: {f}: budget 'dup' (#2): name: 'dup' is also the name of budget #1"),
            format!("error: {f}: budget 'empty' (#3): thresholds: needs at least one threshold"),
            format!("error: {f}: budget 'typo' (#4): acount: unknown field `acount`, expected one of `name`, `amount`, `currency`, `kind`, `unit`, `cost`, `exclude`, `period`, `filter`, `scope`, `account`, `service`, `tag`, `thresholds`, `escalation_step`, `topic_arn`, `digest`, `days`, `channels`"),
            format!("error: {f}: budget 'money' (#5): currency: 'dollars' is not a 3-letter ISO 4217 code like USD"),
            format!("error: {f}: 5 problems; nothing was written"),
        ];
        assert_eq!(run.stderr.lines().collect::<Vec<_>>(), expected);
    }
    assert_eq!(env.stored().await, before);

    let broken = env.file("broken.toml", "[[budget]\nname = \"x\"\n");
    let run = env.apply(&broken, false);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.toml: TOML parse error at line 1"),
        "{run:#?}"
    );
    let missing = env.apply(&env.dir.path().join("nope.toml"), false);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("nope.toml: cannot read"),
        "{missing:#?}"
    );
    let empty = env.apply(&env.file("empty.toml", "# nothing yet\n"), false);
    assert_eq!(empty.code, 2);
    assert!(empty.stderr.contains("no [[budget]] tables"), "{empty:#?}");
    assert_eq!(env.stored().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_file_applies() {
    let env = Env::new().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../budgets.example.toml");
    let dry = env.apply(&example, true).ok();
    let added: Vec<&str> = dry
        .lines()
        .iter()
        .filter(|l| l.starts_with("+ "))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(
        added,
        [
            "all-accounts",
            "commitments-ending",
            "data-team-quarter",
            "eu-entity",
            "follows-the-past",
            "prod",
            "prod-ec2",
            "rds-ri-coverage",
            "s3-everywhere",
            "s3-storage",
            "sp-utilization",
            "team-data"
        ]
    );
    assert!(env.stored().await.is_empty());
    env.apply(&example, false).ok();
    let stored = env.stored().await;
    assert_eq!(stored.len(), 12);
    // The models read back as written.
    let parsed = {
        let text = std::fs::read_to_string(&example).unwrap();
        let list = Command::new(env!("CARGO_BIN_EXE_billwatch"))
            .args(["--output", "json", "budgets", "check"])
            .arg(&example)
            .output()
            .unwrap();
        assert!(list.status.success(), "{text}");
        serde_json::from_slice::<Value>(&list.stdout).unwrap()
    };
    for b in parsed["budgets"].as_array().unwrap() {
        let name = b["name"].as_str().unwrap();
        let back = stored.iter().find(|s| s.name == name).unwrap();
        assert_eq!(
            b["counts"].as_str().unwrap_or_default(),
            back.model_text(),
            "{name}"
        );
    }
    let scopes: Vec<String> = stored.iter().map(|b| b.scope.to_text()).collect();
    assert_eq!(
        scopes,
        [
            "all",
            "all",
            "all",
            "account:210987654321",
            "all",
            "account:123456789012",
            "account-service:123456789012:AmazonEC2",
            "all",
            "service:AmazonS3",
            "all",
            "all",
            "tag:team=data",
        ]
    );
    let kinds: std::collections::HashSet<(Basis, bool)> = stored
        .iter()
        .flat_map(|b| &b.thresholds)
        .map(|t| (t.basis, matches!(t.level, Level::Percent(_))))
        .collect();
    assert_eq!(kinds.len(), 4);
    let with_digest: Vec<&str> = stored
        .iter()
        .filter(|b| b.digest)
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(with_digest, ["prod-ec2", "sp-utilization"]);
    let anomalies = BudgetsStore::new(env.dynamo.clone(), &env.table)
        .anomaly_config()
        .await
        .unwrap();
    assert_eq!(
        anomalies
            .settings_for("123456789012", "AmazonEC2")
            .min_impact,
        d("100")
    );
    assert!(!anomalies.settings_for("123456789012", "AWSLambda").enabled);
    assert_eq!(env.apply(&example, false).ok().lines(), ["no changes"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn put_list_and_rm_handle_every_field() {
    let env = Env::new().await;
    env.billwatch(&[
        "put",
        "ec2",
        "--amount",
        "500",
        "--account",
        "123456789012",
        "--service",
        "AmazonEC2",
        "--thresholds",
        "50,400 USD",
        "--forecast-thresholds",
        "100%",
        "--escalation-step",
        "25",
        "--topic-arn",
        "arn:aws:sns:us-east-1:123456789012:t",
    ])
    .ok();
    env.billwatch(&["put", "data", "--amount", "10", "--tag", "team=data"])
        .ok();
    let list = env.billwatch(&["list"]).ok();
    assert_eq!(
        list.lines(),
        [
            "data  10 USD  scope tag:team=data  thresholds 50%, 80%, 100%  escalation none  topic default",
            "ec2  500 USD  scope account-service:123456789012:AmazonEC2  thresholds 50%, 400 USD, 100% forecast  escalation every 25%  topic arn:aws:sns:us-east-1:123456789012:t",
        ]
    );
    let json: Value =
        serde_json::from_str(&env.billwatch(&["list", "--json"]).ok().stdout).unwrap();
    assert_eq!(
        json[1],
        serde_json::json!({
            "name": "ec2",
            "scope": "account-service:123456789012:AmazonEC2",
            "amount": "500",
            "currency": "USD",
            "thresholds": ["50%", "400 USD", "100% forecast"],
            "escalation_step": "25",
            "topic_arn": "arn:aws:sns:us-east-1:123456789012:t",
            "digest": false,
        })
    );
    let bad = env.billwatch(&[
        "put",
        "x",
        "--amount",
        "0",
        "--tag",
        "nope",
        "--currency",
        "usd",
    ]);
    assert_eq!(bad.code, 2, "{bad:#?}");
    assert_eq!(
        bad.stderr.lines().collect::<Vec<_>>(),
        [
            "error: budget 'x': tag: 'nope' is not KEY=VALUE",
            "error: budget 'x': amount: must be greater than zero, got 0",
            "error: budget 'x': currency: 'usd' is not a 3-letter ISO 4217 code like USD",
        ]
    );
    assert_eq!(
        env.billwatch(&["rm", "data"]).ok().stdout,
        "budget 'data' removed\n"
    );
    let again = env.billwatch(&["rm", "data"]);
    // A budget that is not there is bad input (exit 2), as docs/querying.md documents; 1 is a
    // failed AWS call.
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("no budget named 'data'"),
        "{again:#?}"
    );
    assert_eq!(env.names().await, ["ec2"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn items_of_the_first_shape_are_read_and_rewritten_by_apply() {
    let env = Env::new().await;
    let s = |v: &str| AttributeValue::S(v.into());
    let n = |v: &str| AttributeValue::N(v.into());
    let item: HashMap<String, AttributeValue> = HashMap::from([
        ("pk".into(), s("BUDGETS")),
        ("sk".into(), s("old")),
        ("name".into(), s("old")),
        ("scope".into(), s("123456789012")),
        ("amount".into(), n("100")),
        ("currency".into(), s("USD")),
        (
            "thresholds".into(),
            AttributeValue::L(vec![n("50"), n("80")]),
        ),
    ]);
    env.dynamo
        .put_item()
        .table_name(&env.table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let list = env.billwatch(&["list"]).ok();
    assert_eq!(
        list.stdout,
        "old  100 USD  scope account:123456789012  thresholds 50%, 80%  escalation none  topic default\n"
    );
    let same = r#"
[[budget]]
name = "old"
amount = 100
currency = "USD"
account = "123456789012"
thresholds = [{ percent = 80 }, { percent = 50, basis = "actual" }]
"#;
    assert_eq!(
        env.apply(&env.file("same.toml", same), false).ok().lines(),
        ["no changes"]
    );
    let more = same.replace("amount = 100", "amount = 150");
    env.apply(&env.file("more.toml", &more), false).ok();
    let item = env
        .dynamo
        .get_item()
        .table_name(&env.table)
        .key("pk", s("BUDGETS"))
        .key("sk", s("old"))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["scope"].as_s().unwrap(), "account:123456789012");
    assert!(item["thresholds"].as_l().unwrap()[0].as_m().is_ok());
    assert_eq!(env.stored().await[0].amount, d("150"));
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_conditional_on_the_diff_fail_whole_when_the_table_moved() {
    use billwatch_aws::store::budgets::BudgetWrite;
    let env = Env::new().await;
    env.apply(&env.file("a.toml", TWO), false).ok();
    let before = env.stored().await;
    let store = BudgetsStore::new(env.dynamo.clone(), &env.table);
    let mut changed = before[1].clone();
    changed.amount = d("5");
    // "all" exists already, so creating it fails, and the replace beside it is not written.
    let err = store
        .apply(&[
            BudgetWrite::Replace(changed.clone()),
            BudgetWrite::Create(before[0].clone()),
        ])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("someone else"), "{err}");
    assert_eq!(env.stored().await, before);
    let err = store
        .apply(&[BudgetWrite::Delete("gone".into())])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("someone else"), "{err}");
    store
        .apply(&[BudgetWrite::Replace(changed.clone())])
        .await
        .unwrap();
    assert_eq!(env.stored().await[1], changed);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_yes_adds_but_refuses_to_remove_or_change_without_a_terminal() {
    let env = Env::new().await;
    let file = env.file("two.toml", TWO);
    // Only additions: nothing to confirm.
    let run = env.billwatch(&["apply", file.to_str().unwrap()]).ok();
    assert_eq!(
        run.lines().last(),
        Some(&"applied: 2 added, 0 changed, 0 removed")
    );
    let before = env.stored().await;
    let edit = TWO.replace("amount = 250", "amount = 300");
    let only_all = &edit[..edit.find("[[budget]]\nname = \"ec2\"").unwrap()];
    for text in [only_all.to_string(), edit.clone()] {
        let file = env.file("edit.toml", &text);
        let run = env.billwatch(&["apply", file.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{run:#?}");
        assert!(
            run.stdout.starts_with("- ec2\n")
                || run.stdout.starts_with("~ ec2: amount 250 → 300\n"),
            "the diff is shown first: {run:#?}"
        );
        let stderr: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(stderr.len(), 1, "{run:#?}");
        assert!(
            stderr[0].starts_with("error: 0 to add, ")
                && stderr[0].ends_with(
                    ": apply asks before removing or changing budgets, and stdin is not a \
                     terminal to ask on; nothing was written (pass --yes to apply without asking)"
                ),
            "{run:#?}"
        );
        assert_eq!(env.stored().await, before, "nothing written");
    }
    let run = env
        .billwatch(&[
            "apply",
            "-y",
            env.file("edit.toml", &edit).to_str().unwrap(),
        ])
        .ok();
    assert_eq!(
        run.lines(),
        [
            "~ ec2: amount 250 → 300",
            "applied: 0 added, 1 changed, 0 removed"
        ]
    );
    assert_eq!(env.stored().await[1].amount, d("300"));
}

/// `billwatch budgets check FILE` with no AWS settings at all (no region, no credentials, no
/// endpoint, no table).
fn check(file: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(["budgets", "check"])
        .arg(file)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent-billwatch-home")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn check_validates_offline_exit_0_when_valid() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("budgets.toml");
    std::fs::write(&file, TWO).unwrap();
    let run = check(&file).ok();
    assert_eq!(
        run.lines(),
        [
            format!("{}: valid, 2 budgets", file.display()).as_str(),
            "  all  1000 USD  scope all  thresholds 50%, 1000 USD, 80% forecast  escalation every 20%  topic default",
            "  ec2  250 USD  scope account-service:123456789012:AmazonEC2  thresholds 100%  escalation none  topic arn:aws:sns:us-east-1:123456789012:ec2-owners",
        ]
    );
    assert_eq!(run.stderr, "");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../budgets.example.toml");
    let run = check(&example).ok();
    assert!(run.stdout.contains(": valid, 12 budgets\n"), "{run:#?}");
    let out = Command::new(env!("CARGO_BIN_EXE_billwatch"))
        .args(["budgets", "check", "--output", "json"])
        .arg(&file)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["budgets"][0]["name"], "all");
    assert_eq!(
        v["budgets"][0]["thresholds"],
        serde_json::json!(["50%", "1000 USD", "80% forecast"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_with_output_json_prints_one_object_of_changes() {
    let env = Env::new().await;
    let file = env.file("two.toml", TWO);
    let path = file.to_str().unwrap();
    let run = env
        .billwatch(&["apply", path, "--dry-run", "--output", "json"])
        .ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["written"], false);
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["changes"][0]["change"], "add");
    assert_eq!(v["changes"][0]["budget"]["thresholds"][1], "1000 USD");
    let run = env.billwatch(&["apply", path, "--output", "json"]).ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["written"], true);
    assert_eq!(v["changes"].as_array().unwrap().len(), 2);
    let edit = env.file("edit.toml", &TWO.replace("amount = 250", "amount = 300"));
    let run = env
        .billwatch(&["apply", edit.to_str().unwrap(), "--yes", "--output", "json"])
        .ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["changes"],
        serde_json::json!([{
            "change": "update", "name": "ec2",
            "fields": [{"field": "amount", "old": "250", "new": "300"}],
            "budget": {
                "name": "ec2", "scope": "account-service:123456789012:AmazonEC2",
                "amount": "300", "currency": "USD", "thresholds": ["100%"],
                "escalation_step": null,
                "topic_arn": "arn:aws:sns:us-east-1:123456789012:ec2-owners",
                "digest": false,
            },
        }])
    );
    let run = env.billwatch(&["rm", "ec2", "--output", "json"]).ok();
    assert_eq!(run.stdout, "{\"removed\":\"ec2\"}\n");
}

#[test]
fn check_lists_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        r#"
[[budget]]
name = "team"
amount = "100"
currency = "USD"
thresholds = ["80", "50%"]

[[budget]]
name = "team"
amount = "0"
currency = "USD"
acount = "123456789012"
thresholds = ["90 % forecast", "100 EUR"]
"#,
    )
    .unwrap();
    let run = check(&file);
    assert_eq!(run.code, 2, "{run:#?}");
    assert_eq!(run.stdout, "");
    let f = file.display();
    let forms = "write \"80%\" (a percentage of the amount) or \"500 USD\" (an amount in the \
                 budget's currency), with \" forecast\" after it for the forecast month-end \
                 spend, e.g. \"90% forecast\"";
    assert_eq!(
        run.stderr.lines().collect::<Vec<_>>(),
        [
            format!("error: {f}: budget 'team' (#1): thresholds #1: '80' is not a threshold: {forms}"),
            format!("error: {f}: budget 'team' (#2): acount: unknown field `acount`, expected one of `name`, `amount`, `currency`, `kind`, `unit`, `cost`, `exclude`, `period`, `filter`, `scope`, `account`, `service`, `tag`, `thresholds`, `escalation_step`, `topic_arn`, `digest`, `days`, `channels`"),
            format!("error: {f}: budget 'team' (#2): thresholds #2: '100 EUR' is in EUR, but the budget is in USD"),
            format!("error: {f}: budget 'team' (#2): amount: must be greater than zero, got 0"),
            format!("error: {f}: budget 'team' (#2): name: 'team' is also the name of budget #1"),
            format!("error: {f}: 5 problems; not valid"),
        ]
    );
    let missing = check(&dir.path().join("nope.toml"));
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("nope.toml: cannot read"),
        "{missing:#?}"
    );
}

/// On a terminal (a pseudo-terminal from util-linux `script`), apply asks, and only a yes
/// writes. Where `script` is missing (not Linux) the test says so and checks nothing.
#[tokio::test(flavor = "multi_thread")]
async fn on_a_terminal_apply_asks_and_only_yes_writes() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("not run: no /usr/bin/script to give billwatch a terminal");
        return;
    }
    let env = Env::new().await;
    env.apply(&env.file("two.toml", TWO), false).ok();
    let before = env.stored().await;
    let only_all = &TWO[..TWO.find("[[budget]]\nname = \"ec2\"").unwrap()];
    let file = env.file("one.toml", only_all);
    let on_a_terminal = |answer: &str| {
        use std::io::Write;
        let command = format!(
            "{} budgets apply {}",
            env!("CARGO_BIN_EXE_billwatch"),
            file.display()
        );
        let mut child = Command::new("/usr/bin/script")
            .args(["-qec", &command, "/dev/null"])
            .envs(billwatch_tests::Principal::CliOperator.env())
            .env("BILLWATCH_BUDGETS_TABLE", &env.table)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let question = format!("Remove 1 budget in table {}? [y/N] ", env.table);
    let (code, screen) = on_a_terminal("n\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(screen.contains("- ec2"), "{screen}");
    assert!(screen.contains(&question), "{screen}");
    assert!(
        screen.contains("not confirmed; nothing was written"),
        "{screen}"
    );
    assert_eq!(env.stored().await, before);
    let (code, screen) = on_a_terminal("y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains(&question), "{screen}");
    assert!(
        screen.contains("applied: 0 added, 0 changed, 1 removed"),
        "{screen}"
    );
    assert_eq!(env.names().await, ["all"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn anomaly_settings_apply_with_the_budgets_and_show_in_the_diff() {
    let env = Env::new().await;
    let store = BudgetsStore::new(env.dynamo.clone(), &env.table);
    let with = format!(
        "{TWO}\n[anomalies]\nmin_impact = \"50\"\n\n[[anomalies.scope]]\naccount = \"123456789012\"\nservice = \"AmazonEC2\"\nsensitivity = 6\n"
    );
    let file = env.file("anomalies.toml", &with);
    let dry = env.apply(&file, true).ok();
    assert!(dry.stdout.contains("~ [anomalies]"), "{dry:#?}");
    assert!(
        dry.stdout.contains("anomaly settings to change"),
        "{dry:#?}"
    );
    assert_eq!(store.anomaly_config().await.unwrap(), Default::default());
    let run = env.apply(&file, false).ok();
    assert!(run.stdout.contains("anomaly settings changed"), "{run:#?}");
    let stored = store.anomaly_config().await.unwrap();
    assert_eq!(stored.min_impact, Some(d("50")));
    assert_eq!(
        stored.settings_for("123456789012", "AmazonEC2").sensitivity,
        d("6")
    );
    // The settings item is not a budget.
    assert_eq!(env.names().await, ["all", "ec2"]);
    assert_eq!(env.apply(&file, false).ok().lines(), ["no changes"]);
    // Without [anomalies] the defaults come back.
    let run = env.apply(&env.file("plain.toml", TWO), false).ok();
    assert!(run.stdout.contains("~ [anomalies]"), "{run:#?}");
    assert_eq!(store.anomaly_config().await.unwrap(), Default::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn channels_are_applied_with_the_budgets_that_name_them_and_changes_are_confirmed() {
    let env = Env::new().await;
    let text = r#"
[[channel]]
name = "finops-slack"
type = "slack"
url = { ssm = "/billwatch/finops-slack" }

[[budget]]
name = "all"
amount = "100"
currency = "USD"
thresholds = ["80%"]
channels = ["finops-slack"]
"#;
    let file = env.file("channels.toml", text);
    // Declaring the first channels is no change to confirm.
    let run = env.billwatch(&["apply", file.to_str().unwrap()]).ok();
    assert!(
        run.lines().last().unwrap().contains("channels changed"),
        "{run:#?}"
    );
    let stored = env.stored().await;
    assert_eq!(stored[0].channels, ["finops-slack"]);
    let store = BudgetsStore::new(env.dynamo.clone(), &env.table);
    let channels = store.channels().await.unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0].name, "finops-slack");
    assert_eq!(env.apply(&file, false).ok().lines(), ["no changes"]);
    // Changing a channel is: without a terminal, refused unless --yes.
    let changed = env.file(
        "changed.toml",
        &text.replace("/billwatch/finops-slack", "/billwatch/finops-slack-2"),
    );
    let run = env.billwatch(&["apply", changed.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(run.stdout.contains("~ [[channel]]"), "{run:#?}");
    env.apply(&changed, false).ok();
    let channels = store.channels().await.unwrap();
    assert_eq!(
        channels[0].url,
        billwatch_core::channel::SecretRef::Ssm("/billwatch/finops-slack-2".into())
    );
}
