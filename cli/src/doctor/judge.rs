//! The doctor's decisions, from plain data: what the template gives a stack (expected) against
//! what the describe calls found (facts), one [`Check`] per piece, each with the fix a person
//! runs. No AWS here: `gather` collects the facts, `mod.rs` prints the checks.

use serde::Serialize;
use std::collections::BTreeMap;

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Works, but something a person should do (confirm a subscription, raise a setting).
    Warn,
    /// A piece is missing or wrong: reports are not ingested or alerts are not sent.
    Fail,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the doctor's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub status: Status,
    /// What was found (for a pass) or what is wrong.
    pub detail: String,
    /// What to run or do about it (never on a pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            status: Status::Pass,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            name: name.into(),
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check {
            name: name.into(),
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Passes, warnings and failures of a list of checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub passed: usize,
    pub warnings: usize,
    pub failed: usize,
}

impl Tally {
    pub fn of(checks: &[Check]) -> Self {
        let mut t = Tally::default();
        for c in checks {
            match c.status {
                Status::Pass => t.passed += 1,
                Status::Warn => t.warnings += 1,
                Status::Fail => t.failed += 1,
            }
        }
        t
    }

    /// `12 passed, 1 warning, 2 failed`.
    pub fn line(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{} passed, {}, {} failed",
            self.passed,
            plural(self.warnings, "warning", "warnings"),
            self.failed
        )
    }
}

/// The outcome of one describe call: found, not there, or the call failed (the text says why,
/// in the CLI's plain words: access denied, throttled, unreachable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found<T> {
    Yes(T),
    Missing,
    Error(String),
}

/// The re-deploy that puts any piece of the stack back as the template says.
pub const REDEPLOY: &str = "run `sam build && sam deploy` (scripts/sam) with this stack's name and parameters: the template creates it";

/// The three report suffixes the template's notifications and rule send to the function.
pub const SUFFIXES: [&str; 3] = [".csv", ".csv.zip", "-Manifest.json"];

/// What the template gives a stack: names follow the stack name (BILLWATCH_* override them),
/// the bucket is the stack's own (`STACK-billing-ACCOUNT`) or an existing one, the prefix is
/// the ReportPrefix parameter (empty: the whole bucket).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub stack: String,
    pub totals_table: String,
    pub reports_table: String,
    pub budgets_table: String,
    pub alerts_table: String,
    /// The alert topic's ARN, when it was found (or given).
    pub alert_topic: Option<String>,
    pub bucket: String,
    pub report_prefix: String,
}

impl Expected {
    /// Whether the bucket is the one the stack creates (S3 notifications invoke the function)
    /// rather than an existing one (its EventBridge events do, through the stack's rule).
    pub fn own_bucket(&self) -> bool {
        self.bucket
            .strip_prefix(&format!("{}-billing-", self.stack))
            .is_some_and(|account| {
                account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
            })
    }

    /// The name of the EventBridge rule of an existing bucket.
    pub fn rule_name(&self) -> String {
        format!("{}-report-created", self.stack)
    }
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/// What DescribeTable and DescribeTimeToLive say of a table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableFacts {
    pub status: String,
    /// (attribute, HASH|RANGE) in schema order.
    pub keys: Vec<(String, String)>,
    /// Global secondary indexes: name → key schema.
    pub indexes: BTreeMap<String, Vec<(String, String)>>,
    /// The TTL attribute when TTL is on (ENABLED or ENABLING).
    pub ttl: Option<String>,
}

/// Which of the four tables, for what the template gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableRole {
    Totals,
    Reports,
    Budgets,
    Alerts,
}

impl TableRole {
    pub const ALL: [TableRole; 4] = [
        TableRole::Totals,
        TableRole::Reports,
        TableRole::Budgets,
        TableRole::Alerts,
    ];

    pub fn name(self, e: &Expected) -> &str {
        match self {
            TableRole::Totals => &e.totals_table,
            TableRole::Reports => &e.reports_table,
            TableRole::Budgets => &e.budgets_table,
            TableRole::Alerts => &e.alerts_table,
        }
    }

    fn env(self) -> &'static str {
        match self {
            TableRole::Totals => "BILLWATCH_TOTALS_TABLE",
            TableRole::Reports => "BILLWATCH_REPORTS_TABLE",
            TableRole::Budgets => "BILLWATCH_BUDGETS_TABLE",
            TableRole::Alerts => "BILLWATCH_ALERTS_TABLE",
        }
    }
}

fn pk_sk() -> Vec<(String, String)> {
    vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]
}

