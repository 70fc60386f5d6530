//! `billwatch budgets put | list | rm | check | apply` (the model: docs/budgets.md), one module
//! per subcommand.
//!
//! `check FILE` validates a TOML file (see budgets.example.toml) without any AWS call.
//! `apply FILE` makes the budgets table equal to it: it validates the whole file first (every
//! problem listed, nothing written when there is one), prints the diff against the table, asks
//! before removing or changing budgets (unless `--yes`; without a terminal it refuses), then
//! writes it unless `--dry-run`.
//!
//! Exit codes: 0 done, 1 the table could not be read or written (or the question was answered
//! no), 2 invalid input (flags or file, `rm` of a budget that does not exist, or removals and
//! changes without `--yes` and without a terminal).

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use billwatch_core::budget::{Basis, Budget, Level, Scope, Threshold};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::str::FromStr;

mod apply;
mod check;
mod commitment_status;
mod confirm;
mod diff;
mod file;
mod list;
mod offline;
mod put;
mod replay;
mod rm;
mod status;

use file::parse_file;
pub use put::PutArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create or replace a monthly budget.
    Put(Box<PutArgs>),
    /// List budgets with every setting.
    List(list::Args),
    /// Remove a budget.
    Rm(rm::Args),
    /// Validate a budgets file offline (no AWS call, no credentials): list every problem;
    /// exit 0 when it is valid, 2 when it is not (for CI on pull requests).
    Check(check::Args),
    /// Make the budgets table equal to a TOML file: validate it, print the diff, ask before
    /// removing or changing budgets (unless --yes), apply it in one transaction.
    Apply(apply::Args),
    /// Where each budget of a file stands on local reports, offline: spend, forecast and
    /// thresholds crossed at the period of the newest report.
    Status(status::Args),
    /// Replay local reports as deliveries, in the order given, offline: every alert the budgets
    /// of a file would have sent, when and why (tune thresholds before deploying).
    Replay(replay::Args),
}

pub fn run(ctx: &Ctx, command: Command) -> Result<String, CliError> {
    match command {
        Command::Put(args) => put::run(ctx, *args),
        Command::List(args) => list::run(ctx, args),
        Command::Rm(args) => rm::run(ctx, args),
        Command::Check(args) => check::run(ctx, &args.file),
        Command::Apply(args) => apply::run(ctx, args),
        Command::Status(args) => status::run(ctx, args),
        Command::Replay(args) => replay::run(ctx, args),
    }
}

/// The `[anomalies]` settings of a budgets file, read offline.
pub fn anomaly_config(path: &std::path::Path) -> Result<billwatch_core::anomaly::Config, CliError> {
    let label = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::input(format!("{label}: {e}")))?;
    file::parse_anomalies(&label, &text).map_err(CliError::Input)
}

/// The `[[channel]]` tables of a budgets file, read offline.
pub fn channels_of(
    path: &std::path::Path,
) -> Result<Vec<billwatch_core::channel::Channel>, CliError> {
    let label = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::input(format!("{label}: {e}")))?;
    file::parse_channels(&label, &text).map_err(CliError::Input)
}

/// The budgets of a file, read offline, or every problem in it.
pub fn budgets_of(path: &Path) -> Result<Vec<Budget>, CliError> {
    read_file(path, "not valid").map_err(CliError::Input)
}

/// The budgets of a file, or every problem in it followed by a tally ending in `outcome`.
fn read_file(file: &Path, outcome: &str) -> Result<Vec<Budget>, Vec<String>> {
    let label = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| vec![format!("{label}: cannot read: {e}")])?;
    parse_file(&label, &text).map_err(|mut lines| {
        let n = lines.len();
        lines.push(format!(
            "{label}: {n} problem{}; {outcome}",
            if n == 1 { "" } else { "s" }
        ));
        lines
    })
}

// ---------------------------------------------------------------------------------------------
// Text forms shared by `list`, `put` and the diff.

fn optional(v: Option<Decimal>) -> String {
    v.map(|v| v.normalize().to_string())
        .unwrap_or_else(|| "none".into())
}

fn topic(b: &Budget) -> String {
    b.topic_arn.clone().unwrap_or_else(|| "default".into())
}

