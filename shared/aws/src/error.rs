//! How an AWS call failed, kept structured: the service's error code (`ThrottlingException`,
//! `ConditionalCheckFailedException`, …) instead of a flattened debug string, and whether a
//! retry can help (decided in [`crate::retry`]).

// The smithy types every SDK crate shares, through the DynamoDB crate's re-exports.
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Whether a failure is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttling, timeouts, dropped connections, 5xx: the same call may succeed later.
    Transient,
    /// Bad input or configuration: the same call fails again.
    Permanent,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::Permanent => "permanent",
        }
    }
}

/// One failed SDK call, summarised: its code, its HTTP status, a one-line message, its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub code: Option<String>,
    pub status: Option<u16>,
    pub message: String,
    pub class: ErrorClass,
}

impl CallError {
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata,
    {
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().map(str::to_string);
                let status = Some(service.raw().status().as_u16());
                CallError {
                    message: one_line(e.message().unwrap_or("no message")),
                    class: crate::retry::class_of(code.as_deref(), status),
                    code,
                    status,
                }
            }
            SdkError::ResponseError(r) => CallError {
                code: None,
                status: Some(r.raw().status().as_u16()),
                message: "the response could not be read".into(),
                class: ErrorClass::Transient,
            },
            SdkError::TimeoutError(_) => CallError {
                code: None,
                status: None,
                message: "the request timed out".into(),
                class: ErrorClass::Transient,
            },
            SdkError::DispatchFailure(d) => CallError {
                code: None,
                status: None,
                message: if d.is_timeout() {
                    "the request timed out".into()
                } else if d.is_io() {
                    "the connection failed".into()
                } else {
                    "the request could not be sent".into()
                },
                class: ErrorClass::Transient,
            },
            _ => CallError {
                code: None,
                status: None,
                message: "the request could not be built".into(),
                class: ErrorClass::Permanent,
            },
        }
    }
}

impl CallError {
    /// Whether the service asked to slow down (see [`crate::retry::is_throttling`]).
    pub fn is_throttling(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(crate::retry::is_throttling)
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.code, self.status) {
            (Some(code), _) => write!(f, "{code}: {}", self.message),
            (None, Some(status)) => write!(f, "HTTP {status}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// The first line of a message, at most 300 characters: never a whole HTTP response.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().filter(|c| !c.is_control()).take(300).collect();
    if line.chars().count() > 300 {
        out.push('…');
    }
    out
}
