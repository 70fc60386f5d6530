//! One HTTPS POST to a channel's webhook, bounded in time and in the answer read back.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The part of an answer's body kept (for the error a person reads).
const ANSWER_BYTES: usize = 16 * 1024;

/// What came back: a status, its `Retry-After`, the start of its body; or why nothing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Status {
        status: u16,
        retry_after: Option<String>,
        body: String,
    },
    /// No answer: the connection failed, was reset, or the answer took too long.
    Failed(String),
}

/// An HTTP/1.1 client over rustls with the system's roots (and plain http, which the caller
/// allows only to this machine).
#[derive(Clone)]
pub struct Http {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// How long one request may take, answer included.
    pub timeout: Duration,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Http {
    pub fn new(timeout: Duration) -> Self {
        let provider = || std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider())
            .unwrap_or_else(|_| {
                // No system roots (a bare container): https requests then fail, each named.
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(config_without_roots(provider()))
            })
            .https_or_http()
            .enable_http1()
            .build();
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Self { client, timeout }
    }

    /// POSTs `body` with `headers` to `url`.
    pub async fn post(&self, url: &str, headers: &[(String, String)], body: String) -> Reply {
        let mut request = hyper::Request::post(url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = match request.body(Full::new(Bytes::from(body))) {
            Ok(r) => r,
            Err(e) => return Reply::Failed(format!("the request could not be built: {e}")),
        };
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                if e.is_connect() {
                    format!("the connection failed: {}", source_text(&e))
                } else {
                    format!("the request failed: {}", source_text(&e))
                }
            })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            // The answer's body only as far as it is kept; a longer one is not an error.
            let body = match Limited::new(response.into_body(), ANSWER_BYTES)
                .collect()
                .await
            {
                Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
                Err(_) => String::new(),
            };
            Ok::<Reply, String>(Reply::Status {
                status,
                retry_after,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(why)) => Reply::Failed(why),
            Err(_) => Reply::Failed(format!("no answer within {} ms", self.timeout.as_millis())),
        }
    }
}

/// The deepest cause of an error, in one line (hyper's own is "client error (Connect)").
fn source_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    deepest.to_string()
}

fn config_without_roots(
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
) -> rustls::ClientConfig {
    match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(b) => b
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        Err(_) => unreachable!("the provider's default protocol versions are safe"),
    }
}