/// Every setting but the name, on one line.
fn describe(b: &Budget) -> String {
    let model = b.model_text();
    if let Some(w) = b.watch() {
        return format!(
            "{}  {}  {}  topic {}{}{}",
            w.kind_name(),
            if b.thresholds.is_empty() {
                "lead times"
            } else {
                "thresholds"
            },
            b.thresholds_text(),
            topic(b),
            digest_text(b),
            if b.model.filter.is_empty() {
                String::new()
            } else {
                format!(
                    "  filter {}",
                    billwatch_core::budget::model::filter_text(&b.model.filter)
                )
            }
        ) + &channels_text(b);
    }
    format!(
        "{} {}  scope {}  thresholds {}  escalation {}  topic {}{}{}",
        amount_text(b),
        b.currency,
        b.scope,
        b.thresholds_text(),
        b.escalation_step
            .map(|s| format!("every {}%", s.normalize()))
            .unwrap_or_else(|| "none".into()),
        topic(b),
        digest_text(b),
        if model.is_empty() {
            String::new()
        } else {
            format!("  counts {model}")
        }
    ) + &channels_text(b)
}

/// `  digest on` (daily), `  digest weekly`, or nothing.
fn digest_text(b: &Budget) -> &'static str {
    match (b.digest, b.digest_every) {
        (false, _) => "",
        (true, billwatch_core::budget::Every::Day) => "  digest on",
        (true, billwatch_core::budget::Every::Week) => "  digest weekly",
    }
}

/// `  channels finops-slack, sns`, or nothing for the topic alone.
fn channels_text(b: &Budget) -> String {
    if b.channels.is_empty() {
        String::new()
    } else {
        format!("  channels {}", b.channels.join(", "))
    }
}

/// The amount as written: a decimal, or `auto (mean of N months)`.
fn amount_text(b: &Budget) -> String {
    match b.model.auto {
        Some(a) => format!("auto (mean of {} months)", a.months),
        None => b.amount.normalize().to_string(),
    }
}

