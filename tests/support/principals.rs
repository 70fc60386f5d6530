//! The identities billwatch's own code runs as in the tests, so that the permissions check
//! (infra/iam/check_calls.py) can tell their calls from the tests' set-up.
//!
//! The emulator authorizes nothing. Every call signed with one of these access keys is recorded
//! by the emulator (infra/local/call_log.py) and later evaluated against the policy the template
//! (or docs/iam.md, for the CLI) gives that identity. The tests' own set-up and assertions sign
//! with the environment's key and are not recorded. The keys are listed again, with the policy
//! each stands for, in infra/iam/principals.json.

use aws_config::SdkConfig;
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

/// Who makes a call: the role or policy it is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// ReportIngestFunction, with ReportIngestRole.
    Ingest,
    /// HealthCheckFunction (health check and daily digest), with HealthCheckRole.
    Health,
    /// The `billwatch` CLI's queries, with the read-only CLI policy (docs/iam.md).
    CliReadOnly,
    /// The CLI's changes and live checks (`budgets put/rm/apply`, `alerts test`, `anomalies
    /// feedback`, `doctor`), with
    /// the operator policy (docs/iam.md).
    CliOperator,
}

impl Principal {
    pub fn access_key(self) -> &'static str {
        match self {
            Principal::Ingest => "BWPRINCIPALINGEST",
            Principal::Health => "BWPRINCIPALHEALTH",
            Principal::CliReadOnly => "BWPRINCIPALCLIREAD",
            Principal::CliOperator => "BWPRINCIPALCLIOPERATOR",
        }
    }

    /// The CLI principal a command line runs as: what changes something needs the operator's.
    pub fn for_cli(args: &[&str]) -> Principal {
        let mut words = args.iter().filter(|a| !a.starts_with('-'));
        while let Some(word) = words.next() {
            let operator = match *word {
                "budgets" => matches!(words.next(), Some(&"put" | &"rm" | &"apply")),
                "alerts" => words.next() == Some(&"test"),
                "anomalies" => words.next() == Some(&"feedback"),
                "doctor" => true,
                _ => continue,
            };
            return if operator {
                Principal::CliOperator
            } else {
                Principal::CliReadOnly
            };
        }
        Principal::CliReadOnly
    }

    /// `sdk` with this principal's credentials (same region and endpoint).
    pub fn sdk(self, sdk: &SdkConfig) -> SdkConfig {
        let credentials = Credentials::new(self.access_key(), "test", None, None, "billwatch");
        sdk.to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build()
    }

    /// The environment a `billwatch` subprocess runs as this principal with.
    pub fn env(self) -> [(&'static str, &'static str); 2] {
        [
            ("AWS_ACCESS_KEY_ID", self.access_key()),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ]
    }
}
