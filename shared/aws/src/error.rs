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
                    class: class_of(code.as_deref(), status),
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
    /// Whether the service asked to slow down (see [`is_throttling`]).
    pub fn is_throttling(&self) -> bool {
        self.code.as_deref().is_some_and(is_throttling)
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

/// Error codes AWS services use for "slow down".
const THROTTLING_CODES: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
];

/// Error codes AWS services use for "try again" that are not throttling.
const RETRY_CODES: [&str; 4] = [
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "TransactionConflictException",
];

/// Whether a service's error code asks the caller to slow down.
pub fn is_throttling(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// Whether a service's answer (its error code and HTTP status) is worth retrying: throttling,
/// a "try again" code, any 5xx or a 429.
pub fn class_of(code: Option<&str>, status: Option<u16>) -> ErrorClass {
    let transient = code.is_some_and(|c| is_throttling(c) || RETRY_CODES.contains(&c))
        || status.is_some_and(|s| s >= 500 || s == 429);
    if transient {
        ErrorClass::Transient
    } else {
        ErrorClass::Permanent
    }
}

/// Something that failed and knows whether a retry can help.
pub trait Classified: std::fmt::Display {
    fn class(&self) -> ErrorClass;
}

impl Classified for CallError {
    fn class(&self) -> ErrorClass {
        self.class
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_transient_the_rest_permanent() {
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "SlowDown",
        ] {
            assert!(is_throttling(code), "{code}");
            assert_eq!(class_of(Some(code), Some(400)), ErrorClass::Transient);
        }
        assert!(!is_throttling("InternalServerError"));
        assert_eq!(
            class_of(Some("InternalServerError"), Some(500)),
            ErrorClass::Transient
        );
        assert_eq!(class_of(None, Some(503)), ErrorClass::Transient);
        assert_eq!(class_of(None, Some(429)), ErrorClass::Transient);
        for code in [
            "ValidationException",
            "AccessDeniedException",
            "ConditionalCheckFailedException",
        ] {
            assert!(!is_throttling(code), "{code}");
            assert_eq!(class_of(Some(code), Some(400)), ErrorClass::Permanent);
        }
    }
}
