//! `billwatch anomalies feedback ID expected|planned|real [--note TEXT] [--days N]`: an answer to
//! an anomaly alert, kept in the budgets table for the ingest function (which then leaves the
//! same account, service and driver quiet for the window) and shown in listings and digests;
//! and the feedback file `anomalies --report --feedback FILE` tries answers with offline.

use crate::aws::AwsArgs;
use crate::context::Ctx;
use crate::error::CliError;
use billwatch_core::anomaly::{driver_of_reason, Feedback, Verdict};
use billwatch_core::digest::OpenAnomaly;
use billwatch_core::period::Period;
use std::path::Path;

/// The period and claim key an anomaly alert's id is made of (`<YYYY-MM>:anomaly#…`).
pub fn parse_id(id: &str) -> Result<(Period, String), String> {
    let (period, key) = id
        .trim()
        .split_once(':')
        .ok_or_else(|| format!("'{id}' is not an anomaly alert's id (like 2026-11:anomaly#210987654321#AmazonEC2#USD#2026-11-16)"))?;
    let period: Period = period
        .parse()
        .map_err(|_| format!("'{id}': '{period}' is not a billing period"))?;
    if OpenAnomaly::from_key(key, "").is_none() {
        return Err(format!(
            "'{id}' is not an anomaly alert's id: feedback answers anomaly alerts (budget alerts are tuned with thresholds)"
        ));
    }
    Ok((period, key.to_string()))
}

/// Stores the answer to the anomaly alert `id`.
pub fn answer(
    ctx: &Ctx,
    aws: &AwsArgs,
    id: &str,
    verdict: &str,
    note: Option<String>,
    days: u32,
) -> Result<String, CliError> {
    let verdict = Verdict::of(verdict).map_err(CliError::input)?;
    let (period, key) = parse_id(id).map_err(CliError::input)?;
    if days == 0 {
        return Err(CliError::input("--days: at least 1".to_string()));
    }
    ctx.block_on(async {
        let aws = ctx.aws(aws).await?;
        let alert = aws
            .stores()
            .alerts
            .list(period)
            .await?
            .into_iter()
            .find(|a| a.key == key)
            .ok_or_else(|| {
                CliError::input(format!(
                    "no anomaly alert {id} in {period}: `billwatch anomalies --period {period}` lists them"
                ))
            })?;
        let open = OpenAnomaly::from_key(&alert.key, &alert.reason).expect("checked above");
        let day = chrono::NaiveDate::parse_from_str(&open.day, "%Y-%m-%d")
            .map_err(|_| CliError::input(format!("{id}: '{}' is not a day", open.day)))?;
        let by = aws.caller().await;
        let feedback = Feedback {
            account: open.account,
            service: open.service,
            currency: open.currency,
            day,
            driver: driver_of_reason(&alert.reason).map(str::to_string),
            verdict,
            days,
            note,
            alert_id: Some(alert.alert_id.clone()),
            by,
            at: Some(billwatch_aws::timestamp(chrono::Utc::now())),
        };
        let problems = feedback.problems();
        if !problems.is_empty() {
            return Err(CliError::Input(problems));
        }
        aws.budgets().put_feedback(&key, &feedback).await?;
        if ctx.json(false) {
            return Ok(serde_json::to_string(&feedback).unwrap_or_default() + "\n");
        }
        let what = match &feedback.driver {
            Some(d) => format!(
                "{} in {} driven by {d}",
                feedback.service, feedback.account
            ),
            None => format!("{} in {}", feedback.service, feedback.account),
        };
        Ok(if verdict.silences() {
            format!(
                "{id}: answered {}; no anomaly alerts on {what} until {} (its tolerance widened for 90 days)\n",
                verdict.name(),
                feedback.until()
            )
        } else {
            format!("{id}: answered real; alerts on {what} go on as before\n")
        })
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackFile {
    #[serde(default)]
    feedback: Vec<Feedback>,
}

/// The `[[feedback]]` tables of a file, every problem named with the table's number.
pub fn read_file(path: &Path) -> Result<Vec<Feedback>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    let file: FeedbackFile = toml::from_str(&text)
        .map_err(|e| CliError::input(format!("{}: {}", path.display(), e.message())))?;
    let problems: Vec<String> = file
        .feedback
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            f.problems()
                .into_iter()
                .map(move |p| format!("{}: feedback #{}: {p}", path.display(), i + 1))
        })
        .collect();
    if problems.is_empty() {
        Ok(file.feedback)
    } else {
        Err(CliError::Input(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_names_its_period_and_anomaly() {
        let (p, key) = parse_id("2026-11:anomaly#210987654321#AmazonEC2#USD#2026-11-16").unwrap();
        assert_eq!(p.to_string(), "2026-11");
        assert_eq!(key, "anomaly#210987654321#AmazonEC2#USD#2026-11-16");
        assert!(parse_id("2026-11:team#actual#80")
            .unwrap_err()
            .contains("budget alerts"));
        assert!(parse_id("nonsense").is_err());
    }

    #[test]
    fn a_feedback_file_is_read_strictly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(
            &path,
            "[[feedback]]\naccount = \"210987654321\"\nservice = \"AmazonEC2\"\nday = \"2026-11-16\"\nverdict = \"expected\"\n",
        )
        .unwrap();
        let f = read_file(&path).unwrap();
        assert_eq!(f[0].days, 14);
        assert_eq!(f[0].currency, "USD");
        std::fs::write(&path, "[[feedback]]\naccount = \"1\"\nservice = \"S\"\nday = \"2026-11-16\"\nverdict = \"fine\"\n").unwrap();
        assert!(read_file(&path).is_err());
        std::fs::write(&path, "[[feedback]]\naccount = \"1\"\nservice = \"S\"\nday = \"2026-11-16\"\nverdict = \"planned\"\ndays = 200\n").unwrap();
        let Err(CliError::Input(p)) = read_file(&path) else {
            panic!()
        };
        assert!(p[0].contains("feedback #1: days"), "{p:?}");
    }
}
