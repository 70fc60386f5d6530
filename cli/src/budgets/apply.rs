//! `billwatch budgets apply FILE`: make the budgets table equal to the file. The file is
//! validated whole first; the diff is printed; removing or changing budgets (or the anomaly
//! settings) asks first unless `--yes`; `--dry-run` writes nothing.

use super::confirm::{self, Answer};
use super::diff::{diff, Change};
use super::*;
use billwatch_aws::store::budgets::BudgetWrite;
use billwatch_aws::store::BudgetsStore;
use billwatch_core::anomaly::Config as AnomalyConfig;
use billwatch_core::channel::Channel;
use std::io::IsTerminal;

#[derive(clap::Args)]
pub struct Args {
    /// The budgets file (see budgets.example.toml).
    file: PathBuf,
    /// Print the diff only; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Remove and change budgets without asking (needed when stdin is not a terminal,
    /// e.g. in CI).
    #[arg(long, short = 'y')]
    yes: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

/// What applying the file changes: the budgets, and the anomaly settings.
struct Plan {
    changes: Vec<Change>,
    anomalies: AnomalyConfig,
    stored_anomalies: AnomalyConfig,
    channels: Vec<Channel>,
    stored_channels: Vec<Channel>,
}

impl Plan {
    fn anomalies_change(&self) -> bool {
        self.stored_anomalies != self.anomalies
    }

    fn channels_change(&self) -> bool {
        self.stored_channels != self.channels
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.anomalies_change() && !self.channels_change()
    }

    fn count(&self, f: fn(&Change) -> bool) -> usize {
        self.changes.iter().filter(|c| f(c)).count()
    }

    /// (added, changed, removed) budgets.
    fn counts(&self) -> (usize, usize, usize) {
        (
            self.count(|c| matches!(c, Change::Add(_))),
            self.count(|c| matches!(c, Change::Update { .. })),
            self.count(|c| matches!(c, Change::Remove(_))),
        )
    }

    /// Whether applying it removes or changes something (and so asks first).
    fn risky(&self) -> bool {
        let (_, changed, removed) = self.counts();
        // Declaring the first channels changes nothing that was there.
        let channels = self.channels_change() && !self.stored_channels.is_empty();
        changed + removed > 0 || self.anomalies_change() || channels
    }

    /// `1 to add, 0 to change, 2 to remove[, anomaly settings to change]`.
    fn tally(&self) -> String {
        let (added, changed, removed) = self.counts();
        format!(
            "{added} to add, {changed} to change, {removed} to remove{}{}",
            if self.anomalies_change() {
                ", anomaly settings to change"
            } else {
                ""
            },
            if self.channels_change() {
                ", channels to change"
            } else {
                ""
            }
        )
    }

    /// The diff for people: one block per budget change, then the anomaly settings.
    fn render(&self) -> String {
        let mut out: String = self.changes.iter().map(Change::render).collect();
        if self.anomalies_change() {
            out += &format!(
                "~ [anomalies]\n    was: {}\n    now: {}\n",
                serde_json::to_string(&self.stored_anomalies).expect("JSON serializes"),
                serde_json::to_string(&self.anomalies).expect("JSON serializes")
            );
        }
        if self.channels_change() {
            out += &format!(
                "~ [[channel]]\n    was: {}\n    now: {}\n",
                serde_json::to_string(&self.stored_channels).expect("JSON serializes"),
                serde_json::to_string(&self.channels).expect("JSON serializes")
            );
        }
        out
    }

    /// The JSON of `apply --output json`, once the outcome is known.
    fn json(&self, file: &Path, dry_run: bool, written: bool) -> String {
        let list: Vec<Value> = self.changes.iter().map(Change::to_json).collect();
        json!({ "file": file.display().to_string(), "changes": list,
                "anomalies_changed": self.anomalies_change(),
                "channels_changed": self.channels_change(),
                "dry_run": dry_run, "written": written })
        .to_string()
            + "\n"
    }

    /// The question asked before a risky apply.
    fn question(&self, table: &str) -> String {
        let (_, changed, removed) = self.counts();
        let what = if changed + removed > 0 {
            risky_text(removed, changed)
        } else if self.anomalies_change() {
            "Change the anomaly settings".into()
        } else {
            "Change the channels".into()
        };
        format!("{what} in table {table}?")
    }
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let desired = read_file(&args.file, "nothing was written").map_err(CliError::Input)?;
    let anomalies = anomaly_config(&args.file)?;
    let channels = channels_of(&args.file)?;
    let json = ctx.json(false);
    ctx.block_on(async {
        let store = ctx.aws(&args.aws).await?.budgets();
        let plan = Plan {
            changes: diff(&store.list().await?, &desired),
            anomalies,
            stored_anomalies: store.anomaly_config().await?,
            channels,
            stored_channels: store.channels().await?,
        };
        if plan.is_empty() {
            return Ok(if json {
                plan.json(&args.file, args.dry_run, false)
            } else {
                "no changes\n".into()
            });
        }
        if !json {
            crate::error::print(&plan.render())?;
        }
        if args.dry_run {
            return Ok(if json {
                plan.json(&args.file, true, false)
            } else {
                format!("dry run: {}; nothing was written\n", plan.tally())
            });
        }
        if plan.risky() && !args.yes {
            confirm(&plan, store.table())?;
        }
        write(&store, &plan).await?;
        let (added, changed, removed) = plan.counts();
        Ok(if json {
            plan.json(&args.file, false, true)
        } else {
            format!(
                "applied: {added} added, {changed} changed, {removed} removed{}{}\n",
                if plan.anomalies_change() {
                    ", anomaly settings changed"
                } else {
                    ""
                },
                if plan.channels_change() {
                    ", channels changed"
                } else {
                    ""
                }
            )
        })
    })
}

/// Asks on the terminal before a risky apply: yes goes on, no is a failure (exit 1), and no
/// terminal to ask on is a usage error (exit 2).
fn confirm(plan: &Plan, table: &str) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    match confirm::ask(
        &plan.question(table),
        stdin.is_terminal(),
        &mut stdin.lock(),
        &mut std::io::stderr(),
    ) {
        Answer::Yes => Ok(()),
        Answer::No => Err(CliError::failed("not confirmed; nothing was written")),
        Answer::NoTerminal => Err(CliError::input(format!(
            "{}: apply asks before removing or changing budgets, and stdin is not a terminal \
             to ask on; nothing was written (pass --yes to apply without asking)",
            plan.tally()
        ))),
    }
}

/// The budget changes in one transaction, then the anomaly settings.
async fn write(store: &BudgetsStore, plan: &Plan) -> Result<(), CliError> {
    let writes: Vec<BudgetWrite> = plan.changes.iter().map(Change::write).collect();
    store.apply(&writes).await?;
    if plan.anomalies_change() {
        store.put_anomaly_config(&plan.anomalies).await?;
    }
    if plan.channels_change() {
        store.put_channels(&plan.channels).await?;
    }
    Ok(())
}

/// `Remove 1 budget and change 2 budgets`, leaving out a zero.
fn risky_text(removed: usize, changed: usize) -> String {
    let n = |count: usize, verb: &str| {
        format!("{verb} {count} budget{}", if count == 1 { "" } else { "s" })
    };
    match (removed, changed) {
        (0, c) => n(c, "Change"),
        (r, 0) => n(r, "Remove"),
        (r, c) => format!("{} and {}", n(r, "Remove"), n(c, "change")),
    }
}
