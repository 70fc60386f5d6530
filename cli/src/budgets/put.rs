//! `billwatch budgets put NAME --amount A ...`: one budget from flags, validated as the file's
//! are, then written.

use super::*;
use billwatch_core::budget::{decimal, Auto, Draft, Model};

#[derive(clap::Args)]
pub struct PutArgs {
    /// The budget's name (letters, digits, - and _).
    pub name: String,
    /// The amount per period, e.g. 1000 or 1234.56 (a quantity of --unit for a usage budget).
    #[arg(long, required_unless_present_any = ["auto_months", "kind"])]
    pub amount: Option<String>,
    /// A commitment budget instead of a cost budget: savings_plans_utilization,
    /// ri_utilization, savings_plans_coverage, ri_coverage (with --thresholds "below 90%"),
    /// or commitment_expiry (with --days); no amount.
    #[arg(long, conflicts_with_all = ["amount", "auto_months", "unit", "cost"])]
    pub kind: Option<String>,
    /// A commitment_expiry budget's lead times in days, comma-separated (default 60,30,7).
    #[arg(long, value_name = "D1,D2", requires = "kind")]
    pub days: Option<String>,
    /// Instead of --amount: the mean of the budget's last N months' actual spend, worked out
    /// at the start of each period (1 to 24).
    #[arg(long, value_name = "N", conflicts_with = "amount")]
    pub auto_months: Option<u32>,
    /// The cost type: unblended (default), blended, net_unblended, amortized, net_amortized.
    #[arg(long)]
    pub cost: Option<String>,
    /// Charge kinds left out, comma-separated: credits, refunds, tax, support, upfront,
    /// recurring, discounts.
    #[arg(long, default_value = "")]
    pub exclude: String,
    /// daily, monthly (default), quarterly or annual.
    #[arg(long)]
    pub period: Option<String>,
    /// A usage budget: the pricing unit it counts (GB-Mo, Hrs, Lambda-GB-Second); the amount
    /// and thresholds are quantities of it, and --currency does not apply.
    #[arg(long)]
    pub unit: Option<String>,
    /// A filter key and its values, as in the budgets file's [budget.filter]: repeat for
    /// each key, e.g. --filter accounts=111111111111,222222222222 --filter tags.team=data,ml
    /// --filter not_services=AWSSupport* ("" in a list: untagged).
    #[arg(long, value_name = "KEY=V1,V2")]
    pub filter: Vec<String>,
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
    /// How often the digest goes: daily (default) or weekly (Monday, the week before against
    /// the one before it).
    #[arg(long, value_name = "daily|weekly", requires = "digest")]
    pub digest_every: Option<String>,
    /// A channel its alerts also go to (declared by `budgets apply`'s [[channel]]); repeat for
    /// several.
    #[arg(long = "channel", value_name = "NAME")]
    pub channels: Vec<String>,
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

/// `--digest-every`: daily (the default) or weekly, or a problem.
fn every_of(f: &mut Draft, text: Option<&str>) -> billwatch_core::budget::Every {
    use billwatch_core::budget::Every;
    match text {
        None | Some("daily") => Every::Day,
        Some("weekly") => Every::Week,
        Some(other) => {
            f.fail("digest", format!("'{other}' is not daily or weekly"));
            Every::Day
        }
    }
}

/// The default of --thresholds (a commitment_expiry budget has none: it is ignored there).
const DEFAULT_THRESHOLDS: &str = "50%,80%,100%";

pub(super) fn budget_from_flags(flags: PutArgs) -> Result<Budget, Vec<String>> {
    let mut f = Draft::default();
    if let Some(kind) = flags.kind.clone() {
        return commitment_from_flags(f, &kind, flags);
    }
    let amount = match (&flags.amount, flags.auto_months) {
        (Some(a), _) => decimal(a).unwrap_or_else(|e| {
            f.fail("amount", e);
            Decimal::ONE
        }),
        (None, _) => Decimal::ZERO,
    };
    let currency = match &flags.unit {
        Some(unit) => unit.clone(),
        None => flags.currency.clone(),
    };
    let model = model_from_flags(&mut f, &flags);
    let scope = Scope::from_parts(flags.account, flags.service, flags.tag).unwrap_or_else(|p| {
        f.fail(&p.field, p.reason);
        Scope::All
    });
    let mut thresholds =
        f.threshold_list("thresholds", &flags.thresholds, Basis::Actual, &currency);
    thresholds.extend(f.threshold_list(
        "forecast-thresholds",
        &flags.forecast_thresholds,
        Basis::Forecast,
        &currency,
    ));
    let escalation_step = match flags.escalation_step.as_deref().map(decimal) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            f.fail("escalation_step", e);
            None
        }
        None => None,
    };
    let every = every_of(&mut f, flags.digest_every.as_deref());
    let budget = Budget {
        name: flags.name,
        scope,
        amount,
        currency,
        thresholds,
        escalation_step,
        topic_arn: flags.topic_arn,
        digest: flags.digest,
        channels: flags.channels.clone(),
        digest_every: every,
        model,
    };
    let label = format!("budget '{}'", budget.name);
    let index: Vec<usize> = (1..=budget.thresholds.len()).collect();
    f.finish(budget, &index)
        .map_err(|problems| problems.iter().map(|p| format!("{label}: {p}")).collect())
}

