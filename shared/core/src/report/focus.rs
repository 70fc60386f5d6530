//! FOCUS 1.x exports: `BilledCost` summed over every row, keyed by `SubAccountId`, the AWS
//! extension `x_ServiceCode` (else `ServiceName`) and `BillingCurrency`.
//!
//! Daily usage: every `charges` row (ChargeCategory Usage, or unknown) is also booked on the day
//! of its `ChargePeriodStart` ([`day_of`]).

use super::budget_rows::{BudgetRows, Flavor};
use super::error::{ErrorKind, RowError};
use super::focus_commitments::FocusCommitmentRows;
use super::header::{field, present, Col, Header};
use super::record::Record;
use super::tally::{strict, Finished, Latest, Rows, Tally};
use crate::budget::spec::Specs;
use crate::ledger::Part;
use crate::period::Period;
use crate::timestamp::Timestamp;

const PARTS: &[Part] = &[
    Part::Charges,
    Part::Fees,
    Part::Credits,
    Part::Adjustments,
    Part::Tax,
];

struct Cols {
    cost: Col,
    account: Col,
    billing_account: Option<Col>,
    service_code: Option<Col>,
    service_name: Col,
    currency: Col,
    category: Option<Col>,
    period_start: Option<Col>,
    charge_start: Option<Col>,
    charge_end: Option<Col>,
    invoice: Option<Col>,
    provider: Option<Col>,
}

/// How many distinct `ProviderName`s a period keeps (for the warning); more are counted.
const PROVIDERS_NAMED: usize = 8;

/// The running state of one billing period.
#[derive(Default)]
struct PeriodState {
    tally: Tally,
    /// The latest end of any usage row, for reports without one-day rows.
    latest_any: Latest,
    /// The distinct `ProviderName`s seen, in order (at most [`PROVIDERS_NAMED`]), and whether
    /// there were more.
    providers: Vec<String>,
    more_providers: bool,
    /// The period's commitments, when a commitment budget asks.
    commitments: Option<FocusCommitmentRows>,
}

impl PeriodState {
    fn with_budgets(budgets: BudgetRows) -> Self {
        Self {
            tally: Tally {
                budgets,
                ..Tally::default()
            },
            ..Self::default()
        }
    }

    /// Notes a row's provider; allocates only for a provider not seen before.
    fn see_provider(&mut self, raw: &[u8]) {
        if !present(raw) || self.providers.iter().any(|p| p.as_bytes() == raw) {
            return;
        }
        if self.providers.len() < PROVIDERS_NAMED {
            self.providers.push(crate::ledger::key_text(raw));
        } else {
            self.more_providers = true;
        }
    }

    /// A FOCUS file may hold several clouds' charges (AWS, Azure, Oracle, ...): they are summed
    /// under one payer (the first BillingAccountId), so say so, naming them.
    fn providers_warning(&self) -> Option<String> {
        if self.providers.len() < 2 {
            return None;
        }
        Some(format!(
            "rows of {} providers ({}{}) are summed together under one payer; summarize each \
             provider's export apart to see them apart",
            if self.more_providers {
                "more than 8"
            } else {
                "several"
            },
            self.providers.join(", "),
            if self.more_providers { ", ..." } else { "" }
        ))
    }
}

/// FOCUS rows. A FOCUS dataset may span billing periods: with `multi_period` each period gets
/// its own totals (rows are attributed by `BillingPeriodStart`; a row without one goes with the
/// period of the row before it, or with the first period named); without it a second period is
/// an error, as for every other format.
pub struct Focus {
    multi_period: bool,
    cols: Option<Cols>,
    /// One state per period, in the order the periods first appear.
    periods: Vec<PeriodState>,
    current: usize,
    /// The raw `BillingPeriodStart` of the current period's last row (compared as bytes).
    current_raw: Vec<u8>,
    /// The budgets' state bound to the last header, that a new period starts from.
    budgets: BudgetRows,
    /// The commitments' state bound to the last header, when asked (likewise).
    commitments: Option<FocusCommitmentRows>,
}

