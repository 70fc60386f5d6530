//! `billwatch budgets rm NAME`: remove one budget; a name that is not there is bad input
//! (exit 2), as a missing file is.

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// The budget's name.
    name: String,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let removed = ctx.block_on(async {
        Ok::<_, CliError>(
            ctx.aws(&args.aws)
                .await?
                .budgets()
                .delete(&args.name)
                .await?,
        )
    })?;
    let name = args.name;
    if !removed {
        return Err(CliError::input(format!(
            "no budget named '{name}' (see `billwatch budgets list`)"
        )));
    }
    Ok(if ctx.json(false) {
        format!("{}\n", json!({ "removed": name }))
    } else {
        format!("budget '{name}' removed\n")
    })
}
