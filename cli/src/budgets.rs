//! `billwatch budgets put | list | rm`.

use rust_decimal::Decimal;
use shared::budget::{Budget, Scope};
use shared::clients;
use shared::store::{BudgetsStore, TableNames};
use std::process::ExitCode;
use std::str::FromStr;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create or replace a monthly budget.
    Put {
        name: String,
        /// Monthly amount, e.g. 1000 or 1234.56.
        #[arg(long)]
        amount: String,
        #[arg(long, default_value = "USD")]
        currency: String,
        /// One account id, or every account when omitted.
        #[arg(long)]
        account: Option<String>,
        /// Percentages that alert, comma-separated.
        #[arg(long, default_value = "50,80,100")]
        thresholds: String,
    },
    /// List budgets.
    List,
    /// Remove a budget.
    Rm { name: String },
}

fn parse_budget(
    name: String,
    amount: &str,
    currency: String,
    account: Option<String>,
    thresholds: &str,
) -> Result<Budget, String> {
    let amount = Decimal::from_str(amount.trim())
        .map_err(|_| format!("amount '{amount}' is not a number"))?;
    let thresholds = thresholds
        .split(',')
        .filter(|t| !t.trim().is_empty())
        .map(|t| {
            Decimal::from_str(t.trim().trim_end_matches('%'))
                .map_err(|_| format!("threshold '{t}' is not a number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let budget = Budget {
        name,
        scope: account.map(Scope::Account).unwrap_or(Scope::All),
        amount,
        currency,
        thresholds,
    };
    budget.validate().map_err(|e| e.to_string())?;
    Ok(budget)
}

pub fn run(command: Command) -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result: Result<String, String> = runtime.block_on(async {
        let store = BudgetsStore::new(
            clients::dynamodb(&clients::sdk_config().await),
            TableNames::from_env().budgets,
        );
        match command {
            Command::Put {
                name,
                amount,
                currency,
                account,
                thresholds,
            } => {
                let budget = parse_budget(name, &amount, currency, account, &thresholds)?;
                store.put(&budget).await.map_err(|e| e.to_string())?;
                Ok(format!("budget '{}' saved\n", budget.name))
            }
            Command::List => {
                let budgets = store.list().await.map_err(|e| e.to_string())?;
                let mut out = String::new();
                for b in budgets {
                    let thresholds: Vec<String> = b
                        .thresholds
                        .iter()
                        .map(|t| format!("{}%", t.normalize()))
                        .collect();
                    out += &format!(
                        "{}  {} {}  scope {}  thresholds {}\n",
                        b.name,
                        b.amount.normalize(),
                        b.currency,
                        b.scope.as_text(),
                        thresholds.join(",")
                    );
                }
                Ok(out)
            }
            Command::Rm { name } => {
                store.delete(&name).await.map_err(|e| e.to_string())?;
                Ok(format!("budget '{name}' removed\n"))
            }
        }
    });
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_and_validate() {
        let b = parse_budget(
            "team".into(),
            "1000",
            "USD".into(),
            Some("111".into()),
            "50, 80%,100",
        )
        .unwrap();
        assert_eq!(b.thresholds.len(), 3);
        assert_eq!(b.scope, Scope::Account("111".into()));
        assert!(parse_budget("team".into(), "-1", "USD".into(), None, "50").is_err());
        assert!(parse_budget("team".into(), "x", "USD".into(), None, "50")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_budget("team".into(), "10", "USD".into(), None, "").is_err());
    }
}
