//! The month page behind alerts: written by the function to the stack's pages bucket
//! (`pages/<period>.html`, private) at the first alert of a period in an invocation, and linked
//! from the alert with a presigned GET URL (docs/page.md: how long it works). A page that cannot
//! be written never holds an alert back: the alert goes without its link.

use super::stored_page;
use crate::store::{AlertsStore, BudgetsStore, Owed, ReportsStore, TotalsStore};
use aws_sdk_s3::presigning::PresigningConfig;
use billwatch_core::alert::AlertKind;
use billwatch_core::page::month_page;
use billwatch_core::period::Period;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::time::Duration;

/// Where pages are kept in the pages bucket.
pub const PREFIX: &str = "pages/";

/// The longest a presigned URL can be asked to work (S3's limit for SigV4: 7 days).
pub const MOST: Duration = Duration::from_secs(7 * 24 * 3600);

/// The key of `period`'s page.
pub fn key_of(period: Period) -> String {
    format!("{PREFIX}{period}.html")
}

/// A page written and its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub key: String,
    pub url: String,
    /// When the URL stops working at the latest (sooner if the credentials that signed it
    /// expire first).
    pub expires: DateTime<Utc>,
}

/// Writes pages and makes their links, once per period and invocation.
#[derive(Debug)]
pub struct PageLinks {
    s3: aws_sdk_s3::Client,
    /// The pages bucket (`BILLWATCH_PAGES_BUCKET`); None: no pages, no links.
    bucket: Option<String>,
    /// How long a link is asked to work (at most [`MOST`]).
    pub valid_for: Duration,
    stores: (ReportsStore, TotalsStore, AlertsStore, BudgetsStore),
    made: tokio::sync::Mutex<HashMap<Period, Option<Link>>>,
}

/// Whether an alert of this kind links to its month's page (those about the month's spend).
pub fn wants_page(kind: &str) -> bool {
    matches!(
        AlertKind::from_name(kind),
        Some(
            AlertKind::Budget
                | AlertKind::Escalation
                | AlertKind::MonthClose
                | AlertKind::Anomaly
                | AlertKind::Digest
                | AlertKind::Commitment
        )
    )
}

/// `alert` with its page's link: a line of the e-mail text and `page_url` (with
/// `page_url_expires`) in the JSON payload.
pub fn with_link(alert: &Owed, link: &Link) -> Owed {
    let mut out = alert.clone();
    out.text.push_str(&format!(
        "\nThe month on one page: {}\n(a private link; it works until {} at the latest)\n",
        link.url,
        link.expires.format("%Y-%m-%d %H:%M UTC")
    ));
    if let Ok(serde_json::Value::Object(mut payload)) =
        serde_json::from_str::<serde_json::Value>(&alert.payload)
    {
        payload.insert("page_url".into(), link.url.clone().into());
        payload.insert(
            "page_url_expires".into(),
            crate::timestamp(link.expires).into(),
        );
        out.payload = serde_json::Value::Object(payload).to_string();
    }
    out
}

impl PageLinks {
    pub fn new(
        s3: aws_sdk_s3::Client,
        bucket: Option<String>,
        stores: (ReportsStore, TotalsStore, AlertsStore, BudgetsStore),
    ) -> Self {
        Self {
            s3,
            bucket,
            valid_for: MOST,
            stores,
            made: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Forgets the pages written (the next alert writes its period's page again).
    pub async fn forget(&self) {
        self.made.lock().await.clear();
    }

    /// The link of `period`'s page, writing the page first (once per invocation); None without
    /// a pages bucket, without a live delivery, or when it cannot be written (logged).
    pub async fn link(&self, period: Period, now: DateTime<Utc>) -> Option<Link> {
        let bucket = self.bucket.as_deref()?;
        let mut made = self.made.lock().await;
        if let Some(link) = made.get(&period) {
            return link.clone();
        }
        let link = match self.write(bucket, period, now).await {
            Ok(link) => link,
            Err(e) => {
                tracing::warn!(%period, error = %e, "the month page was not written; alerts go without its link");
                None
            }
        };
        made.insert(period, link.clone());
        link
    }

    async fn write(
        &self,
        bucket: &str,
        period: Period,
        now: DateTime<Utc>,
    ) -> Result<Option<Link>, String> {
        let (reports, totals, alerts, budgets) = &self.stores;
        let budgets = budgets.list().await.map_err(|e| e.to_string())?;
        let Some(page) = stored_page(reports, totals, alerts, budgets, period)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let html = month_page(&page);
        let key = key_of(period);
        self.s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("text/html; charset=utf-8")
            .cache_control("no-store")
            .body(html.into_bytes().into())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "S3 PutObject {bucket}/{key}: {}",
                    crate::error::CallError::of(&e).message
                )
            })?;
        let valid_for = self.valid_for.min(MOST);
        let config = PresigningConfig::builder()
            .start_time(now.into())
            .expires_in(valid_for)
            .build()
            .map_err(|e| e.to_string())?;
        let presigned = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .presigned(config)
            .await
            .map_err(|e| format!("presigning {bucket}/{key}: {e}"))?;
        let expires = now + chrono::Duration::from_std(valid_for).unwrap_or_default();
        Ok(Some(Link {
            key,
            url: presigned.uri().to_string(),
            expires,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn alerts_about_the_months_spend_carry_the_link_in_text_and_payload() {
        assert!(wants_page("budget") && wants_page("digest") && wants_page("anomaly"));
        assert!(wants_page("month-close") && wants_page("commitment") && wants_page("escalation"));
        assert!(!wants_page("health") && !wants_page("test"));
        let owed = Owed {
            period: "2026-11".parse().unwrap(),
            key: "team#actual#80".into(),
            alert_id: "2026-11:team#actual#80".into(),
            kind: "budget".into(),
            budget: Some("team".into()),
            basis: Some("actual".into()),
            severity: "warning".into(),
            reason: "r".into(),
            report_key: None,
            topic: None,
            subject: "s".into(),
            text: "text\nAlert id: x\n".into(),
            payload: r#"{"type":"budget","alert_id":"x"}"#.into(),
            attributes: Vec::new(),
        };
        let link = Link {
            key: key_of(owed.period),
            url: "https://pages.example/pages/2026-11.html?X-Amz-Signature=abc".into(),
            expires: Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap(),
        };
        assert_eq!(link.key, "pages/2026-11.html");
        let sent = with_link(&owed, &link);
        assert!(sent.text.starts_with("text\nAlert id: x\n"));
        assert!(sent.text.contains(
            "The month on one page: https://pages.example/pages/2026-11.html?X-Amz-Signature=abc"
        ));
        assert!(sent
            .text
            .contains("it works until 2026-11-24 08:00 UTC at the latest"));
        let payload: serde_json::Value = serde_json::from_str(&sent.payload).unwrap();
        assert_eq!(payload["page_url"], link.url);
        assert_eq!(payload["alert_id"], "x");
        assert!(payload["page_url_expires"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-24T08:00:00"));
        assert_eq!((sent.key, sent.alert_id), (owed.key, owed.alert_id));
    }
}