impl Focus {
    pub fn new(multi_period: bool, specs: &Specs) -> Self {
        let budgets = BudgetRows::new(specs);
        Self {
            multi_period,
            cols: None,
            periods: vec![PeriodState::with_budgets(budgets.fork())],
            current: 0,
            current_raw: Vec::new(),
            budgets,
            commitments: None,
        }
    }

    /// This reader, also reading the commitments of each period when `asked`.
    pub fn asking_commitments(mut self, asked: bool) -> Self {
        if asked {
            self.commitments = Some(FocusCommitmentRows::default());
            for state in &mut self.periods {
                state.commitments = Some(FocusCommitmentRows::default());
            }
        }
        self
    }

    /// The state a row belongs to. Allocation-free unless the row starts a new period.
    fn select(&mut self, col: Col, r: &Record<'_>) -> Result<usize, RowError> {
        let raw = col.get(r);
        if !self.multi_period || !present(raw) || raw == self.current_raw.as_slice() {
            return Ok(self.current);
        }
        let Some(found) = Timestamp::parse_report(raw).ok().map(|t| t.period()) else {
            // The tracker below names the invalid date.
            return Ok(self.current);
        };
        let of = |s: &PeriodState| s.tally.period.period();
        let idx = match self.periods.iter().position(|s| of(s) == Some(found)) {
            Some(i) => i,
            None => match self.periods.iter().position(|s| of(s).is_none()) {
                Some(i) => i,
                None => {
                    let budgets = self.budgets.fork();
                    let mut state = PeriodState::with_budgets(budgets);
                    state.commitments = self
                        .commitments
                        .as_ref()
                        .map(FocusCommitmentRows::fork_rows);
                    self.periods.push(state);
                    self.periods.len() - 1
                }
            },
        };
        self.current = idx;
        self.current_raw.clear();
        self.current_raw.extend_from_slice(raw);
        Ok(idx)
    }
}

pub(super) fn part_of(category: &[u8]) -> (Part, bool) {
    if category.eq_ignore_ascii_case(b"Usage") {
        (Part::Charges, true)
    } else if category.eq_ignore_ascii_case(b"Purchase") {
        (Part::Fees, false)
    } else if category.eq_ignore_ascii_case(b"Tax") {
        (Part::Tax, false)
    } else if category.eq_ignore_ascii_case(b"Credit") {
        (Part::Credits, false)
    } else if category.eq_ignore_ascii_case(b"Adjustment") {
        (Part::Adjustments, false)
    } else {
        (Part::Charges, false)
    }
}

impl Rows for Focus {
    fn bind(&mut self, h: &Header) -> Result<Vec<Col>, RowError> {
        let cols = Cols {
            cost: h.required("BilledCost")?,
            account: h.required("SubAccountId")?,
            billing_account: h.optional("BillingAccountId")?,
            service_code: h.optional("x_ServiceCode")?,
            service_name: h.required("ServiceName")?,
            currency: h.required("BillingCurrency")?,
            category: h.optional("ChargeCategory")?,
            period_start: h.optional("BillingPeriodStart")?,
            charge_start: h.optional("ChargePeriodStart")?,
            charge_end: h.optional("ChargePeriodEnd")?,
            invoice: h.optional("InvoiceId")?,
            provider: h.optional("ProviderName")?,
        };
        self.budgets.bind(h, Flavor::Focus)?;
        if let Some(c) = &mut self.commitments {
            c.bind(h)?;
        }
        for state in &mut self.periods {
            state.tally.budgets.bind(h, Flavor::Focus)?;
            if let Some(c) = &mut state.commitments {
                c.bind(h)?;
            }
        }
        let keys = strict(&[
            Some(cols.cost),
            Some(cols.account),
            cols.billing_account,
            cols.service_code,
            Some(cols.service_name),
            Some(cols.currency),
            cols.category,
            cols.period_start,
            cols.charge_start,
            cols.charge_end,
            cols.invoice,
            cols.provider,
        ]);
        self.cols = Some(cols);
        Ok(keys)
    }