/// A commitment budget from the flags (--kind): a gauge's --thresholds are lines ("below
/// 90%"), an expiry budget's lead times are --days.
fn commitment_from_flags(mut f: Draft, kind: &str, flags: PutArgs) -> Result<Budget, Vec<String>> {
    use billwatch_core::commitment::Watch;
    let days = flags.days.as_deref().map(|text| {
        text.split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .filter_map(|d| match d.parse::<u32>() {
                Ok(d) => Some(d),
                Err(_) => {
                    f.fail("days", format!("'{d}' is not a whole number of days"));
                    None
                }
            })
            .collect::<Vec<u32>>()
    });
    let Some(watch) = Watch::of_kind(kind, days) else {
        return Err(vec![format!(
            "budget '{}': kind: '{kind}' is not a commitment budget's kind ({})",
            flags.name,
            billwatch_core::commitment::watch::KINDS.join(", ")
        )]);
    };
    let mut thresholds = Vec::new();
    match &watch {
        Watch::Gauge(_) => {
            for (i, text) in flags.thresholds.split(',').map(str::trim).enumerate() {
                if text.is_empty() {
                    continue;
                }
                match billwatch_core::budget::parse_below(text) {
                    Ok(t) => thresholds.push(t),
                    Err(e) => f.fail(&format!("thresholds #{}", i + 1), e),
                }
            }
        }
        Watch::Expiry { .. } => {
            if flags.thresholds != DEFAULT_THRESHOLDS && !flags.thresholds.is_empty() {
                f.fail(
                    "thresholds",
                    "an expiry budget warns at its lead times: give --days, not --thresholds",
                );
            }
        }
    }
    if !flags.forecast_thresholds.is_empty() {
        f.fail(
            "forecast-thresholds",
            format!("a {kind} budget has no forecast"),
        );
    }
    let mut model = model_from_flags(&mut f, &flags);
    model.watch = Some(watch);
    let scope = Scope::from_parts(flags.account, flags.service, flags.tag).unwrap_or_else(|p| {
        f.fail(&p.field, p.reason);
        Scope::All
    });
    let every = every_of(&mut f, flags.digest_every.as_deref());
    let budget = Budget {
        name: flags.name,
        scope,
        amount: Decimal::ONE_HUNDRED,
        currency: flags.currency,
        thresholds,
        escalation_step: None,
        topic_arn: flags.topic_arn,
        digest: flags.digest,
        channels: flags.channels.clone(),
        digest_every: every,
        model,
    };
    let label = format!("budget '{}'", budget.name);
    let index: Vec<usize> = (1..=budget.thresholds.len()).collect();
    f.finish(budget, &index)
        .map_err(|problems| problems.iter().map(|p| format!("{label}: {p}")).collect())
}

/// The model of the flags: --cost, --exclude, --period, --unit, --auto-months, --filter.
fn model_from_flags(f: &mut Draft, flags: &PutArgs) -> Model {
    use billwatch_core::budget::cost::ChargeKind;
    use billwatch_core::budget::filter::{Filter, Values};
    let mut m = Model::default();
    match flags.cost.as_deref().map(str::parse) {
        Some(Ok(c)) => m.measure.cost = c,
        Some(Err(e)) => f.fail("cost", e),
        None => {}
    }
    for name in flags
        .exclude
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        match ChargeKind::excludable(name) {
            Ok(k) => {
                m.measure.exclude.insert(k);
            }
            Err(e) => f.fail("exclude", e),
        }
    }
    match flags.period.as_deref().map(str::parse) {
        Some(Ok(c)) => m.cadence = c,
        Some(Err(e)) => f.fail("period", e),
        None => {}
    }
    m.unit = flags.unit.clone();
    m.auto = flags.auto_months.map(|months| Auto { months });
    let mut table: std::collections::BTreeMap<String, Values> = Default::default();
    for spec in &flags.filter {
        let Some((key, values)) = spec.split_once('=') else {
            f.fail("filter", format!("'{spec}' is not KEY=V1,V2"));
            continue;
        };
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
        match key.split_once('.') {
            Some((key, name)) => {
                let entry = table
                    .entry(key.to_string())
                    .or_insert_with(|| Values::PerName(Default::default()));
                if let Values::PerName(map) = entry {
                    map.insert(name.to_string(), values);
                }
            }
            None => {
                table.insert(key.to_string(), Values::List(values));
            }
        }
    }
    match Filter::try_from(table) {
        Ok(filter) => m.filter = filter,
        Err(e) => f.fail("filter", e),
    }
    m
}
