//! `billwatch budgets check FILE`: the file alone, no AWS.

use super::*;

#[derive(clap::Args)]
pub struct Args {
    /// The budgets file (see budgets.example.toml).
    pub file: PathBuf,
}

/// `budgets check FILE`: the file alone, no AWS.
pub fn run(ctx: &Ctx, file: &Path) -> Result<String, CliError> {
    let budgets = read_file(file, "not valid").map_err(CliError::Input)?;
    if ctx.json(false) {
        let list: Vec<Value> = budgets.iter().map(to_json).collect();
        return Ok(json!({ "file": file.display().to_string(), "valid": true,
                          "budgets": list })
        .to_string()
            + "\n");
    }
    let mut out = format!(
        "{}: valid, {} budget{}\n",
        file.display(),
        budgets.len(),
        if budgets.len() == 1 { "" } else { "s" }
    );
    for b in &budgets {
        out += &format!("  {}  {}\n", b.name, describe(b));
    }
    Ok(out)
}
