//! `billwatch budgets status --budgets FILE --report PATH...`: where each budget of a file stands
//! at the period of the newest report, from local reports, with no AWS call. Reports of earlier
//! months count toward quarterly and annual budgets and automatic amounts.

use super::offline::{cost_word, crossing_text, live, read_reports, stand, standing_json};
use super::*;
use billwatch_core::budget::spec::specs_of;

#[derive(clap::Args)]
pub struct Args {
    /// The budgets file (see budgets.example.toml).
    #[arg(long)]
    pub budgets: PathBuf,
    /// A local report (CUR 1.0 or 2.0, FOCUS, legacy CSV, DBR, or a manifest); repeat for
    /// earlier months. A later report of a month replaces an earlier one.
    #[arg(long = "report", value_name = "PATH", required = true)]
    pub reports: Vec<PathBuf>,
    /// JSON: one object per budget.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<String, CliError> {
    let budgets = read_file(&args.budgets, "not valid").map_err(CliError::Input)?;
    let specs = specs_of(&budgets);
    let reads = read_reports(&args.reports, &specs, &budgets)?;
    let live = live(&reads);
    let json_out = ctx.json(args.json);
    let mut list = Vec::new();
    let mut out = String::new();
    for b in &budgets {
        if let Some(watch) = b.watch() {
            if let Some((_, newest)) = live.last_key_value() {
                let (text, json) = super::commitment_status::status(b, watch, newest);
                out += &text;
                list.push(json);
            }
            continue;
        }
        let Some(s) = stand(b, &live) else {
            continue;
        };
        if json_out {
            list.push(standing_json(b, &s));
            continue;
        }
        let text = |d: Decimal| d.normalize().to_string();
        let amount = s.amount.map(text).unwrap_or_else(|| "none yet".into());
        let figure = match &s.spend {
            Ok(spend) => format!(
                "spend {}{}",
                text(*spend),
                s.forecast
                    .map(|f| format!("  forecast {}", text(f.round_dp(2))))
                    .unwrap_or_default()
            ),
            Err(why) => format!("cannot be answered: {why}"),
        };
        let crossed: Vec<String> = s.crossings.iter().map(|c| crossing_text(b, c)).collect();
        out += &format!(
            "{}  {}  {}  {}  amount {}  {}{}\n",
            b.name,
            s.span,
            cost_word(b),
            b.currency,
            amount,
            figure,
            if crossed.is_empty() {
                String::new()
            } else {
                format!("  crossed {}", crossed.join(", "))
            }
        );
        let counts = b.model_text();
        if !counts.is_empty() {
            out += &format!("  counts {counts}\n");
        }
        for note in &s.notes {
            out += &format!("  note: {note}\n");
        }
    }
    if json_out {
        return Ok(Value::Array(list).to_string() + "\n");
    }
    Ok(out)
}