fn to_json(b: &Budget) -> Value {
    if let Some(w) = b.watch() {
        let below: Vec<Value> = b
            .sorted_thresholds()
            .iter()
            .map(|t| Value::String(format!("below {}", t.describe(&b.currency))))
            .collect();
        let mut out = json!({
            "name": b.name,
            "kind": w.kind_name(),
            "currency": b.currency,
            "filter": b.model.filter,
            "topic_arn": b.topic_arn,
            "digest": b.digest,
            "counts": b.model_text(),
        });
        if !b.channels.is_empty() {
            out["channels"] = json!(b.channels);
        }
        if let Some(o) = out.as_object_mut() {
            match w {
                billwatch_core::commitment::Watch::Expiry { .. } => {
                    o.insert("days".into(), json!(w.days()));
                }
                billwatch_core::commitment::Watch::Gauge(_) => {
                    o.insert("thresholds".into(), Value::Array(below));
                }
            }
        }
        return out;
    }
    // Spelt as in the budgets file, so a listed budget can be pasted into one.
    let thresholds: Vec<Value> = b
        .sorted_thresholds()
        .iter()
        .map(|t| Value::String(t.describe(&b.currency)))
        .collect();
    let mut out = json!({
        "name": b.name,
        "scope": b.scope.to_text(),
        "amount": b.amount.normalize().to_string(),
        "currency": b.currency,
        "thresholds": thresholds,
        "escalation_step": b.escalation_step.map(|s| s.normalize().to_string()),
        "topic_arn": b.topic_arn,
        "digest": b.digest,
    });
    if !b.channels.is_empty() {
        out["channels"] = json!(b.channels);
    }
    if b.digest && b.digest_every == billwatch_core::budget::Every::Week {
        out["digest_every"] = json!("weekly");
    }
    // What it counts, for a budget that counts other than unblended monthly cost (a plain
    // budget's object is as it always was).
    if !b.model.is_plain() {
        let model = json!({
            "kind": if b.model.unit.is_some() { "usage" } else { "cost" },
            "unit": b.model.unit,
            "cost": b.model.measure.cost.name(),
            "exclude": b.model.measure.exclude_names(),
            "period": b.model.cadence.name(),
            "filter": b.model.filter,
            "amount": match b.model.auto {
                Some(a) => json!({ "auto": "mean", "months": a.months }),
                None => json!(b.amount.normalize().to_string()),
            },
            "counts": b.model_text(),
        });
        if let (Some(o), Value::Object(m)) = (out.as_object_mut(), model) {
            o.extend(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff::*;
    use super::file::*;
    use super::put::budget_from_flags;
    use super::*;
    use billwatch_aws::store::budgets::BudgetWrite;
    use std::collections::HashSet;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn flags(name: &str, amount: &str) -> PutArgs {
        PutArgs {
            name: name.into(),
            amount: Some(amount.into()),
            auto_months: None,
            kind: None,
            days: None,
            cost: None,
            exclude: String::new(),
            period: None,
            unit: None,
            filter: Vec::new(),
            currency: "USD".into(),
            account: None,
            service: None,
            tag: None,
            thresholds: "50%,80%,100%".into(),
            forecast_thresholds: "".into(),
            escalation_step: None,
            topic_arn: None,
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            aws: AwsArgs::default(),
        }
    }

    #[test]
    fn put_flags_make_a_budget() {
        let b = budget_from_flags(PutArgs {
            account: Some("111122223333".into()),
            service: Some("AmazonEC2".into()),
            thresholds: "50, 80%,1000USD".into(),
            forecast_thresholds: "100".into(),
            escalation_step: Some("20".into()),
            topic_arn: Some("arn:aws:sns:us-east-1:111122223333:t".into()),
            ..flags("team", "1000")
        })
        .unwrap();
        assert_eq!(
            b.scope,
            Scope::AccountService {
                account: "111122223333".into(),
                service: "AmazonEC2".into()
            }
        );
        assert_eq!(b.thresholds_text(), "50%, 80%, 1000 USD, 100% forecast");
        assert_eq!(b.escalation_step, Some(d("20")));
        let tag = budget_from_flags(PutArgs {
            tag: Some("team=data".into()),
            ..flags("t", "5")
        })
        .unwrap();
        assert_eq!(tag.scope.to_text(), "tag:team=data");
    }

    #[test]
    fn put_flags_make_commitment_budgets_and_name_their_misuse() {
        let sp = budget_from_flags(PutArgs {
            amount: None,
            kind: Some("savings_plans_utilization".into()),
            thresholds: "below 90%, below 75%".into(),
            channels: vec!["finops-slack".into()],
            ..flags("sp", "1")
        })
        .unwrap();
        assert_eq!(sp.thresholds_text(), "below 75%, below 90%");
        assert_eq!(sp.channels, ["finops-slack"]);
        let ends = budget_from_flags(PutArgs {
            amount: None,
            kind: Some("commitment_expiry".into()),
            days: Some("90, 30".into()),
            ..flags("ends", "1")
        })
        .unwrap();
        assert_eq!(ends.watch().unwrap().days(), vec![30, 90]);
        let errors = budget_from_flags(PutArgs {
            amount: None,
            kind: Some("ri_coverage".into()),
            forecast_thresholds: "90%".into(),
            ..flags("bad", "1")
        })
        .unwrap_err()
        .join("\n");
        assert!(
            errors.contains("thresholds #1: '50%' is not a line"),
            "{errors}"
        );
        assert!(
            errors.contains("forecast-thresholds: a ri_coverage budget has no forecast"),
            "{errors}"
        );
        let errors = budget_from_flags(PutArgs {
            amount: None,
            kind: Some("usage_utilization".into()),
            ..flags("bad", "1")
        })
        .unwrap_err()
        .join("\n");
        assert!(
            errors.contains("'usage_utilization' is not a commitment budget's kind"),
            "{errors}"
        );
    }

    #[test]
    fn put_flags_report_every_problem() {
        let errors = budget_from_flags(PutArgs {
            currency: "usd".into(),
            account: Some("42".into()),
            thresholds: "x,5EUR".into(),
            escalation_step: Some("-1".into()),
            ..flags("team", "-3")
        })
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "budget 'team': thresholds: 'x' is not a threshold: write \"80%\" (a percentage \
                 of the amount) or \"500 USD\" (an amount in the budget's currency), with \" \
                 forecast\" after it for the forecast month-end spend, e.g. \"90% forecast\"",
                "budget 'team': amount: must be greater than zero, got -3",
                "budget 'team': currency: 'usd' is not a 3-letter ISO 4217 code like USD",
                "budget 'team': account: '42' is not a 12-digit account id",
                "budget 'team': escalation_step: must be a percentage greater than zero, got -1",
            ]
        );
        assert!(budget_from_flags(flags("team", "x")).unwrap_err()[0].contains("not a decimal"));
        let eur = budget_from_flags(PutArgs {
            thresholds: "5EUR".into(),
            ..flags("team", "10")
        })
        .unwrap_err();
        assert!(eur[0].contains("the budget is in USD"), "{eur:?}");
    }

    #[test]
    fn put_refuses_a_bare_threshold_below_1_and_its_default_is_spelt_with_percent() {
        let errors = budget_from_flags(PutArgs {
            thresholds: "0.8".into(),
            ..flags("team", "1000")
        })
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "budget 'team': thresholds: '0.8' is a bare number below 1: write \"80%\" for 80 \
              percent of the amount, or \"0.8%\" if you mean 0.8 percent"
            ]
        );
        let small = budget_from_flags(PutArgs {
            thresholds: "0.8%".into(),
            ..flags("team", "1000")
        })
        .unwrap();
        assert_eq!(small.thresholds_text(), "0.8%");
        use clap::CommandFactory;
        #[derive(clap::Parser)]
        struct Put {
            #[command(flatten)]
            args: PutArgs,
        }
        let default = Put::command()
            .get_arguments()
            .find(|a| a.get_id() == "thresholds")
            .map(|a| a.get_default_values()[0].to_string_lossy().into_owned());
        assert_eq!(default.as_deref(), Some("50%,80%,100%"));
    }

    const GOOD: &str = r#"
        [[budget]]
        name = "all"
        amount = "1000.00"
        currency = "USD"
        scope = "all"
        thresholds = [{ percent = 50 }, { percent = 80, basis = "forecast" }, { amount = "1000", basis = "actual" }]
        escalation_step = 20

        [[budget]]
        name = "ec2"
        amount = 250.5
        currency = "EUR"
        account = "123456789012"
        service = "AmazonEC2"
        thresholds = [{ percent = 100 }]
        topic_arn = "arn:aws:sns:eu-west-1:123456789012:ec2"
    "#;

    #[test]
    fn a_good_file_parses_exactly() {
        let b = parse_file("f.toml", GOOD).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].amount, d("1000"));
        assert_eq!(b[0].thresholds_text(), "50%, 1000 USD, 80% forecast");
        assert_eq!(b[0].escalation_step, Some(d("20")));
        assert_eq!(b[1].amount.to_string(), "250.5");
        assert_eq!(
            b[1].scope.to_text(),
            "account-service:123456789012:AmazonEC2"
        );
    }

    #[test]
    fn a_bad_file_lists_every_problem() {
        let text = r#"
            [[budget]]
            name = "a"
            amount = "-5"
            currency = "usd"
            colour = "red"
            size = 3
            thresholds = []

            [[budget]]
            name = "a"
            amount = "ten"
            currency = "USD"
            account = "123"
            tag = "team=x"
            thresholds = [{ percent = 0 }, { percnt = 5 }, { percent = 50 }, { percent = 50 }]

            [[budget]]
            amount = 1.23456789012345678
            currency = "USD"
            thresholds = [{ percent = 10, basis = "later" }]
            escalation_step = "x"
        "#;
        let lines = parse_file("f.toml", text).unwrap_err();
        let expected = [
            "f.toml: budget 'a' (#1): colour: unknown field `colour`, expected one of",
            "f.toml: budget 'a' (#1): size: unknown field `size`",
            "f.toml: budget 'a' (#1): amount: must be greater than zero, got -5",
            "f.toml: budget 'a' (#1): currency: 'usd' is not a 3-letter ISO 4217 code like USD",
            "f.toml: budget 'a' (#1): thresholds: needs at least one threshold",
            "f.toml: budget 'a' (#2): amount: 'ten' is not a decimal number",
            "f.toml: budget 'a' (#2): tag: cannot be combined with account or service",
            "f.toml: budget 'a' (#2): thresholds #2: unknown field `percnt`",
            "f.toml: budget 'a' (#2): thresholds #1: percent must be greater than zero, got 0",
            "f.toml: budget 'a' (#2): thresholds #4: the same level as thresholds #3",
            "f.toml: budget 'a' (#2): name: 'a' is also the name of budget #1",
            "f.toml: budget #3: name: missing",
            "f.toml: budget #3: amount: 1.2345678901234567 cannot be read exactly",
            "f.toml: budget #3: thresholds #1: basis: 'later' is not actual or forecast",
            "f.toml: budget #3: escalation_step: 'x' is not a decimal number",
        ];
        assert_eq!(lines.len(), expected.len(), "{lines:#?}");
        for (line, want) in lines.iter().zip(expected) {
            assert!(
                line.starts_with(want),
                "{line}\n  does not start with\n{want}"
            );
        }
    }

    #[test]
    fn thresholds_are_spelt_as_everywhere_else_and_the_table_form_still_reads() {
        let text = r#"
            [[budget]]
            name = "team"
            amount = "1000"
            currency = "USD"
            thresholds = ["50%", "800 USD", "90% forecast", { percent = 100 }, { amount = "1000", basis = "forecast" }]
        "#;
        let b = &parse_file("f.toml", text).unwrap()[0];
        assert_eq!(
            b.thresholds_text(),
            "50%, 100%, 800 USD, 90% forecast, 1000 USD forecast"
        );
        let bad = r#"
            [[budget]]
            name = "team"
            amount = "1000"
            currency = "USD"
            thresholds = [80, "80 percent", "5 EUR", "80%", true, [1], { percent = "x" }]
        "#;
        let lines = parse_file("f.toml", bad).unwrap_err();
        let forms = "write \"80%\" (a percentage of the amount) or \"500 USD\" (an amount in \
                     the budget's currency), with \" forecast\" after it for the forecast \
                     month-end spend, e.g. \"90% forecast\"";
        assert_eq!(
            lines,
            [
                format!("f.toml: budget 'team' (#1): thresholds #1: 80 is not a threshold: {forms}"),
                format!("f.toml: budget 'team' (#1): thresholds #2: '80 percent' is not a threshold: {forms}"),
                "f.toml: budget 'team' (#1): thresholds #3: '5 EUR' is in EUR, but the budget is in USD".into(),
                format!("f.toml: budget 'team' (#1): thresholds #5: true is not a threshold: {forms}"),
                format!("f.toml: budget 'team' (#1): thresholds #6: [1] is not a threshold: {forms}"),
                "f.toml: budget 'team' (#1): thresholds #7: percent: 'x' is not a decimal number".into(),
            ]
        );
        // Never an internal type name.
        assert!(lines
            .iter()
            .all(|l| !l.contains("FileThreshold") && !l.contains("struct")));
    }

    #[test]
    fn the_model_of_issue_20_reads_from_the_file_and_from_flags_alike() {
        use billwatch_core::budget::cost::{ChargeKind, CostType};
        use billwatch_core::budget::span::Cadence;
        let text = r#"
[[budget]]
name = "data-team"
amount = "25000"
currency = "USD"
cost = "amortized"
exclude = ["credits", "refunds", "tax"]
period = "quarterly"
thresholds = ["80%", "100% forecast"]
[budget.filter]
accounts = ["111111111111", "222222222222"]
usage_types = ["USE1-BoxUsage:*"]
tags = { team = ["data", "ml", ""] }
cost_categories = { BusinessUnit = ["Analytics"] }
not_services = ["AWSSupportBusiness"]

[[budget]]
name = "storage"
kind = "usage"
unit = "GB-Mo"
amount = { auto = "mean", months = 3 }
thresholds = ["90%", "50000 GB-Mo"]
[budget.filter]
services = ["AmazonS3"]
"#;
        let budgets = parse_file("f.toml", text).unwrap();
        let team = &budgets[0];
        assert_eq!(team.model.measure.cost, CostType::Amortized);
        assert_eq!(
            team.model.measure.exclude,
            [ChargeKind::Credit, ChargeKind::Refund, ChargeKind::Tax]
                .into_iter()
                .collect()
        );
        assert_eq!(team.model.cadence, Cadence::Quarterly);
        assert_eq!(
            team.model_text(),
            "amortized cost, quarterly, without credits, refunds, tax, filter accounts = \
             [\"111111111111\", \"222222222222\"], cost_categories = { BusinessUnit = \
             [\"Analytics\"] }, not_services = [\"AWSSupportBusiness\"], tags = { team = \
             [\"data\", \"ml\", \"\"] }, usage_types = [\"USE1-BoxUsage:*\"]"
        );
        let storage = &budgets[1];
        assert_eq!(
            (storage.currency.as_str(), storage.model.unit.as_deref()),
            ("GB-Mo", Some("GB-Mo"))
        );
        assert_eq!(storage.model.auto.map(|a| a.months), Some(3));
        assert_eq!(storage.thresholds_text(), "90%, 50000 GB-Mo");
        // The same budgets from flags.
        let from_flags = budget_from_flags(PutArgs {
            cost: Some("amortized".into()),
            exclude: "credits, refunds,tax".into(),
            period: Some("quarterly".into()),
            thresholds: "80%".into(),
            forecast_thresholds: "100%".into(),
            filter: vec![
                "accounts=111111111111,222222222222".into(),
                "usage_types=USE1-BoxUsage:*".into(),
                "tags.team=data,ml,".into(),
                "cost_categories.BusinessUnit=Analytics".into(),
                "not_services=AWSSupportBusiness".into(),
            ],
            ..flags("data-team", "25000")
        })
        .unwrap();
        assert_eq!(&from_flags, team);
        let usage = budget_from_flags(PutArgs {
            amount: None,
            auto_months: Some(3),
            unit: Some("GB-Mo".into()),
            thresholds: "90%,50000 GB-Mo".into(),
            filter: vec!["services=AmazonS3".into()],
            ..flags("storage", "1")
        })
        .unwrap();
        assert_eq!(&usage, storage);
        // A file of the older shape reads to the plain model: the same meaning as before.
        let old = parse_file("f.toml", GOOD).unwrap();
        assert!(old.iter().all(|b| b.model.is_plain()));
    }

    #[test]
    fn every_model_problem_names_its_budget_and_field() {
        let bad = r#"
[[budget]]
name = "bad"
amount = { auto = "median", months = 3 }
currency = "USD"
cost = "amortised"
exclude = ["credit"]
period = "weekly"
thresholds = ["80%"]
[budget.filter]
accounts = ["1234"]

[[budget]]
name = "usage"
kind = "usage"
currency = "USD"
amount = "10"
thresholds = ["80%"]

[[budget]]
name = "both"
amount = "10"
currency = "USD"
account = "111111111111"
thresholds = ["80%"]
[budget.filter]
accounts = ["222222222222"]

[[budget]]
name = "daily"
amount = "10"
currency = "USD"
period = "daily"
thresholds = ["80% forecast"]
"#;
        let lines = parse_file("f.toml", bad).unwrap_err();
        let has = |budget: &str, field: &str, words: &str| {
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains(&format!("budget '{budget}'"))
                        && l.contains(&format!("{field}: "))
                        && l.contains(words)),
                "{budget} {field} {words}: {lines:#?}"
            );
        };
        has("bad", "amount", "'median' is not known");
        has("bad", "cost", "unknown cost type \"amortised\"");
        has("bad", "exclude", "\"credit\"");
        has("bad", "period", "\"weekly\"");
        has("bad", "filter", "not a 12-digit account id");
        has("usage", "unit", "missing");
        has("usage", "currency", "not money");
        has("both", "filter", "both select on it");
        has("daily", "thresholds", "a daily budget has no forecast");
    }

    #[test]
    fn file_level_problems() {
        let syntax = parse_file("f.toml", "[[budget]\n").unwrap_err();
        assert!(
            syntax[0].starts_with("f.toml: TOML parse error at line 1"),
            "{syntax:?}"
        );
        let empty = parse_file("f.toml", "# nothing\n").unwrap_err();
        assert!(empty[0].contains("no [[budget]] tables"), "{empty:?}");
        let typo = parse_file("f.toml", "[[budgets]]\nname = \"x\"\n").unwrap_err();
        assert!(
            typo[0].starts_with("f.toml: budgets: unknown field `budgets`"),
            "{typo:?}"
        );
        let both = parse_file(
            "f.toml",
            "[[budget]]\nname='x'\namount=1\ncurrency='USD'\nscope='all'\naccount='123456789012'\nthresholds=[{percent=1, amount=2}]\n",
        )
        .unwrap_err();
        assert_eq!(
            both,
            [
                "f.toml: budget 'x' (#1): scope: give either scope or account/service/tag, not both",
                "f.toml: budget 'x' (#1): thresholds #1: give percent or amount, not both",
            ]
        );
    }

    #[test]
    fn diffs_name_each_changed_field() {
        let old = parse_file("f", GOOD).unwrap();
        assert!(diff(&old, &old).is_empty());
        let mut new = old.clone();
        new[0].amount = d("1200");
        new[0].thresholds.reverse(); // order alone is no change
        new[0].escalation_step = None;
        new[1].name = "s3".into();
        let changes = diff(&old, &new);
        let text: String = changes.iter().map(Change::render).collect();
        assert_eq!(
            text,
            "~ all: amount 1000 → 1200\n~ all: escalation_step 20 → none\n- ec2\n+ s3  250.5 EUR  \
             scope account-service:123456789012:AmazonEC2  thresholds 100%  escalation none  \
             topic arn:aws:sns:eu-west-1:123456789012:ec2\n"
        );
        assert_eq!(
            changes.iter().map(Change::write).collect::<Vec<_>>(),
            [
                BudgetWrite::Replace(new[0].clone()),
                BudgetWrite::Delete("ec2".into()),
                BudgetWrite::Create(new[1].clone()),
            ]
        );
    }

    #[test]
    fn the_example_file_parses() {
        let text = include_str!("../../../budgets.example.toml");
        let budgets = parse_file("budgets.example.toml", text).unwrap();
        let scopes: Vec<String> = budgets.iter().map(|b| b.scope.to_text()).collect();
        assert_eq!(
            scopes,
            [
                "all",
                "account:123456789012",
                "account-service:123456789012:AmazonEC2",
                "service:AmazonS3",
                "tag:team=data",
                "account:210987654321",
                "all",
                "all",
                "all",
                "all",
                "all",
                "all",
            ]
        );
        // Every part of the model, on the last six.
        let model: Vec<String> = budgets.iter().skip(6).map(Budget::model_text).collect();
        assert_eq!(
            model,
            [
                "amortized cost, quarterly, without credits, refunds, tax, filter not_services = [\"AWSSupport*\"], tags = { team = [\"data\", \"ml\"] }",
                "usage in GB-Mo, filter services = [\"AmazonS3\"], usage_types = [\"*TimedStorage*\"]",
                "unblended cost, amount: mean of the last 3 months",
                "Savings Plans utilization",
                "Reserved Instance coverage, filter services = [\"AmazonRDS\"]",
                "commitment expiry, 60, 30, 7 days before each end",
            ]
        );
        let kinds: HashSet<(Basis, bool)> = budgets
            .iter()
            .flat_map(|b| &b.thresholds)
            .map(|t| (t.basis, matches!(t.level, Level::Percent(_))))
            .collect();
        assert_eq!(kinds.len(), 4, "every level kind on every basis");
        assert!(budgets.iter().any(|b| b.escalation_step.is_some()));
        assert!(budgets.iter().any(|b| b.topic_arn.is_some()));
    }

    #[test]
    fn commitment_budgets_read_and_every_misuse_is_named() {
        let good = r#"
            [[budget]]
            name = "sp"
            kind = "savings_plans_utilization"
            thresholds = ["below 90%", "Below 75.5 %"]

            [[budget]]
            name = "ends"
            kind = "commitment_expiry"
            days = [7, 60, 30]
        "#;
        let b = parse_file("c.toml", good).unwrap();
        assert_eq!(b[0].thresholds_text(), "below 75.5%, below 90%");
        assert_eq!(b[1].thresholds_text(), "60 days, 30 days, 7 days");
        assert_eq!(b[1].watch().unwrap().days(), vec![7, 30, 60]);
        let bad = r#"
            [[budget]]
            name = "a"
            kind = "ri_utilization"
            amount = "100"
            period = "quarterly"
            thresholds = ["90%", "below 120%"]
            [budget.filter]
            usage_types = ["*BoxUsage*"]

            [[budget]]
            name = "b"
            kind = "commitment_expiry"
            days = [0]
            thresholds = ["below 90%"]

            [[budget]]
            name = "c"
            amount = "10"
            currency = "USD"
            thresholds = ["80%"]
            days = [30]

            [[budget]]
            name = "d"
            kind = "savings_plans_utilization"
            account = "111111111111"
            thresholds = ["below 90%"]
            [budget.filter]
            services = ["AmazonEC2"]
        "#;
        let problems = parse_file("c.toml", bad).unwrap_err().join("\n");
        for needle in [
            "budget 'a' (#1): amount: a ri_utilization budget has no amount",
            "budget 'a' (#1): thresholds #1: '90%' is not a line of a utilization or coverage budget",
            "budget 'a' (#1): thresholds #2: a ri_utilization budget alerts below a percentage of 0 to 100",
            "budget 'a' (#1): period: a ri_utilization budget is watched per month",
            "budget 'a' (#1): filter: Reserved Instance utilization can be filtered on accounts, services and regions only, not on usage_types",
            "budget 'b' (#2): thresholds: an expiry budget warns at its lead times",
            "budget 'b' (#2): days: 0 is not a lead time of 1 to 365 days",
            "budget 'c' (#3): days: only a commitment_expiry budget has lead times",
            "budget 'd' (#4): scope: a savings_plans_utilization budget selects with [budget.filter]",
            "budget 'd' (#4): filter: Savings Plans utilization can be filtered on accounts only, not on services",
        ] {
            assert!(problems.contains(needle), "{needle}\n--\n{problems}");
        }
    }

    #[test]
    fn channels_are_declared_once_and_budgets_name_them() {
        let good = r#"
            [[channel]]
            name = "finops-slack"
            type = "slack"
            url = { ssm = "/billwatch/finops-slack" }

            [[channel]]
            name = "ours"
            type = "webhook"
            url = { secret = "billwatch/ours-url" }
            signing_key = { ssm = "/billwatch/ours-key" }

            [[budget]]
            name = "all"
            amount = "100"
            currency = "USD"
            thresholds = ["80%"]
            channels = ["finops-slack", "sns"]
        "#;
        let budgets = parse_file("c.toml", good).unwrap();
        assert_eq!(budgets[0].channels, ["finops-slack", "sns"]);
        let weekly = parse_file(
            "c.toml",
            &good.replace("channels = [", "digest = \"weekly\"\nchannels = ["),
        )
        .unwrap();
        assert!(weekly[0].digest && weekly[0].digest_every == billwatch_core::budget::Every::Week);
        assert!(describe(&weekly[0]).contains("  digest weekly"));
        let bad_digest = parse_file(
            "c.toml",
            &good.replace("channels = [", "digest = \"hourly\"\nchannels = ["),
        )
        .unwrap_err();
        assert!(
            bad_digest
                .join("\n")
                .contains("digest: \"hourly\" is not a digest"),
            "{bad_digest:?}"
        );
        assert!(describe(&budgets[0]).ends_with("  channels finops-slack, sns"));
        let channels = file::parse_channels("c.toml", good).unwrap();
        assert_eq!(channels.len(), 2);
        assert_eq!(
            channels[1].kind,
            billwatch_core::channel::ChannelKind::Webhook
        );
        let bad = r#"
            [[channel]]
            name = "a"
            type = "slack"
            url = { ssm = "https://hooks.slack.com/services/T0/B0/x" }

            [[channel]]
            name = "a"
            type = "webhook"
            url = { ssm = "/x" }

            [[channel]]
            name = "b"
            type = "msteams"
            url = { ssm = "/y" }

            [[budget]]
            name = "all"
            amount = "100"
            currency = "USD"
            thresholds = ["80%"]
            channels = ["nope", "a", "a"]
        "#;
        let problems = parse_file("c.toml", bad).unwrap_err().join("\n");
        for needle in [
            "c.toml: channel 'a' (#1): url: ssm 'https://hooks.slack.com/services/T0/B0/x' is not a parameter name",
            "c.toml: channel 'a' (#2): signing_key: a webhook channel signs every request",
            "c.toml: channel 'a' (#2): name: 'a' is declared twice",
            "c.toml: channel 'b' (#3): unknown variant `msteams`",
            "budget 'all' (#1): channels: 'a' is named twice",
        ] {
            assert!(problems.contains(needle), "{needle}\n--\n{problems}");
        }
        let unknown = good.replace(
            "channels = [\"finops-slack\", \"sns\"]",
            "channels = [\"nope\"]",
        );
        let problems = parse_file("c.toml", &unknown).unwrap_err().join("\n");
        assert!(
            problems
                .contains("budget 'all' (#1): channels: 'nope' is not a [[channel]] of this file"),
            "{problems}"
        );
    }

    #[test]
    fn json_has_every_field() {
        let b = &parse_file("f", GOOD).unwrap()[0];
        assert_eq!(
            to_json(b),
            json!({
                "name": "all",
                "scope": "all",
                "amount": "1000",
                "currency": "USD",
                "thresholds": ["50%", "1000 USD", "80% forecast"],
                "escalation_step": "20",
                "topic_arn": null,
                "digest": false,
            })
        );
    }
}
