//! The statement balance rule as pure arithmetic: opening booked balance + booked credits −
//! booked debits = closing booked balance, and the `TxsSummry` counts and sums when the statement
//! states them. No XML here, so the validator can feed it from any source.

use std::fmt;

use rust_decimal::Decimal;

use super::{Balance, BalanceKind, CreditDebit, EntryStatus, TxsSummary};

/// Accumulates one statement's balances and entries; [`BalanceTally::finish`] gives the verdict.
#[derive(Clone, Debug, Default)]
pub struct BalanceTally {
    statement_id: String,
    opening: Option<(BalanceKind, Decimal)>,
    closing: Option<Decimal>,
    booked_credits: Decimal,
    booked_debits: Decimal,
    entries: u64,
    credit_entries: u64,
    debit_entries: u64,
    credit_sum: Decimal,
    debit_sum: Decimal,
    summary: Option<TxsSummary>,
}

/// The signed value of an amount: credits count up, debits down (a DBIT balance is negative).
pub fn signed(amount: Decimal, credit_debit: CreditDebit) -> Decimal {
    match credit_debit {
        CreditDebit::Credit => amount,
        CreditDebit::Debit => -amount,
    }
}

impl BalanceTally {
    /// A tally for the statement (or notification) with this `Id`.
    pub fn new(statement_id: impl Into<String>) -> BalanceTally {
        BalanceTally {
            statement_id: statement_id.into(),
            ..BalanceTally::default()
        }
    }

    /// Records a balance; OPBD is the opening balance, PRCD stands in for it when OPBD is absent,
    /// CLBD is the closing balance. Other kinds do not take part in the rule.
    pub fn balance(&mut self, balance: &Balance) {
        let value = signed(balance.amount, balance.credit_debit);
        match &balance.kind {
            BalanceKind::Opbd => self.opening = Some((BalanceKind::Opbd, value)),
            BalanceKind::Prcd if self.opening.is_none() => {
                self.opening = Some((BalanceKind::Prcd, value));
            }
            BalanceKind::Clbd => self.closing = Some(value),
            _ => {}
        }
    }

    /// Records an entry; only booked entries move the booked balance, every entry counts for
    /// the transaction summary.
    pub fn entry(&mut self, amount: Decimal, credit_debit: CreditDebit, status: &EntryStatus) {
        self.entries += 1;
        match credit_debit {
            CreditDebit::Credit => {
                self.credit_entries += 1;
                self.credit_sum += amount;
            }
            CreditDebit::Debit => {
                self.debit_entries += 1;
                self.debit_sum += amount;
            }
        }
        if *status == EntryStatus::Booked {
            match credit_debit {
                CreditDebit::Credit => self.booked_credits += amount,
                CreditDebit::Debit => self.booked_debits += amount,
            }
        }
    }

    /// Records the statement's `TxsSummry`.
    pub fn summary(&mut self, summary: TxsSummary) {
        self.summary = Some(summary);
    }

    /// Entries recorded so far.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// The verdict: every violation found, or why the balance rule could not be applied.
    pub fn finish(&self) -> BalanceCheck {
        let mut violations = Vec::new();
        let balance = match (self.opening.clone(), self.closing) {
            (Some((opening_kind, opening)), Some(closing)) => {
                let expected = opening + self.booked_credits - self.booked_debits;
                if expected != closing {
                    violations.push(Violation::ClosingBalance {
                        expected,
                        stated: closing,
                    });
                }
                BalanceRule::Checked {
                    opening_kind,
                    opening,
                    closing,
                }
            }
            (None, _) => BalanceRule::NotApplicable {
                missing: "OPBD or PRCD",
            },
            (Some(_), None) => BalanceRule::NotApplicable { missing: "CLBD" },
        };
        if let Some(s) = &self.summary {
            let mut count = |field: &'static str, stated: Option<u64>, counted: u64| {
                if let Some(stated) = stated.filter(|s| *s != counted) {
                    violations.push(Violation::SummaryCount {
                        field,
                        stated,
                        counted,
                    });
                }
            };
            count("TtlNtries/NbOfNtries", s.total_entries, self.entries);
            count(
                "TtlCdtNtries/NbOfNtries",
                s.credit_entries,
                self.credit_entries,
            );
            count(
                "TtlDbtNtries/NbOfNtries",
                s.debit_entries,
                self.debit_entries,
            );
            let mut sum = |field: &'static str, stated: Option<Decimal>, counted: Decimal| {
                if let Some(stated) = stated.filter(|s| *s != counted) {
                    violations.push(Violation::SummarySum {
                        field,
                        stated,
                        counted,
                    });
                }
            };
            sum(
                "TtlNtries/Sum",
                s.total_sum,
                self.credit_sum + self.debit_sum,
            );
            sum("TtlCdtNtries/Sum", s.credit_sum, self.credit_sum);
            sum("TtlDbtNtries/Sum", s.debit_sum, self.debit_sum);
            sum(
                "TtlNtries/TtlNetNtry",
                s.net,
                self.credit_sum - self.debit_sum,
            );
        }
        BalanceCheck {
            statement_id: self.statement_id.clone(),
            rule: balance,
            booked_credits: self.booked_credits,
            booked_debits: self.booked_debits,
            entries: self.entries,
            violations,
        }
    }
}

/// Whether the balance rule could be applied, and with which balances.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BalanceRule {
    /// Both balances were present (signed: a DBIT balance is negative).
    Checked {
        /// OPBD, or PRCD when the statement has no OPBD.
        opening_kind: BalanceKind,
        /// The opening booked balance.
        opening: Decimal,
        /// The closing booked balance (CLBD).
        closing: Decimal,
    },
    /// A balance the rule needs is absent (normal for a camt.054 notification).
    NotApplicable {
        /// Which balance is missing.
        missing: &'static str,
    },
}

