//! `billwatch budgets put NAME --amount A ...`: one budget from flags, validated as the file's
//! are, then written.

use super::*;
use billwatch_core::budget::{decimal, Draft};

#[derive(clap::Args)]
pub struct PutArgs {
    /// The budget's name (letters, digits, - and _).
    pub name: String,
    /// Monthly amount, e.g. 1000 or 1234.56.
    #[arg(long)]
    pub amount: String,
    /// Currency of the amount (ISO 4217); only spend billed in it counts.
    #[arg(long, default_value = "USD")]
    pub currency: String,
    /// One account id (12 digits); with --service, that service in that account.
    #[arg(long)]
    pub account: Option<String>,
    /// One service (product code, e.g. AmazonEC2), in every account unless --account.
    #[arg(long)]
    pub service: Option<String>,
    /// A cost-allocation tag value, KEY=VALUE (from `user:KEY` / `resourceTags/user:KEY`
    /// columns; keys are case-sensitive).
    #[arg(long, value_name = "KEY=VALUE")]
    pub tag: Option<String>,
    /// Levels on the actual spend, comma-separated, spelt as in the budgets file: "80%" (of
    /// the amount) or "1000 USD" (in the budget's currency). A bare number below 1 (0.8) is
    /// refused: write "80%" or "0.8%". "" for none.
    #[arg(long, default_value = "50%,80%,100%")]
    pub thresholds: String,
    /// Levels on the forecast month-end spend, in the same form as --thresholds.
    #[arg(long, default_value = "")]
    pub forecast_thresholds: String,
    /// Past 100 % of the amount, alert again every this many percent (e.g. 20: 120, 140…).
    #[arg(long, value_name = "PERCENT")]
    pub escalation_step: Option<String>,
    /// The SNS topic for this budget's alerts (default: the stack's topic).
    #[arg(long)]
    pub topic_arn: Option<String>,
    /// Send this budget a daily digest (month to date, forecast, yesterday, movers, anomalies).
    #[arg(long)]
    pub digest: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `budgets put`: validate the flags (every problem), then create or replace the budget.
pub fn run(ctx: &Ctx, args: PutArgs) -> Result<String, CliError> {
    let aws_args = args.aws.clone();
    let budget = budget_from_flags(args).map_err(CliError::Input)?;
    ctx.block_on(async {
        Ok::<_, CliError>(ctx.aws(&aws_args).await?.budgets().put(&budget).await?)
    })?;
    Ok(if ctx.json(false) {
        format!("{}\n", json!({ "saved": to_json(&budget) }))
    } else {
        format!("budget '{}' saved: {}\n", budget.name, describe(&budget))
    })
}

pub(super) fn budget_from_flags(flags: PutArgs) -> Result<Budget, Vec<String>> {
    let mut f = Draft::default();
    let amount = decimal(&flags.amount).unwrap_or_else(|e| {
        f.fail("amount", e);
        Decimal::ONE
    });
    let scope = Scope::from_parts(flags.account, flags.service, flags.tag).unwrap_or_else(|p| {
        f.fail(&p.field, p.reason);
        Scope::All
    });
    let mut thresholds = f.threshold_list(
        "thresholds",
        &flags.thresholds,
        Basis::Actual,
        &flags.currency,
    );
    thresholds.extend(f.threshold_list(
        "forecast-thresholds",
        &flags.forecast_thresholds,
        Basis::Forecast,
        &flags.currency,
    ));
    let escalation_step = match flags.escalation_step.as_deref().map(decimal) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            f.fail("escalation_step", e);
            None
        }
        None => None,
    };
    let budget = Budget {
        name: flags.name,
        scope,
        amount,
        currency: flags.currency,
        thresholds,
        escalation_step,
        topic_arn: flags.topic_arn,
        digest: flags.digest,
        model: Default::default(),
    };
    let label = format!("budget '{}'", budget.name);
    let index: Vec<usize> = (1..=budget.thresholds.len()).collect();
    f.finish(budget, &index)
        .map_err(|problems| problems.iter().map(|p| format!("{label}: {p}")).collect())
}
