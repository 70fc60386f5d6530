//! Failed AWS calls in plain words: a missing table (with "deployed? try --stack"), access
//! denied (naming the action), throttling, an unreachable endpoint. Anything else keeps the
//! service's code and one-line message.

use crate::error::CliError;
use billwatch_aws::error::CallError;

/// The IAM action AWS names in an access-denied message (`... not authorized to perform:
/// dynamodb:Query on resource: ...`).
fn denied_action(message: &str) -> Option<&str> {
    let rest = message.split("perform: ").nth(1)?;
    rest.split_whitespace().next()
}

const DENIED: [&str; 5] = [
    "AccessDeniedException",
    "AccessDenied",
    "AuthorizationError",
    "UnauthorizedOperation",
    "AuthorizationErrorException",
];
const BAD_CREDENTIALS: [&str; 4] = [
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "ExpiredToken",
];
/// `action` is the IAM action the call needed (`dynamodb:Query`); `resource` the table or
/// topic it was on.
pub fn explain(action: &str, error: &CallError, resource: Option<&str>) -> CliError {
    let on = resource.map(|r| format!(" on {r}")).unwrap_or_default();
    let code = error.code.as_deref().unwrap_or_default();
    if code == "ResourceNotFoundException" || code == "NotFound" {
        return CliError::NotDeployed(resource.unwrap_or("the resource").to_string());
    }
    let text = if DENIED.contains(&code) {
        let action = denied_action(&error.message).unwrap_or(action);
        format!("access denied: your credentials may not call {action}{on} (ask for that permission, or use another --profile)")
    } else if BAD_CREDENTIALS.contains(&code) {
        format!("AWS rejected the credentials ({code}): run `aws configure` or `aws sso login`, or pick another --profile")
    } else if error.is_throttling() {
        format!("throttled by AWS ({code}) calling {action}{on}: wait a moment and run it again")
    } else if error.code.is_none() && error.status.is_none() {
        format!("could not reach AWS for {action}{on}: {} (check the network, --region and --endpoint-url)", error.message)
    } else {
        format!("{action}{on} failed: {error}")
    };
    CliError::failed(text)
}

impl From<billwatch_aws::store::StoreError> for CliError {
    fn from(e: billwatch_aws::store::StoreError) -> Self {
        match &e {
            billwatch_aws::store::StoreError::Dynamo {
                operation,
                table,
                error,
            } => explain(&format!("dynamodb:{operation}"), error, Some(table)),
            _ => CliError::failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Connection;
    use billwatch_aws::error::ErrorClass;

    fn err(code: Option<&str>, message: &str) -> String {
        let e = CallError {
            code: code.map(str::to_string),
            status: code.map(|_| 400),
            message: message.into(),
            class: ErrorClass::Permanent,
        };
        let error = explain("dynamodb:Query", &e, Some("billwatch-totals"));
        assert!(
            !matches!(error, CliError::Input(_)),
            "an AWS failure is not bad input"
        );
        error.message(Some(&Connection {
            stack: "billwatch-prod".into(),
            region: "eu-west-1".into(),
        }))
    }

    #[test]
    fn each_common_failure_reads_plainly() {
        let m = err(
            Some("ResourceNotFoundException"),
            "Requested resource not found",
        );
        assert_eq!(
            m,
            "billwatch-totals not found in eu-west-1: is billwatch deployed there? try --stack NAME (now billwatch-prod) or --region"
        );
        let m = err(
            Some("AccessDeniedException"),
            "User: arn:aws:iam::1:user/x is not authorized to perform: dynamodb:Query on resource: arn:aws:dynamodb:eu-west-1:1:table/billwatch-totals because no identity-based policy allows it",
        );
        assert!(
            m.starts_with(
                "access denied: your credentials may not call dynamodb:Query on billwatch-totals"
            ),
            "{m}"
        );
        let m = err(Some("AccessDeniedException"), "no detail");
        assert!(m.contains("may not call dynamodb:Query"), "{m}");
        let m = err(Some("ProvisionedThroughputExceededException"), "slow down");
        assert!(m.starts_with("throttled by AWS"), "{m}");
        let m = err(Some("UnrecognizedClientException"), "bad token");
        assert!(m.contains("run `aws configure`"), "{m}");
        let m = err(None, "the connection failed");
        assert!(m.starts_with("could not reach AWS"), "{m}");
        let m = err(Some("ValidationException"), "bad key");
        assert_eq!(
            m,
            "dynamodb:Query on billwatch-totals failed: ValidationException: bad key"
        );
    }
}
