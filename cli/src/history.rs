//! `billwatch history`: month-by-month live totals of one account and service.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output;
use crate::table::{columns, money};
use serde_json::json;
use std::collections::BTreeMap;

#[derive(clap::Args)]
pub struct Args {
    /// Account id (12 digits).
    #[arg(long)]
    account: String,
    /// Product code, e.g. AmazonEC2.
    #[arg(long)]
    service: String,
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
    /// Show every stored digit instead of rounding to the cent.
    #[arg(long)]
    exact: bool,
    /// Draw a bar per month instead of the table.
    #[arg(long)]
    chart: bool,
    /// With --chart: mark this budget's monthly amount on every bar.
    #[arg(long, value_name = "NAME", requires = "chart")]
    budget: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    ctx.block_on(async {
        let aws = ctx.aws(&args.aws).await?;
        let s = aws.stores();
        let mut live = Vec::new();
        let mut pointers = BTreeMap::new();
        for t in s.totals.history(&args.account, &args.service).await? {
            let key = (t.period, t.payer.clone());
            if !pointers.contains_key(&key) {
                let p = s.reports.pointer(t.period, &t.payer).await?;
                pointers.insert(key.clone(), p.map(|p| p.version));
            }
            if pointers[&key].as_deref() == Some(t.version.as_str()) {
                live.push(t);
            }
        }
        if ctx.json(args.json) {
            let history: Vec<_> = live.iter().map(output::total).collect();
            return Ok(json!({ "account_id": args.account, "service": args.service,
                              "history": history })
            .to_string()
                + "\n");
        }
        if live.is_empty() {
            return Ok(format!(
                "no totals stored for account {} and service {}\n",
                args.account, args.service
            ));
        }
        if args.chart {
            let budget = match &args.budget {
                Some(name) => Some(aws.budget_named(name).await?),
                None => None,
            };
            return Ok(crate::spend_chart::months(
                &args.account,
                &args.service,
                &live,
                budget.as_ref(),
            ));
        }
        let mut table = columns(&["PERIOD", "CURRENCY", "COST", "STATUS"], &[2]);
        for t in &live {
            table.add_row(vec![
                t.period.to_string(),
                t.currency.clone(),
                money(t.cost, args.exact),
                t.status.to_string(),
            ]);
        }
        Ok(format!(
            "{} {}\n{}\n",
            args.account,
            args.service,
            table.trim_fmt()
        ))
    })
}
