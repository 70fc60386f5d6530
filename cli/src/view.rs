//! How `totals` and `history` show stored figures: as a table (to the cent, or every stored
//! digit), as JSON, or as a chart with a budget drawn on it.

use crate::aws::Aws;
use crate::error::CliError;
use billwatch_core::budget::Budget;

#[derive(clap::Args)]
pub struct View {
    /// Print JSON (same as --output json).
    #[arg(long)]
    pub json: bool,
    /// Show every stored digit instead of rounding to the cent.
    #[arg(long)]
    pub exact: bool,
    /// Draw a chart instead of the table: `totals`, the month to date day by day
    /// (cumulative); `history`, a bar per month.
    #[arg(long)]
    pub chart: bool,
    /// With --chart: draw this budget on it (`totals`: its scope charted, its amount pro rata
    /// as a straight line; `history`: its monthly amount marked on every bar).
    #[arg(long, value_name = "NAME", requires = "chart")]
    pub budget: Option<String>,
}

impl View {
    /// The budget `--budget` names, from the stack's budgets table.
    pub async fn budget(&self, aws: &Aws) -> Result<Option<Budget>, CliError> {
        match &self.budget {
            Some(name) => Ok(Some(aws.budget_named(name).await?)),
            None => Ok(None),
        }
    }
}
