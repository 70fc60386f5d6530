//! The ingest function's CloudWatch metrics, written as Embedded Metric Format lines to standard
//! output (CloudWatch Logs turns them into metrics; no CloudWatch API call is made). What is
//! emitted, and its bounds, is `ingest`'s; the format is `emf`'s. docs/metrics.md lists them.
//!
//! Off unless a namespace is configured (`BILLWATCH_METRICS_NAMESPACE`, set by the template):
//! the CLI and tests that do not ask for metrics print none.

pub mod emf;
pub mod ingest;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Where metric lines go.
#[derive(Clone, Default)]
enum Sink {
    /// Standard output, one line each (Lambda sends it to CloudWatch Logs).
    #[default]
    Stdout,
    /// Kept in memory, for tests.
    Capture(Arc<Mutex<Vec<String>>>),
}

/// The metric emitter of one process: its namespace, where lines go, and the per-invocation
/// count of per-account lines (see [`ingest::MAX_ACCOUNT_LINES_PER_INVOCATION`]).
#[derive(Clone, Default)]
pub struct Metrics {
    namespace: Option<String>,
    sink: Sink,
    account_lines: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl Metrics {
    /// Lines to standard output in `namespace`; `None`: no metrics.
    pub fn stdout(namespace: Option<String>) -> Self {
        Self {
            namespace,
            ..Self::default()
        }
    }

    /// Lines kept in memory (read them with [`Metrics::captured`]).
    pub fn capture(namespace: &str) -> Self {
        Self {
            namespace: Some(namespace.to_string()),
            sink: Sink::Capture(Arc::default()),
            account_lines: Arc::default(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The lines emitted so far (only for [`Metrics::capture`]).
    pub fn captured(&self) -> Vec<String> {
        match &self.sink {
            Sink::Capture(lines) => lines.lock().expect("metrics lock").clone(),
            Sink::Stdout => Vec::new(),
        }
    }

    /// A new invocation: the per-invocation bounds start again.
    pub fn start_invocation(&self) {
        self.account_lines.store(0, Ordering::Relaxed);
    }

    /// Takes up to `wanted` of the invocation's per-account lines; returns how many are left to use.
    pub(crate) fn take_account_lines(&self, wanted: usize) -> usize {
        let mut granted = 0;
        let _ = self
            .account_lines
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                granted = wanted.min(ingest::MAX_ACCOUNT_LINES_PER_INVOCATION.saturating_sub(used));
                Some(used + granted)
            });
        granted
    }

    /// Writes each line; a line that cannot be built is logged and left out (metrics never fail
    /// an ingest).
    pub fn emit(&self, lines: impl IntoIterator<Item = emf::MetricLine>) {
        for line in lines {
            match line.render() {
                Ok(text) => match &self.sink {
                    Sink::Stdout => {
                        use std::io::Write;
                        let mut out = std::io::stdout().lock();
                        let _ = writeln!(out, "{text}");
                    }
                    Sink::Capture(lines) => lines.lock().expect("metrics lock").push(text),
                },
                Err(e) => tracing::warn!(error = %e, "metric line left out"),
            }
        }
    }
}