fn keys_text(keys: &[(String, String)]) -> String {
    keys.iter()
        .map(|(a, k)| format!("{a} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table against the template (docs/tables.md): keys pk/sk, the totals' by-account-service
/// index, the alerts' TTL on expires_at.
pub fn table(role: TableRole, e: &Expected, found: &Found<TableFacts>) -> Check {
    let name = role.name(e);
    let check = format!("table {name}");
    let t = match found {
        Found::Yes(t) => t,
        Found::Missing => {
            return Check::fail(
                check,
                "not found",
                format!(
                    "{REDEPLOY}; or, if the stack has another name, pass --stack NAME (or set {})",
                    role.env()
                ),
            )
        }
        Found::Error(e) => {
            return Check::fail(check, e.clone(), "see the error; then run doctor again")
        }
    };
    let mut problems = Vec::new();
    if t.keys != pk_sk() {
        problems.push(format!(
            "keys are [{}], the template's [pk HASH, sk RANGE]",
            keys_text(&t.keys)
        ));
    }
    let mut notes = vec!["keys pk/sk".to_string()];
    if role == TableRole::Totals {
        let want = vec![
            ("gsi1pk".into(), "HASH".into()),
            ("gsi1sk".into(), "RANGE".into()),
        ];
        match t.indexes.get("by-account-service") {
            None => problems.push("index by-account-service is missing (billwatch history reads it)".into()),
            Some(k) if *k != want => problems.push(format!(
                "index by-account-service has keys [{}], the template's [gsi1pk HASH, gsi1sk RANGE]",
                keys_text(k)
            )),
            Some(_) => notes.push("index by-account-service".into()),
        }
    }
    if role == TableRole::Alerts {
        match t.ttl.as_deref() {
            Some("expires_at") => notes.push("TTL expires_at".into()),
            other => problems.push(format!(
                "TTL is {}, the template's expires_at (old claims would stay forever)",
                other.map_or("off".to_string(), |a| format!("on {a}"))
            )),
        }
    }
    if !problems.is_empty() {
        return Check::fail(check, problems.join("; "), REDEPLOY);
    }
    if t.status != "ACTIVE" {
        return Check::warn(
            check,
            format!("status {} (not ACTIVE yet)", t.status),
            "wait a minute and run doctor again",
        );
    }
    Check::pass(check, notes.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Bucket and its notifications (or the EventBridge rule of an existing bucket)
// ---------------------------------------------------------------------------------------------

/// What the bucket's versioning and notification configuration say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketFacts {
    /// `Enabled`, `Suspended`, or None (never turned on); Err when GetBucketVersioning's
    /// answer could not be had or read (the bucket exists: its notifications were read).
    pub versioning: Result<Option<String>, String>,
    pub lambda: Vec<LambdaNotification>,
    /// Whether the bucket sends its events to EventBridge.
    pub eventbridge: bool,
}

impl Default for BucketFacts {
    fn default() -> Self {
        BucketFacts {
            versioning: Ok(None),
            lambda: Vec::new(),
            eventbridge: false,
        }
    }
}

/// One LambdaFunctionConfiguration of the bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LambdaNotification {
    pub function_arn: String,
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}

pub fn bucket(e: &Expected, found: &Found<BucketFacts>) -> Check {
    let check = format!("bucket {}", e.bucket);
    match found {
        Found::Yes(b) => match b.versioning.as_ref().map(Option::as_deref) {
            Ok(Some("Enabled")) => Check::pass(check, "versioning on"),
            Err(err) => Check::warn(
                check,
                format!("found; its versioning could not be read: {err}"),
                format!(
                    "check it: aws s3api get-bucket-versioning --bucket {} (the template turns it on)",
                    e.bucket
                ),
            ),
            Ok(other) => Check::warn(
                check,
                format!("versioning {}", other.unwrap_or("off")),
                format!(
                    "turn versioning on (aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled): each event then names the version it is for",
                    e.bucket
                ),
            ),
        },
        Found::Missing if e.own_bucket() => Check::fail(check, "not found", REDEPLOY),
        Found::Missing => Check::fail(
            check,
            "not found",
            "check the ExistingBucketName the stack was deployed with (and --region): the function reads that bucket",
        ),
        Found::Error(err) => Check::fail(check, err.clone(), "see the error; then run doctor again"),
    }
}

fn creates_objects(events: &[String]) -> bool {
    events.iter().any(|e| e == "s3:ObjectCreated:*")
        || ["Put", "Post", "Copy", "CompleteMultipartUpload"]
            .iter()
            .all(|k| events.iter().any(|e| *e == format!("s3:ObjectCreated:{k}")))
}

fn short_function(arn: &str) -> &str {
    arn.rsplit(":function:").next().unwrap_or(arn)
}

/// The bucket's S3 notifications, one check per report suffix: each must send ObjectCreated
/// events of keys under the prefix with that suffix to the ingest function.
pub fn notifications(
    e: &Expected,
    bucket: &Found<BucketFacts>,
    function_arn: Option<&str>,
) -> Vec<Check> {
    let b = match bucket {
        Found::Yes(b) => b,
        // The bucket check says why; one line is enough.
        _ => {
            return vec![Check::fail(
                "notifications",
                "cannot be read: see the bucket above",
                "fix the bucket first",
            )]
        }
    };
    let prefix = (!e.report_prefix.is_empty()).then_some(e.report_prefix.as_str());
    SUFFIXES
        .iter()
        .map(|suffix| {
            let check = format!("notification *{suffix}");
            let same_keys: Vec<_> = b
                .lambda
                .iter()
                .filter(|n| n.suffix.as_deref() == Some(*suffix))
                .collect();
            let fix = format!(
                "{REDEPLOY} (it writes the bucket's whole notification configuration; a put-bucket-notification-configuration by hand replaces all of it)"
            );
            let Some(n) = same_keys.first() else {
                return Check::fail(
                    check,
                    format!("no S3 notification of the bucket invokes a function for keys ending in {suffix}: those reports are never ingested"),
                    fix,
                );
            };
            let mut problems = Vec::new();
            if n.prefix.as_deref().filter(|p| !p.is_empty()) != prefix {
                problems.push(format!(
                    "filters on prefix {:?}, the function's BILLWATCH_REPORT_PREFIX is {:?}",
                    n.prefix.as_deref().unwrap_or(""),
                    e.report_prefix
                ));
            }
            if !creates_objects(&n.events) {
                problems.push(format!("sends {} rather than s3:ObjectCreated:*", n.events.join(", ")));
            }
            match function_arn {
                Some(f) if f != n.function_arn => problems.push(format!(
                    "invokes {}, not the stack's ingest function {}",
                    short_function(&n.function_arn),
                    short_function(f)
                )),
                _ => {}
            }
            if problems.is_empty() {
                Check::pass(check, format!("ObjectCreated → {}", short_function(&n.function_arn)))
            } else {
                Check::fail(check, problems.join("; "), fix)
            }
        })
        .collect()
}

/// What DescribeRule and ListTargetsByRule say of the existing bucket's rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleFacts {
    pub state: String,
    pub pattern: Option<String>,
    pub targets: Vec<String>,
}

/// An existing bucket: it must send its events to EventBridge, and the stack's rule must match
/// its report keys and invoke the ingest function.
pub fn eventbridge(
    e: &Expected,
    bucket: &Found<BucketFacts>,
    rule: &Found<RuleFacts>,
    function_arn: Option<&str>,
) -> Vec<Check> {
    let mut out = Vec::new();
    if let Found::Yes(b) = bucket {
        out.push(if b.eventbridge {
            Check::pass("bucket events to EventBridge", "on")
        } else {
            Check::fail(
                "bucket events to EventBridge",
                format!("{} does not send its events to EventBridge: the rule never fires", e.bucket),
                "turn it on once: S3 console → the bucket → Properties → Amazon EventBridge → On (README: \"Next to an existing billing bucket\")",
            )
        });
    }
    let check = format!("rule {}", e.rule_name());
    let r = match rule {
        Found::Yes(r) => r,
        Found::Missing => {
            out.push(Check::fail(
                check,
                "not found: no report of the bucket reaches the function",
                REDEPLOY,
            ));
            return out;
        }
        Found::Error(err) => {
            out.push(Check::fail(
                check,
                err.clone(),
                "see the error; then run doctor again",
            ));
            return out;
        }
    };
    let mut problems = Vec::new();
    if r.state != "ENABLED" {
        problems.push(format!("state {}", r.state));
    }
    let pattern: serde_json::Value = r
        .pattern
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let names = &pattern["detail"]["bucket"]["name"];
    if !names
        .as_array()
        .is_some_and(|a| a.iter().any(|n| n == e.bucket.as_str()))
    {
        problems.push(format!("its pattern does not match bucket {}", e.bucket));
    }
    let keys = pattern["detail"]["object"]["key"].to_string();
    for suffix in SUFFIXES {
        if !keys.contains(&format!("\"{}*{suffix}\"", e.report_prefix)) {
            problems.push(format!(
                "its pattern misses keys {}*{suffix}",
                e.report_prefix
            ));
        }
    }
    match function_arn {
        Some(f) if !r.targets.iter().any(|t| t == f) => problems.push(format!(
            "its targets [{}] do not include the ingest function {}",
            r.targets
                .iter()
                .map(|t| short_function(t))
                .collect::<Vec<_>>()
                .join(", "),
            short_function(f)
        )),
        None if r.targets.is_empty() => problems.push("it has no target".into()),
        _ => {}
    }
    out.push(if problems.is_empty() {
        Check::pass(
            check,
            format!("enabled, {} → the ingest function", e.bucket),
        )
    } else {
        Check::fail(check, problems.join("; "), REDEPLOY)
    });
    out
}

// ---------------------------------------------------------------------------------------------
// Topics and subscriptions
// ---------------------------------------------------------------------------------------------

/// One subscription of a topic, as ListSubscriptionsByTopic gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub protocol: String,
    pub endpoint: String,
    /// `PendingConfirmation` until the endpoint confirms (e-mail: the link in AWS's mail).
    pub arn: String,
}

impl Subscription {
    pub fn pending(&self) -> bool {
        self.arn == "PendingConfirmation"
    }
}

/// A topic's subscriptions: none is a failure (nobody hears an alert), a pending one a warning
/// with the address to confirm, the confirmed ones one passing line.
pub fn subscriptions(
    label: &str,
    topic: Option<&str>,
    found: &Found<Vec<Subscription>>,
) -> Vec<Check> {
    let Some(topic) = topic else {
        return vec![Check::fail(
            format!("topic {label}"),
            "not found",
            format!("{REDEPLOY}; or, if the stack has another name, pass --stack NAME"),
        )];
    };
    let name = topic.rsplit(':').next().unwrap_or(topic);
    let check = format!("subscriptions of {name}");
    let subs = match found {
        Found::Yes(s) => s,
        Found::Missing => {
            return vec![Check::fail(format!("topic {name}"), "not found", REDEPLOY)];
        }
        Found::Error(err) => {
            return vec![Check::fail(
                check,
                err.clone(),
                "see the error; then run doctor again",
            )]
        }
    };
    let subscribe = format!(
        "deploy with AlertEmails=you@example.com (scripts/sam deploy --parameter-overrides AlertEmails=...), or: aws sns subscribe --topic-arn {topic} --protocol email --notification-endpoint you@example.com"
    );
    if subs.is_empty() {
        return vec![Check::fail(
            check,
            "none: nobody receives what is published there",
            subscribe,
        )];
    }
    let mut out = Vec::new();
    let confirmed: Vec<_> = subs.iter().filter(|s| !s.pending()).collect();
    if confirmed.is_empty() {
        out.push(Check::fail(
            check.clone(),
            format!(
                "{} subscription(s), none confirmed: nobody receives alerts yet",
                subs.len()
            ),
            "confirm the subscriptions below",
        ));
    } else {
        let list: Vec<_> = confirmed
            .iter()
            .map(|s| format!("{} {}", s.protocol, s.endpoint))
            .collect();
        out.push(Check::pass(
            check.clone(),
            format!("confirmed: {}", list.join(", ")),
        ));
    }
    for s in subs.iter().filter(|s| s.pending()) {
        let fix = if s.protocol == "email" || s.protocol == "email-json" {
            format!(
                "confirm the e-mail AWS sent to {} (subject \"AWS Notification - Subscription Confirmation\"); to have it sent again: aws sns subscribe --topic-arn {topic} --protocol {} --notification-endpoint {}",
                s.endpoint, s.protocol, s.endpoint
            )
        } else {
            format!(
                "the endpoint {} must confirm the subscription (it received a SubscriptionConfirmation message with a link)",
                s.endpoint
            )
        };
        out.push(Check::warn(
            format!("subscription {} {}", s.protocol, s.endpoint),
            "pending confirmation: receives nothing until confirmed",
            fix,
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------------------------

/// What GetFunctionConfiguration says of a function.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionFacts {
    pub name: String,
    pub arn: String,
    pub runtime: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub state: Option<String>,
    pub last_update: Option<String>,
    pub env: BTreeMap<String, String>,
}

/// Which of the two functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionRole {
    ReportIngest,
    HealthCheck,
}

impl FunctionRole {
    /// The logical id in template.yaml: CloudFormation names the function `STACK-ID-RANDOM`.
    pub fn logical_id(self) -> &'static str {
        match self {
            FunctionRole::ReportIngest => "ReportIngestFunction",
            FunctionRole::HealthCheck => "HealthCheckFunction",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FunctionRole::ReportIngest => "report-ingest",
            FunctionRole::HealthCheck => "health-check",
        }
    }

    /// The template's memory (MB) and timeout (s).
    fn settings(self) -> (i32, i32) {
        match self {
            FunctionRole::ReportIngest => (512, 300),
            FunctionRole::HealthCheck => (128, 60),
        }
    }

    /// The environment the template gives the function, from the expected names.
    pub fn env(self, e: &Expected) -> Vec<(&'static str, Option<String>)> {
        let mut out = vec![
            ("BILLWATCH_TOTALS_TABLE", Some(e.totals_table.clone())),
            ("BILLWATCH_REPORTS_TABLE", Some(e.reports_table.clone())),
            ("BILLWATCH_BUDGETS_TABLE", Some(e.budgets_table.clone())),
            ("BILLWATCH_ALERTS_TABLE", Some(e.alerts_table.clone())),
            ("BILLWATCH_ALERT_TOPIC_ARN", e.alert_topic.clone()),
        ];
        if self == FunctionRole::ReportIngest {
            out.push(("BILLWATCH_BUCKET", Some(e.bucket.clone())));
        }
        out
    }

    /// Whether `name` is this role's function of `stack`, as CloudFormation names it
    /// (`STACK-LOGICALID-SUFFIX`).
    pub fn matches(self, stack: &str, name: &str) -> bool {
        name.strip_prefix(&format!("{stack}-{}-", self.logical_id()))
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('-'))
    }
}

/// A function: found, active, the template's environment (every name the CLI reads, the
/// topic, the bucket), and its memory and timeout.
pub fn function(role: FunctionRole, e: &Expected, found: &Found<FunctionFacts>) -> Vec<Check> {
    let check = format!("function {}", role.label());
    let f = match found {
        Found::Yes(f) => f,
        Found::Missing => {
            return vec![Check::fail(
                check,
                format!("no function {}-{}-* found", e.stack, role.logical_id()),
                format!("{REDEPLOY}; check --stack and --region"),
            )]
        }
        Found::Error(err) => {
            return vec![Check::fail(
                check,
                err.clone(),
                "see the error; then run doctor again",
            )]
        }
    };
    let mut out = Vec::new();
    let state = f.state.as_deref().unwrap_or("Active");
    let update = f.last_update.as_deref().unwrap_or("Successful");
    out.push(if state == "Active" && update != "Failed" {
        Check::pass(
            check.clone(),
            format!(
                "{} ({}, {} MB, {} s)",
                f.name,
                f.runtime.as_deref().unwrap_or("no runtime"),
                f.memory_mb.unwrap_or_default(),
                f.timeout_s.unwrap_or_default()
            ),
        )
    } else {
        Check::fail(
            check.clone(),
            format!("{}: state {state}, last update {update}", f.name),
            format!(
                "see: aws lambda get-function-configuration --function-name {}; then deploy again",
                f.name
            ),
        )
    });

    let mut wrong = Vec::new();
    for (var, want) in role.env(e) {
        let got = f.env.get(var).filter(|v| !v.is_empty());
        match (want, got) {
            (Some(w), Some(g)) if w != *g => {
                wrong.push(format!("{var} is {g}, the stack's is {w}"))
            }
            (Some(w), None) => wrong.push(format!("{var} is not set (the stack's: {w})")),
            (None, None) if var == "BILLWATCH_ALERT_TOPIC_ARN" => {
                wrong.push(format!("{var} is not set: alerts are never sent"))
            }
            _ => {}
        }
    }
    let env_check = format!("{check} environment");
    out.push(if wrong.is_empty() {
        Check::pass(env_check, "tables, topic and bucket are the stack's")
    } else {
        Check::fail(
            env_check,
            wrong.join("; "),
            format!(
                "{REDEPLOY} (it sets the environment); a `cargo lambda deploy` must keep it: --merge-env, as scripts/deploy-code does"
            ),
        )
    });

    let (memory, timeout) = role.settings();
    let mut low = Vec::new();
    if f.memory_mb.is_some_and(|m| m < memory) {
        low.push(format!(
            "memory {} MB (template: {memory})",
            f.memory_mb.unwrap_or_default()
        ));
    }
    if f.timeout_s.is_some_and(|t| t < timeout) {
        low.push(format!(
            "timeout {} s (template: {timeout})",
            f.timeout_s.unwrap_or_default()
        ));
    }
    if !low.is_empty() {
        out.push(Check::warn(
            format!("{check} settings"),
            format!("{}: large reports may not be read in time", low.join(", ")),
            REDEPLOY,
        ));
    }
    out
}

/// One EventBridge rule that targets the health check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub name: String,
    pub expression: Option<String>,
    pub state: String,
}

