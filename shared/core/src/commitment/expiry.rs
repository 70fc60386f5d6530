//! Which commitments are near their end: for each lead time (`days = [60, 30, 7]`), a warning
//! once per commitment and lead time, however many deliveries see it.
//!
//! [`due`] says, for the commitments of a report and the day it is read, which lead times each
//! has reached. A delivery that first sees a commitment 20 days before its end has reached both
//! 60 and 30: one warning is due (the tightest, 30 days) and both lead times are claimed, so the
//! 60-day warning never follows the 30-day one. A commitment already ended, or whose end date
//! cannot be read, warns of nothing (the second is said, [`Due::unreadable`]).

use super::figures::{Commitment, CommitmentKind};
use crate::timestamp::Timestamp;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A warning due for one commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub id: String,
    pub kind: CommitmentKind,
    pub end: NaiveDate,
    /// Whole days from `today` to the end date (0: it ends today).
    pub days_left: i64,
    /// The tightest lead time reached: the one the warning names.
    pub lead: u32,
    /// Every lead time reached, `lead` among them: each is claimed once the warning is sent.
    pub claims: Vec<u32>,
    /// What the commitment bills in the period so far (its fees), for "its monthly value".
    pub fee: Decimal,
}

impl Warning {
    /// The claim key of one lead time of one commitment (once per commitment and lead time).
    pub fn claim_key(id: &str, lead: u32) -> String {
        format!("expiry#{id}#{lead}")
    }
}

/// What [`due`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Due {
    pub warnings: Vec<Warning>,
    /// Commitments whose end date is not a date: (id, the text).
    pub unreadable: Vec<(String, String)>,
}

/// The warnings due on `today` for `commitments`, with the lead times `leads` (days before the
/// end; any order, duplicates ignored). `claimed(id, lead)` says whether that warning was
/// already sent: a lead time claimed before is neither warned of nor claimed again.
pub fn due(
    commitments: &[Commitment],
    today: NaiveDate,
    leads: &[u32],
    claimed: impl Fn(&str, u32) -> bool,
) -> Due {
    let mut leads = leads.to_vec();
    leads.sort_unstable();
    leads.dedup();
    let mut out = Due::default();
    for c in commitments {
        if c.end.is_empty() {
            continue;
        }
        let end = match Timestamp::parse_report(c.end.as_bytes()) {
            Ok(t) => t.utc().date_naive(),
            Err(_) => {
                out.unreadable.push((c.id.clone(), c.end.clone()));
                continue;
            }
        };
        let days_left = (end - today).num_days();
        if days_left < 0 {
            continue;
        }
        let claims: Vec<u32> = leads
            .iter()
            .copied()
            .filter(|&lead| days_left <= i64::from(lead) && !claimed(&c.id, lead))
            .collect();
        let Some(&lead) = claims.first() else {
            continue;
        };
        out.warnings.push(Warning {
            id: c.id.clone(),
            kind: c.kind,
            end,
            days_left,
            lead,
            claims,
            fee: c.fee,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    fn commitment(id: &str, end: &str) -> Commitment {
        Commitment {
            id: id.into(),
            kind: CommitmentKind::Reservation,
            account: "111111111111".into(),
            offering: "AmazonEC2".into(),
            term: String::new(),
            payment_option: String::new(),
            start: String::new(),
            end: end.into(),
            committed: Decimal::ZERO,
            used: Decimal::ZERO,
            unused_cost: Decimal::ZERO,
            fee: Decimal::new(6120, 2),
            normalized: false,
            region: String::new(),
            days: Default::default(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn each_lead_time_warns_once_across_many_deliveries() {
        let all = [
            commitment("ri-1", "2026-12-20T00:00:00Z"),
            commitment("sp-1", "2027-06-01T00:00:00Z"),
        ];
        let claimed = RefCell::new(BTreeSet::new());
        let mut sent = Vec::new();
        // A delivery every day from 70 days before ri-1's end to after it.
        let mut today = day("2026-10-11");
        while today <= day("2026-12-25") {
            let d = due(&all, today, &[60, 30, 7], |id, lead| {
                claimed.borrow().contains(&(id.to_string(), lead))
            });
            for w in d.warnings {
                sent.push((w.id.clone(), w.lead, w.days_left));
                for lead in w.claims {
                    claimed.borrow_mut().insert((w.id.clone(), lead));
                }
            }
            today = today.succ_opt().unwrap();
        }
        assert_eq!(
            sent,
            vec![
                ("ri-1".to_string(), 60, 60),
                ("ri-1".to_string(), 30, 30),
                ("ri-1".to_string(), 7, 7),
            ]
        );
    }

    #[test]
    fn a_first_sight_inside_several_lead_times_warns_once_at_the_tightest() {
        let d = due(
            &[commitment("ri-1", "2026-12-20 00:00:00")],
            day("2026-12-01"),
            &[7, 60, 30, 30],
            |_, _| false,
        );
        assert_eq!(d.warnings.len(), 1);
        let w = &d.warnings[0];
        assert_eq!((w.lead, w.days_left, w.end), (30, 19, day("2026-12-20")));
        assert_eq!(w.claims, vec![30, 60]);
        assert_eq!(w.fee, Decimal::new(6120, 2));
        assert_eq!(Warning::claim_key("ri-1", 30), "expiry#ri-1#30");
    }

    #[test]
    fn ended_far_or_undated_commitments_warn_of_nothing_and_a_bad_date_is_said() {
        let d = due(
            &[
                commitment("ended", "2026-11-30T00:00:00Z"),
                commitment("far", "2028-01-01T00:00:00Z"),
                commitment("undated", ""),
                commitment("bad", "next spring"),
            ],
            day("2026-12-01"),
            &[60, 30, 7],
            |_, _| false,
        );
        assert!(d.warnings.is_empty());
        assert_eq!(
            d.unreadable,
            vec![("bad".to_string(), "next spring".to_string())]
        );
    }

    #[test]
    fn ending_today_is_still_warned_of() {
        let d = due(
            &[commitment("ri-1", "2026-12-01T23:59:59Z")],
            day("2026-12-01"),
            &[7],
            |_, _| false,
        );
        assert_eq!(d.warnings[0].days_left, 0);
    }
}