/// The result of the balance rule and the transaction summary check for one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceCheck {
    /// The statement's `Id`.
    pub statement_id: String,
    /// Whether the balance rule applied.
    pub rule: BalanceRule,
    /// Sum of booked credit entries.
    pub booked_credits: Decimal,
    /// Sum of booked debit entries.
    pub booked_debits: Decimal,
    /// Entries in the statement, any status.
    pub entries: u64,
    /// Every violation found; empty when the statement is consistent.
    pub violations: Vec<Violation>,
}

impl BalanceCheck {
    /// No violation (a statement without balances passes: there is nothing to contradict).
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

impl fmt::Display for BalanceCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() {
            "balanced"
        } else {
            "NOT balanced"
        };
        write!(
            f,
            "statement {}: {verdict}, {} entries",
            self.statement_id, self.entries
        )?;
        match &self.rule {
            BalanceRule::Checked {
                opening_kind,
                opening,
                closing,
            } => write!(
                f,
                " ({opening_kind} {opening} + {} - {} vs CLBD {closing})",
                self.booked_credits, self.booked_debits
            )?,
            BalanceRule::NotApplicable { missing } => {
                write!(f, " (no {missing}: rule not applied)")?
            }
        }
        for v in &self.violations {
            write!(f, "; {v}")?;
        }
        Ok(())
    }
}

/// One way a statement contradicts itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// Opening + credits − debits differs from the closing booked balance (signed values).
    ClosingBalance {
        /// What the entries give.
        expected: Decimal,
        /// What the CLBD balance says.
        stated: Decimal,
    },
    /// A `TxsSummry` count differs from the entries.
    SummaryCount {
        /// The summary element, e.g. `TtlCdtNtries/NbOfNtries`.
        field: &'static str,
        /// The count stated.
        stated: u64,
        /// The entries counted.
        counted: u64,
    },
    /// A `TxsSummry` sum (or the net amount, signed) differs from the entries.
    SummarySum {
        /// The summary element.
        field: &'static str,
        /// The sum stated.
        stated: Decimal,
        /// The sum of the entries.
        counted: Decimal,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::ClosingBalance { expected, stated } => write!(
                f,
                "closing booked balance {stated} but opening + credits - debits = {expected}"
            ),
            Violation::SummaryCount {
                field,
                stated,
                counted,
            } => {
                write!(
                    f,
                    "TxsSummry/{field} says {stated} but {counted} entries counted"
                )
            }
            Violation::SummarySum {
                field,
                stated,
                counted,
            } => {
                write!(
                    f,
                    "TxsSummry/{field} says {stated} but the entries sum to {counted}"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn bal(kind: BalanceKind, minor: i64, cd: CreditDebit) -> Balance {
        Balance {
            kind,
            amount: Decimal::new(minor, 2),
            currency: None,
            credit_debit: cd,
            date: None,
        }
    }

    #[test]
    fn negative_opening_is_dbit() {
        let mut t = BalanceTally::new("S1");
        t.balance(&bal(BalanceKind::Opbd, 1000, CreditDebit::Debit)); // -10.00
        t.entry(
            Decimal::new(2500, 2),
            CreditDebit::Credit,
            &EntryStatus::Booked,
        );
        t.entry(
            Decimal::new(99, 2),
            CreditDebit::Debit,
            &EntryStatus::Pending,
        ); // not booked
        t.balance(&bal(BalanceKind::Clbd, 1500, CreditDebit::Credit)); // +15.00
        let check = t.finish();
        assert!(check.passed(), "{check}");
        assert_eq!(check.entries, 2);
    }

    #[test]
    fn wrong_sign_of_closing_is_a_violation() {
        let mut t = BalanceTally::new("S2");
        t.balance(&bal(BalanceKind::Opbd, 1815, CreditDebit::Credit));
        t.entry(
            Decimal::new(885, 2),
            CreditDebit::Credit,
            &EntryStatus::Booked,
        );
        t.balance(&bal(BalanceKind::Clbd, 2700, CreditDebit::Debit));
        let check = t.finish();
        assert_eq!(
            check.violations,
            vec![Violation::ClosingBalance {
                expected: Decimal::new(2700, 2),
                stated: Decimal::new(-2700, 2)
            }]
        );
    }

    #[test]
    fn prcd_stands_in_for_opbd_and_summary_is_checked() {
        let mut t = BalanceTally::new("S3");
        t.balance(&bal(BalanceKind::Prcd, 100, CreditDebit::Credit));
        t.entry(
            Decimal::new(50, 2),
            CreditDebit::Debit,
            &EntryStatus::Booked,
        );
        t.balance(&bal(BalanceKind::Clbd, 50, CreditDebit::Credit));
        t.summary(TxsSummary {
            total_entries: Some(2),
            debit_sum: Some(Decimal::new(50, 2)),
            ..TxsSummary::default()
        });
        let check = t.finish();
        assert_eq!(
            check.violations,
            vec![Violation::SummaryCount {
                field: "TtlNtries/NbOfNtries",
                stated: 2,
                counted: 1
            }]
        );
    }

    #[test]
    fn without_balances_the_rule_does_not_apply() {
        let mut t = BalanceTally::new("N1");
        t.entry(Decimal::ONE, CreditDebit::Credit, &EntryStatus::Booked);
        let check = t.finish();
        assert!(check.passed());
        assert_eq!(
            check.rule,
            BalanceRule::NotApplicable {
                missing: "OPBD or PRCD"
            }
        );
    }
}
