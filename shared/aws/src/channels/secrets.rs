//! A channel's webhook URL and signing key, read from where the budgets file says they are kept
//! (SSM Parameter Store, decrypted; or Secrets Manager) and kept for a few minutes, so a rotated
//! URL is picked up without a deployment and a burst of alerts reads each once.

use crate::error::{CallError, ErrorClass};
use billwatch_core::channel::SecretRef;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a value read is used before it is read again.
pub const KEEP: Duration = Duration::from_secs(300);

/// Why a value could not be read: the reference, the call and its error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {error}")]
pub struct SecretError {
    pub what: String,
    pub error: String,
    pub class: ErrorClass,
}

/// Reads and keeps the values of [`SecretRef`]s.
#[derive(Debug)]
pub struct Secrets {
    ssm: aws_sdk_ssm::Client,
    secrets: aws_sdk_secretsmanager::Client,
    kept: Mutex<HashMap<SecretRef, (Instant, String)>>,
}

/// How a reference is named in an error.
pub fn describe(r: &SecretRef) -> String {
    match r {
        SecretRef::Ssm(name) => format!("SSM parameter {name}"),
        SecretRef::Secret(name) => format!("Secrets Manager secret {name}"),
    }
}

impl Secrets {
    pub fn new(ssm: aws_sdk_ssm::Client, secrets: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            ssm,
            secrets,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The value `r` names (trimmed), read at most once per [`KEEP`].
    pub async fn value(&self, r: &SecretRef) -> Result<String, SecretError> {
        if let Some((at, v)) = self.kept.lock().map_err(poisoned)?.get(r) {
            if at.elapsed() < KEEP {
                return Ok(v.clone());
            }
        }
        let value = self.read(r).await?;
        self.kept
            .lock()
            .map_err(poisoned)?
            .insert(r.clone(), (Instant::now(), value.clone()));
        Ok(value)
    }

    async fn read(&self, r: &SecretRef) -> Result<String, SecretError> {
        let failed = |error: CallError| SecretError {
            what: describe(r),
            error: format!(
                "{}{}",
                error.code.map(|c| format!("{c}: ")).unwrap_or_default(),
                error.message
            ),
            class: error.class,
        };
        let text = match r {
            SecretRef::Ssm(name) => self
                .ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| failed(CallError::of(&e)))?
                .parameter
                .and_then(|p| p.value),
            SecretRef::Secret(name) => {
                self.secrets
                    .get_secret_value()
                    .secret_id(name)
                    .send()
                    .await
                    .map_err(|e| failed(CallError::of(&e)))?
                    .secret_string
            }
        };
        match text.map(|t| t.trim().to_string()) {
            Some(t) if !t.is_empty() => Ok(t),
            _ => Err(SecretError {
                what: describe(r),
                error: "it holds no text".into(),
                class: ErrorClass::Permanent,
            }),
        }
    }
}

fn poisoned<T>(_: T) -> SecretError {
    SecretError {
        what: "the secrets kept".into(),
        error: "a thread panicked while holding them".into(),
        class: ErrorClass::Transient,
    }
}
