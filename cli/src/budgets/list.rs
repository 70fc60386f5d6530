//! `billwatch budgets list`: every budget with every setting.

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON (same as --output json).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let mut budgets = ctx
        .block_on(async { Ok::<_, CliError>(ctx.aws(&args.aws).await?.budgets().list().await?) })?;
    budgets.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(if ctx.json(args.json) {
        let list: Vec<Value> = budgets.iter().map(to_json).collect();
        serde_json::to_string_pretty(&list).expect("JSON serializes") + "\n"
    } else if budgets.is_empty() {
        "no budgets\n".into()
    } else {
        budgets
            .iter()
            .map(|b| format!("{}  {}\n", b.name, describe(b)))
            .collect()
    })
}