    fn row(&mut self, r: &Record<'_>) -> Result<(), RowError> {
        let c = self.cols.as_ref().expect("bind runs before rows");
        let period_start = c.period_start;
        let idx = match period_start {
            Some(col) => self.select(col, r)?,
            None => self.current,
        };
        let c = self.cols.as_ref().expect("bind runs before rows");
        let state = &mut self.periods[idx];
        let t = &mut state.tally;
        let cost = c.cost.amount(r)?;
        let category = field(c.category, r);
        let (part, usage) = part_of(category);
        if c.category.is_some()
            && !matches!(
                category,
                b"Usage" | b"Purchase" | b"Tax" | b"Credit" | b"Adjustment"
            )
        {
            t.skipped.unknown(category);
        }
        let mut account = c.account.get(r);
        if !present(account) {
            account = field(c.billing_account, r);
        }
        let name = c.service_name.get(r);
        let code = match field(c.service_code, r) {
            code if present(code) => code,
            _ => name,
        };
        let year_month = match period_start {
            Some(col) => t.period.see(col, r)?,
            None => None,
        };
        let currency = c.currency.currency(r)?;
        let span = c
            .charge_start
            .filter(|_| part == Part::Charges)
            .map(|start| (start.get(r), field(c.charge_end, r)));
        let key = (account, code, currency);
        let booked = t.book(key, part, cost, span, year_month, c.cost.name)?;
        t.budgets.row(r, cost, currency, booked)?;
        let one_day = booked.map_or(c.charge_start.is_none(), |day| day != 0);
        t.rows_summed += 1;
        if t.ledger.needs_service_name(code) {
            t.ledger.set_service_name(code, name, r.pos());
        }
        t.see_payer(field(c.billing_account, r), r.pos());
        if c.invoice.is_none_or(|col| !present(col.get(r))) {
            t.estimated = true;
        }
        if usage {
            t.see_usage_end(field(c.charge_end, r), one_day, &mut state.latest_any);
        }
        state.see_provider(field(c.provider, r));
        if let Some(commitments) = &mut state.commitments {
            commitments.row(r)?;
        }
        Ok(())
    }

    fn keys(&self) -> usize {
        self.periods.iter().map(|p| p.tally.ledger.len()).sum()
    }

    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }

    fn finish(self: Box<Self>) -> Result<Vec<Finished>, ErrorKind> {
        let mut out: Vec<(Option<Period>, Finished)> = self
            .periods
            .into_iter()
            .map(|state| {
                let providers = state.providers_warning();
                let mut finished = state.tally.finish_usage(
                    Vec::new(),
                    PARTS,
                    &state.latest_any,
                    "ChargeCategory",
                    &|kind| format!("summed as {}", part_of(kind).0.name()),
                )?;
                finished.warnings.extend(providers);
                finished.commitments = state.commitments.map(FocusCommitmentRows::summary);
                Ok((finished.period, finished))
            })
            .collect::<Result<_, ErrorKind>>()?;
        out.sort_by_key(|(p, _)| *p);
        Ok(out.into_iter().map(|(_, f)| f).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_categories_map_to_parts_case_insensitively() {
        assert_eq!(part_of(b"usage"), (Part::Charges, true));
        assert_eq!(part_of(b"Purchase"), (Part::Fees, false));
        assert_eq!(part_of(b"TAX"), (Part::Tax, false));
        assert_eq!(part_of(b"Credit"), (Part::Credits, false));
        assert_eq!(part_of(b"Adjustment"), (Part::Adjustments, false));
    }

    #[test]
    fn several_providers_are_named_in_a_warning() {
        let mut s = PeriodState::default();
        for p in [&b"AWS"[..], b"AWS", b"", b"Microsoft", b"Oracle", b"AWS"] {
            s.see_provider(p);
        }
        assert_eq!(
            s.providers_warning().unwrap(),
            "rows of several providers (AWS, Microsoft, Oracle) are summed together under one \
             payer; summarize each provider's export apart to see them apart"
        );
        let mut one = PeriodState::default();
        one.see_provider(b"AWS");
        one.see_provider(b"AWS");
        assert_eq!(one.providers_warning(), None);
    }
}
