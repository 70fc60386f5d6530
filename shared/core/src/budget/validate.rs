//! [`Budget::validate`]: every problem with a budget's fields, each with the field it is in.

use super::{Basis, Budget, Level, Problem, Scope};
use rust_decimal::Decimal;

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn check_service(field: &str, service: &str, problems: &mut Vec<Problem>) {
    if service.is_empty() {
        problems.push(Problem::new(field, "must not be empty"));
    } else if service.trim() != service || service.chars().any(char::is_control) {
        problems.push(Problem::new(
            field,
            format!("'{service}' is not a product code like AmazonEC2"),
        ));
    }
}

impl Budget {
    /// Checks every field; returns every problem found, not just the first.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        self.check_name(&mut problems);
        self.check_amount_and_currency(&mut problems);
        self.check_scope(&mut problems);
        self.check_thresholds(&mut problems);
        self.check_escalation_step(&mut problems);
        self.check_topic_arn(&mut problems);
        self.check_model(&mut problems);
        self.check_channels(&mut problems);
        if self.digest && self.watch().is_none() && !crate::digest::supported(self) {
            problems.push(Problem::new(
                "digest",
                "a tag budget has no daily series, so no digest: use an account or service scope",
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    fn check_channels(&self, problems: &mut Vec<Problem>) {
        for (i, c) in self.channels.iter().enumerate() {
            let ok = !c.is_empty()
                && c.len() <= 64
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
            if !ok {
                problems.push(Problem::new(
                    "channels",
                    format!("'{c}' is not a channel name (1-64 letters, digits, '.', '_' or '-')"),
                ));
            } else if self.channels[..i].contains(c) {
                problems.push(Problem::new("channels", format!("'{c}' is named twice")));
            }
        }
    }

    fn check_name(&self, problems: &mut Vec<Problem>) {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 100
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            problems.push(Problem::new(
                "name",
                format!(
                    "'{}' is not 1-100 letters, digits, '-', '_' or '.'",
                    self.name
                ),
            ));
        }
    }

    fn check_amount_and_currency(&self, problems: &mut Vec<Problem>) {
        if self.model.auto.is_none() && self.amount <= Decimal::ZERO {
            problems.push(Problem::new(
                "amount",
                format!("must be greater than zero, got {}", self.amount.normalize()),
            ));
        }
        let currency_ok =
            self.currency.len() == 3 && self.currency.chars().all(|c| c.is_ascii_uppercase());
        if self.model.unit.is_none() && !currency_ok {
            problems.push(Problem::new(
                "currency",
                format!(
                    "'{}' is not a 3-letter ISO 4217 code like USD",
                    self.currency
                ),
            ));
        }
    }

    fn check_scope(&self, problems: &mut Vec<Problem>) {
        match &self.scope {
            Scope::All => {}
            Scope::Account(a) | Scope::AccountService { account: a, .. } if !is_account_id(a) => {
                problems.push(Problem::new(
                    "account",
                    format!("'{a}' is not a 12-digit account id"),
                ));
            }
            _ => {}
        }
        if let Some(service) = self.scope.service() {
            check_service("service", service, problems);
        }
        if let Scope::Tag { key, value } = &self.scope {
            if key.is_empty() {
                problems.push(Problem::new("tag", "the tag key must not be empty"));
            }
            if key.chars().chain(value.chars()).any(char::is_control) {
                problems.push(Problem::new("tag", "must not contain control characters"));
            }
        }
    }

    fn check_thresholds(&self, problems: &mut Vec<Problem>) {
        let expiry = matches!(self.watch(), Some(crate::commitment::Watch::Expiry { .. }));
        if self.thresholds.is_empty() && !expiry {
            problems.push(Problem::new("thresholds", "needs at least one threshold"));
        }
        let mut seen: Vec<(Basis, Decimal, usize)> = Vec::new();
        for (i, t) in self.thresholds.iter().enumerate() {
            let field = format!("thresholds #{}", i + 1);
            let (kind, value) = match t.level {
                Level::Percent(p) => ("percent", p),
                Level::Absolute(a) => ("amount", a),
            };
            if value <= Decimal::ZERO {
                problems.push(Problem::new(
                    field,
                    format!(
                        "{kind} must be greater than zero, got {}",
                        value.normalize()
                    ),
                ));
                continue;
            }
            let Some(percent) = t.level_percent(self.amount) else {
                continue;
            };
            match seen.iter().find(|(b, p, _)| *b == t.basis && *p == percent) {
                Some((_, _, first)) => problems.push(Problem::new(
                    field,
                    format!(
                        "the same level as thresholds #{first} ({}% of the amount, {})",
                        percent, t.basis
                    ),
                )),
                None => seen.push((t.basis, percent, i + 1)),
            }
        }
    }

    fn check_escalation_step(&self, problems: &mut Vec<Problem>) {
        if let Some(step) = self.escalation_step {
            if step <= Decimal::ZERO {
                problems.push(Problem::new(
                    "escalation_step",
                    format!(
                        "must be a percentage greater than zero, got {}",
                        step.normalize()
                    ),
                ));
            }
        }
    }

    fn check_topic_arn(&self, problems: &mut Vec<Problem>) {
        if let Some(arn) = &self.topic_arn {
            let parts: Vec<&str> = arn.split(':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && !parts[1].is_empty()
                && parts[2] == "sns"
                && !parts[3].is_empty()
                && is_account_id(parts[4])
                && !parts[5].is_empty();
            if !ok {
                problems.push(Problem::new(
                    "topic_arn",
                    format!(
                        "'{arn}' is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::budget::test_support::{abs, budget, d, pct, A};
    use crate::budget::{Basis, Budget, Scope};

    #[test]
    fn validation_lists_every_problem_with_its_field() {
        let good = Budget {
            escalation_step: Some(d("20")),
            topic_arn: Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
            ..budget(Scope::Account(A.into()), "100", &[pct("80"), abs("90")])
        };
        assert_eq!(good.validate(), Ok(()));
        let bad = Budget {
            name: "a b".into(),
            scope: Scope::AccountService {
                account: "123".into(),
                service: "".into(),
            },
            amount: d("-5"),
            currency: "usd".into(),
            thresholds: vec![pct("0"), pct("80"), pct("80"), abs("-1")],
            escalation_step: Some(d("0")),
            topic_arn: Some("arn:aws:sqs:us-east-1:123456789012:q".into()),
            digest: false,
            channels: Vec::new(),
            digest_every: Default::default(),
            model: Default::default(),
        };
        let problems: Vec<String> = bad
            .validate()
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            problems,
            [
                "name: 'a b' is not 1-100 letters, digits, '-', '_' or '.'",
                "amount: must be greater than zero, got -5",
                "currency: 'usd' is not a 3-letter ISO 4217 code like USD",
                "account: '123' is not a 12-digit account id",
                "service: must not be empty",
                "thresholds #1: percent must be greater than zero, got 0",
                "thresholds #3: the same level as thresholds #2 (80% of the amount, actual)",
                "thresholds #4: amount must be greater than zero, got -1",
                "escalation_step: must be a percentage greater than zero, got 0",
                "topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q' is not an SNS topic ARN \
                 (arn:aws:sns:<region>:<account>:<name>)",
            ]
        );
        let dup = budget(Scope::All, "1000", &[pct("25"), abs("250")]);
        assert_eq!(
            dup.validate().unwrap_err()[0].to_string(),
            "thresholds #2: the same level as thresholds #1 (25% of the amount, actual)"
        );
        // The same level on the other basis is a different threshold.
        let both = budget(
            Scope::All,
            "1000",
            &[pct("25"), pct("25").on(Basis::Forecast)],
        );
        assert_eq!(both.validate(), Ok(()));
        let empty = budget(Scope::All, "10", &[]);
        assert_eq!(
            empty.validate().unwrap_err()[0].to_string(),
            "thresholds: needs at least one threshold"
        );
        let tag = budget(
            Scope::Tag {
                key: "".into(),
                value: "x".into(),
            },
            "10",
            &[pct("1")],
        );
        assert_eq!(
            tag.validate().unwrap_err()[0].to_string(),
            "tag: the tag key must not be empty"
        );
    }
}
