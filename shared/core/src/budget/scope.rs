//! [`Scope`]: which spend a budget watches, and its text forms.

use super::Problem;
use std::fmt;

/// Which spend a budget watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every account of the payer.
    All,
    /// One account (12 digits).
    Account(String),
    /// One service (product code, e.g. `AmazonEC2`) in one account.
    AccountService { account: String, service: String },
    /// One service (product code) across every account.
    Service(String),
    /// A cost-allocation tag value. Its spend is the report's tag totals (the `user:*` and
    /// `resourceTags/user:*` columns, see `report::tags`), not the per-service totals, so it has
    /// no forecast.
    Tag { key: String, value: String },
}

impl Scope {
    /// Parses the text form of [`Scope::to_text`]: `all`, `account:<id>`,
    /// `account-service:<id>:<code>`, `service:<code>`, `tag:<key>=<value>`. The older stored
    /// form, a bare account id (and `""` or `*` for all), is read too.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if matches!(text, "" | "all" | "*") {
            return Ok(Scope::All);
        }
        if let Some(rest) = text.strip_prefix("account-service:") {
            return match rest.split_once(':') {
                Some((account, service)) => Ok(Scope::AccountService {
                    account: account.into(),
                    service: service.into(),
                }),
                None => Err(format!(
                    "scope '{text}': expected account-service:<account>:<service>"
                )),
            };
        }
        if let Some(account) = text.strip_prefix("account:") {
            return Ok(Scope::Account(account.into()));
        }
        if let Some(service) = text.strip_prefix("service:") {
            return Ok(Scope::Service(service.into()));
        }
        if let Some(tag) = text.strip_prefix("tag:") {
            return Scope::tag(tag).map_err(|e| format!("scope '{text}': {e}"));
        }
        if !text.contains(':') {
            return Ok(Scope::Account(text.into()));
        }
        Err(format!(
            "scope '{text}' is not one of all, account:<id>, account-service:<id>:<code>, \
             service:<code>, tag:<key>=<value>"
        ))
    }

    /// A tag scope from `KEY=VALUE` (split at the first `=`; the value may be empty).
    pub fn tag(text: &str) -> Result<Self, String> {
        match text.split_once('=') {
            Some((key, value)) => Ok(Scope::Tag {
                key: key.into(),
                value: value.into(),
            }),
            None => Err(format!("'{text}' is not KEY=VALUE")),
        }
    }

    /// The scope from the separate `account`, `service` and `tag` settings of the CLI and the
    /// TOML file (none of them: every account). Errors name the offending setting.
    pub fn from_parts(
        account: Option<String>,
        service: Option<String>,
        tag: Option<String>,
    ) -> Result<Self, Problem> {
        match (account, service, tag) {
            (None, None, None) => Ok(Scope::All),
            (Some(account), None, None) => Ok(Scope::Account(account)),
            (Some(account), Some(service), None) => Ok(Scope::AccountService { account, service }),
            (None, Some(service), None) => Ok(Scope::Service(service)),
            (None, None, Some(tag)) => Scope::tag(&tag).map_err(|e| Problem::new("tag", e)),
            (_, _, Some(_)) => Err(Problem::new(
                "tag",
                "cannot be combined with account or service",
            )),
        }
    }

    /// The stored text form (see [`Scope::parse`]).
    pub fn to_text(&self) -> String {
        match self {
            Scope::All => "all".into(),
            Scope::Account(a) => format!("account:{a}"),
            Scope::AccountService { account, service } => {
                format!("account-service:{account}:{service}")
            }
            Scope::Service(s) => format!("service:{s}"),
            Scope::Tag { key, value } => format!("tag:{key}={value}"),
        }
    }

    /// For people: "all accounts", "account 123456789012", "AmazonEC2 in account …", …
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "all accounts".into(),
            Scope::Account(a) => format!("account {a}"),
            Scope::AccountService { account, service } => format!("{service} in account {account}"),
            Scope::Service(s) => format!("{s} in all accounts"),
            Scope::Tag { key, value } => format!("tag {key}={value}"),
        }
    }

    /// The one account the scope is limited to, if any.
    pub fn account(&self) -> Option<&str> {
        match self {
            Scope::Account(a) | Scope::AccountService { account: a, .. } => Some(a),
            _ => None,
        }
    }

    /// The one service the scope is limited to, if any.
    pub fn service(&self) -> Option<&str> {
        match self {
            Scope::Service(s) | Scope::AccountService { service: s, .. } => Some(s),
            _ => None,
        }
    }

    /// Whether spend of this account and service (product code) is in the scope. A tag scope
    /// covers no per-service total: its spend comes from the report's tag columns (`spent`).
    pub fn covers(&self, account: &str, service: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Account(a) => a == account,
            Scope::AccountService {
                account: a,
                service: s,
            } => a == account && s == service,
            Scope::Service(s) => s == service,
            Scope::Tag { .. } => false,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::test_support::A;

    #[test]
    fn scopes_round_trip_through_their_text() {
        let scopes = [
            Scope::All,
            Scope::Account(A.into()),
            Scope::AccountService {
                account: A.into(),
                service: "AmazonEC2".into(),
            },
            Scope::Service("AWSSupportBusiness".into()),
            Scope::Tag {
                key: "user:team".into(),
                value: "a=b".into(),
            },
        ];
        for s in scopes {
            assert_eq!(Scope::parse(&s.to_text()), Ok(s.clone()), "{s}");
        }
        // The older stored form: a bare account id.
        assert_eq!(Scope::parse(A), Ok(Scope::Account(A.into())));
        assert_eq!(Scope::parse("*"), Ok(Scope::All));
        assert!(Scope::parse("region:us-east-1").is_err());
        assert!(Scope::parse("tag:team").is_err());
        assert_eq!(
            Scope::from_parts(Some(A.into()), Some("AmazonS3".into()), None),
            Ok(Scope::AccountService {
                account: A.into(),
                service: "AmazonS3".into()
            })
        );
        assert_eq!(
            Scope::from_parts(Some(A.into()), None, Some("team=data".into()))
                .unwrap_err()
                .field,
            "tag"
        );
    }
}