/// The health check must run hourly: an enabled `rate(1 hour)` rule targets it.
pub fn health_schedule(function: &Found<FunctionFacts>, rules: &Found<Vec<Schedule>>) -> Check {
    let check = "schedule of health-check";
    if !matches!(function, Found::Yes(_)) {
        return Check::fail(
            check,
            "no health-check function to schedule",
            "fix the function first",
        );
    }
    let none = Vec::new();
    let rules = match rules {
        Found::Yes(r) => r,
        Found::Missing => &none,
        Found::Error(err) => {
            return Check::fail(check, err.clone(), "see the error; then run doctor again")
        }
    };
    match rules
        .iter()
        .find(|r| r.expression.as_deref() == Some("rate(1 hour)"))
    {
        Some(r) if r.state == "ENABLED" => Check::pass(check, format!("{}: rate(1 hour)", r.name)),
        Some(r) => Check::fail(
            check,
            format!(
                "{} is {}: a silence of billing reports goes unnoticed",
                r.name, r.state
            ),
            format!("aws events enable-rule --name {}", r.name),
        ),
        None => Check::fail(
            check,
            "no hourly rule invokes it: a silence of billing reports goes unnoticed",
            REDEPLOY,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected {
            stack: "billwatch".into(),
            totals_table: "billwatch-totals".into(),
            reports_table: "billwatch-reports".into(),
            budgets_table: "billwatch-budgets".into(),
            alerts_table: "billwatch-alerts".into(),
            alert_topic: Some("arn:aws:sns:us-east-1:123456789012:billwatch-alerts".into()),
            bucket: "billwatch-billing-123456789012".into(),
            report_prefix: String::new(),
        }
    }

    const FN: &str =
        "arn:aws:lambda:us-east-1:123456789012:function:billwatch-ReportIngestFunction-Ab12";

    fn table_facts(role: TableRole) -> TableFacts {
        let mut t = TableFacts {
            status: "ACTIVE".into(),
            keys: pk_sk(),
            ..TableFacts::default()
        };
        if role == TableRole::Totals {
            t.indexes.insert(
                "by-account-service".into(),
                vec![
                    ("gsi1pk".into(), "HASH".into()),
                    ("gsi1sk".into(), "RANGE".into()),
                ],
            );
        }
        if role == TableRole::Alerts {
            t.ttl = Some("expires_at".into());
        }
        t
    }

    fn good_bucket() -> BucketFacts {
        BucketFacts {
            versioning: Ok(Some("Enabled".into())),
            lambda: SUFFIXES
                .iter()
                .map(|s| LambdaNotification {
                    function_arn: FN.into(),
                    events: vec!["s3:ObjectCreated:*".into()],
                    prefix: None,
                    suffix: Some((*s).into()),
                })
                .collect(),
            eventbridge: false,
        }
    }

    fn ingest_fn() -> FunctionFacts {
        let e = expected();
        FunctionFacts {
            name: "billwatch-ReportIngestFunction-Ab12".into(),
            arn: FN.into(),
            runtime: Some("provided.al2023".into()),
            memory_mb: Some(512),
            timeout_s: Some(300),
            state: Some("Active".into()),
            last_update: Some("Successful".into()),
            env: FunctionRole::ReportIngest
                .env(&e)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.unwrap()))
                .collect(),
        }
    }

    #[test]
    fn the_tables_as_the_template_makes_them_pass() {
        let e = expected();
        for role in TableRole::ALL {
            let c = table(role, &e, &Found::Yes(table_facts(role)));
            assert_eq!(c.status, Status::Pass, "{c:?}");
            assert!(c.fix.is_none());
        }
    }

    #[test]
    fn a_missing_table_or_index_or_ttl_fails_with_the_redeploy() {
        let e = expected();
        let c = table(TableRole::Reports, &e, &Found::Missing);
        assert_eq!(c.status, Status::Fail);
        assert_eq!(c.name, "table billwatch-reports");
        assert_eq!(c.detail, "not found");
        assert!(c.fix.as_deref().unwrap().contains("sam deploy"), "{c:?}");
        assert!(
            c.fix
                .as_deref()
                .unwrap()
                .contains("BILLWATCH_REPORTS_TABLE"),
            "{c:?}"
        );

        let mut t = table_facts(TableRole::Totals);
        t.indexes.clear();
        let c = table(TableRole::Totals, &e, &Found::Yes(t));
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains("index by-account-service is missing"),
            "{c:?}"
        );

        let mut t = table_facts(TableRole::Alerts);
        t.ttl = None;
        let c = table(TableRole::Alerts, &e, &Found::Yes(t));
        assert_eq!(c.status, Status::Fail);
        assert!(c.detail.starts_with("TTL is off"), "{c:?}");

        let mut t = table_facts(TableRole::Budgets);
        t.keys = vec![("id".into(), "HASH".into())];
        let c = table(TableRole::Budgets, &e, &Found::Yes(t));
        assert_eq!(
            c.detail,
            "keys are [id HASH], the template's [pk HASH, sk RANGE]"
        );

        let c = table(
            TableRole::Budgets,
            &e,
            &Found::Error("access denied".into()),
        );
        assert_eq!(
            (c.status, c.detail.as_str()),
            (Status::Fail, "access denied")
        );
    }

    #[test]
    fn the_three_notifications_to_the_function_pass() {
        let e = expected();
        let checks = notifications(&e, &Found::Yes(good_bucket()), Some(FN));
        assert_eq!(checks.len(), 3);
        for c in &checks {
            assert_eq!(c.status, Status::Pass, "{c:?}");
            assert_eq!(
                c.detail,
                "ObjectCreated → billwatch-ReportIngestFunction-Ab12"
            );
        }
        assert_eq!(checks[2].name, "notification *-Manifest.json");
    }

    #[test]
    fn a_missing_or_wrong_notification_fails_naming_the_suffix() {
        let e = expected();
        let mut b = good_bucket();
        b.lambda.remove(1);
        let checks = notifications(&e, &Found::Yes(b), Some(FN));
        let failed: Vec<_> = checks.iter().filter(|c| c.status == Status::Fail).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].name, "notification *.csv.zip");
        assert!(
            failed[0].detail.contains("never ingested"),
            "{:?}",
            failed[0]
        );
        assert!(failed[0].fix.as_deref().unwrap().contains("sam deploy"));

        // Another function, another prefix, only Put.
        let mut b = good_bucket();
        b.lambda[0].function_arn = "arn:aws:lambda:us-east-1:1:function:other".into();
        b.lambda[0].prefix = Some("cur/".into());
        b.lambda[0].events = vec!["s3:ObjectCreated:Put".into()];
        let c = &notifications(&e, &Found::Yes(b), Some(FN))[0];
        assert_eq!(c.status, Status::Fail);
        assert!(c.detail.contains("filters on prefix \"cur/\""), "{c:?}");
        assert!(c.detail.contains("sends s3:ObjectCreated:Put"), "{c:?}");
        assert!(
            c.detail
                .contains("invokes other, not the stack's ingest function"),
            "{c:?}"
        );

        // With a ReportPrefix the notification must filter on it.
        let mut e = expected();
        e.report_prefix = "cur/".into();
        let c = &notifications(&e, &Found::Yes(good_bucket()), Some(FN))[0];
        assert_eq!(c.status, Status::Fail, "{c:?}");
    }

    #[test]
    fn versioning_off_is_a_warning() {
        let e = expected();
        let mut b = good_bucket();
        b.versioning = Ok(None);
        let c = bucket(&e, &Found::Yes(b.clone()));
        assert_eq!(c.status, Status::Warn);
        assert_eq!(c.detail, "versioning off");
        assert!(c.fix.unwrap().contains("put-bucket-versioning"));
        b.versioning = Err("HTTP 200: no message".into());
        let c = bucket(&e, &Found::Yes(b));
        assert_eq!(c.status, Status::Warn);
        assert!(c
            .fix
            .unwrap()
            .starts_with("check it: aws s3api get-bucket-versioning"));
        assert_eq!(bucket(&e, &Found::Missing).status, Status::Fail);
    }

    #[test]
    fn own_bucket_or_existing_one() {
        let mut e = expected();
        assert!(e.own_bucket());
        e.bucket = "my-billing-bucket".into();
        assert!(!e.own_bucket());
        e.bucket = "billwatch-billing-12".into();
        assert!(!e.own_bucket());
    }

    #[test]
    fn the_rule_of_an_existing_bucket() {
        let mut e = expected();
        e.bucket = "my-billing".into();
        e.report_prefix = "cur/".into();
        let pattern = serde_json::json!({
            "source": ["aws.s3"], "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": ["my-billing"]},
                       "object": {"key": [{"wildcard": "cur/*.csv"}, {"wildcard": "cur/*.csv.zip"},
                                          {"wildcard": "cur/*-Manifest.json"}]}}
        });
        let rule = RuleFacts {
            state: "ENABLED".into(),
            pattern: Some(pattern.to_string()),
            targets: vec![FN.into()],
        };
        let b = BucketFacts {
            eventbridge: true,
            ..BucketFacts::default()
        };
        let checks = eventbridge(
            &e,
            &Found::Yes(b.clone()),
            &Found::Yes(rule.clone()),
            Some(FN),
        );
        assert!(
            checks.iter().all(|c| c.status == Status::Pass),
            "{checks:?}"
        );
        assert_eq!(checks[1].name, "rule billwatch-report-created");

        let off = BucketFacts::default();
        let checks = eventbridge(&e, &Found::Yes(off), &Found::Yes(rule.clone()), Some(FN));
        assert_eq!(checks[0].status, Status::Fail);
        assert!(checks[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("Amazon EventBridge → On"));

        let mut wrong = rule.clone();
        wrong.state = "DISABLED".into();
        wrong.targets = vec![];
        let checks = eventbridge(&e, &Found::Yes(b.clone()), &Found::Yes(wrong), Some(FN));
        assert_eq!(checks[1].status, Status::Fail);
        assert!(checks[1].detail.contains("state DISABLED"), "{checks:?}");
        assert!(
            checks[1]
                .detail
                .contains("do not include the ingest function"),
            "{checks:?}"
        );

        let checks = eventbridge(&e, &Found::Yes(b), &Found::Missing, Some(FN));
        assert_eq!(checks[1].status, Status::Fail);
        assert!(checks[1].detail.starts_with("not found"));
    }

    fn sub(protocol: &str, endpoint: &str, arn: &str) -> Subscription {
        Subscription {
            protocol: protocol.into(),
            endpoint: endpoint.into(),
            arn: arn.into(),
        }
    }

    #[test]
    fn subscriptions_confirmed_pending_and_none() {
        let topic = "arn:aws:sns:us-east-1:123456789012:billwatch-alerts";
        let confirmed = sub(
            "sqs",
            "arn:aws:sqs:us-east-1:1:q",
            "arn:aws:sns:us-east-1:1:billwatch-alerts:1",
        );
        let pending = sub("email", "ops@example.com", "PendingConfirmation");

        let checks = subscriptions("alerts", Some(topic), &Found::Yes(vec![confirmed.clone()]));
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Pass);
        assert_eq!(checks[0].detail, "confirmed: sqs arn:aws:sqs:us-east-1:1:q");

        let checks = subscriptions(
            "alerts",
            Some(topic),
            &Found::Yes(vec![confirmed, pending.clone()]),
        );
        assert_eq!(checks[1].status, Status::Warn);
        assert_eq!(checks[1].name, "subscription email ops@example.com");
        assert!(
            checks[1]
                .fix
                .as_deref()
                .unwrap()
                .starts_with("confirm the e-mail AWS sent to ops@example.com"),
            "{checks:?}"
        );

        let checks = subscriptions("alerts", Some(topic), &Found::Yes(vec![pending]));
        assert_eq!(
            checks[0].status,
            Status::Fail,
            "only pending: nobody receives"
        );
        assert_eq!(checks[1].status, Status::Warn);

        let checks = subscriptions("alerts", Some(topic), &Found::Yes(vec![]));
        assert_eq!(checks[0].status, Status::Fail);
        assert!(checks[0].detail.starts_with("none"));
        assert!(checks[0].fix.as_deref().unwrap().contains("AlertEmails="));

        let checks = subscriptions("alerts", None, &Found::Missing);
        assert_eq!(checks[0].name, "topic alerts");
        assert_eq!(checks[0].status, Status::Fail);
    }

    #[test]
    fn the_function_with_the_stacks_environment_passes() {
        let e = expected();
        let checks = function(FunctionRole::ReportIngest, &e, &Found::Yes(ingest_fn()));
        assert_eq!(checks.len(), 2, "{checks:?}");
        assert!(
            checks.iter().all(|c| c.status == Status::Pass),
            "{checks:?}"
        );
        assert_eq!(
            checks[0].detail,
            "billwatch-ReportIngestFunction-Ab12 (provided.al2023, 512 MB, 300 s)"
        );
    }

    #[test]
    fn a_wrong_environment_fails_naming_each_variable() {
        let e = expected();
        let mut f = ingest_fn();
        f.env.remove("BILLWATCH_ALERT_TOPIC_ARN");
        f.env
            .insert("BILLWATCH_TOTALS_TABLE".into(), "old-totals".into());
        let checks = function(FunctionRole::ReportIngest, &e, &Found::Yes(f));
        let env = &checks[1];
        assert_eq!(env.name, "function report-ingest environment");
        assert_eq!(env.status, Status::Fail);
        assert_eq!(
            env.detail,
            "BILLWATCH_TOTALS_TABLE is old-totals, the stack's is billwatch-totals; \
             BILLWATCH_ALERT_TOPIC_ARN is not set (the stack's: arn:aws:sns:us-east-1:123456789012:billwatch-alerts)"
        );
        assert!(env.fix.as_deref().unwrap().contains("--merge-env"));

        let checks = function(FunctionRole::ReportIngest, &e, &Found::Missing);
        assert_eq!(checks.len(), 1);
        assert_eq!(
            checks[0].detail,
            "no function billwatch-ReportIngestFunction-* found"
        );
    }

    #[test]
    fn low_memory_is_a_warning_and_a_failed_update_a_failure() {
        let e = expected();
        let mut f = ingest_fn();
        f.memory_mb = Some(128);
        let checks = function(FunctionRole::ReportIngest, &e, &Found::Yes(f.clone()));
        assert_eq!(checks[2].status, Status::Warn);
        assert!(checks[2]
            .detail
            .starts_with("memory 128 MB (template: 512)"));
        f.last_update = Some("Failed".into());
        let checks = function(FunctionRole::ReportIngest, &e, &Found::Yes(f));
        assert_eq!(checks[0].status, Status::Fail);
    }

    #[test]
    fn function_names_as_cloudformation_makes_them() {
        let r = FunctionRole::ReportIngest;
        assert!(r.matches("billwatch", "billwatch-ReportIngestFunction-Ab12Cd34"));
        assert!(!r.matches("billwatch", "billwatch-ReportIngestFunction-"));
        assert!(!r.matches("bill", "billwatch-ReportIngestFunction-Ab12"));
        assert!(!r.matches("billwatch", "billwatch-prod-ReportIngestFunction-Ab12"));
        assert!(FunctionRole::HealthCheck.matches("b", "b-HealthCheckFunction-X"));
    }

    #[test]
    fn the_health_check_runs_hourly() {
        let f = Found::Yes(FunctionFacts::default());
        let hourly = Schedule {
            name: "billwatch-HealthCheckFunctionHourly-X".into(),
            expression: Some("rate(1 hour)".into()),
            state: "ENABLED".into(),
        };
        let digest = Schedule {
            name: "billwatch-HealthCheckFunctionDailyDigest-X".into(),
            expression: Some("cron(0 8 * * ? *)".into()),
            state: "ENABLED".into(),
        };
        let c = health_schedule(&f, &Found::Yes(vec![digest.clone(), hourly.clone()]));
        assert_eq!(c.status, Status::Pass, "{c:?}");
        let c = health_schedule(&f, &Found::Yes(vec![digest]));
        assert_eq!(c.status, Status::Fail);
        let mut off = hourly;
        off.state = "DISABLED".into();
        let c = health_schedule(&f, &Found::Yes(vec![off]));
        assert_eq!(
            c.fix.as_deref(),
            Some("aws events enable-rule --name billwatch-HealthCheckFunctionHourly-X")
        );
    }

    #[test]
    fn the_tally_line() {
        let checks = vec![
            Check::pass("a", ""),
            Check::warn("b", "", ""),
            Check::fail("c", "", ""),
            Check::fail("d", "", ""),
        ];
        let t = Tally::of(&checks);
        assert_eq!(t.line(), "1 passed, 1 warning, 2 failed");
        assert_eq!(Tally::default().line(), "0 passed, 0 warnings, 0 failed");
    }
}
