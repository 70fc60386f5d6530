//! `billwatch history`: month-by-month live totals of one account and service.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use crate::output;
use crate::table::{columns, money};
use crate::view::View;
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
    #[command(flatten)]
    view: View,
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
        if ctx.json(args.view.json) {
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
        if args.view.chart {
            let budget = args.view.budget(&aws).await?;
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
                money(t.cost, args.view.exact),
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
