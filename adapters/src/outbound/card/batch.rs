//! `card.batch_closed` → 0500 reconciliation request: DE 74–77 and 81 counts, DE 86–89 amounts
//! and DE 97 net with its sign. The wallet's net is checked against the totals first: a batch
//! whose totals and net disagree is refused, never sent.

use rust_decimal::Decimal;

use super::Builder;
use crate::event::card::BatchClosed;
use crate::money::{AmountField, numeric_code};

pub(super) fn build(b: &mut Builder<'_>, d: &BatchClosed) {
    b.mti("0500");
    b.trace();
    b.acquirer();
    b.digits(15, "data.settlement_date", &d.settlement_date, 4);
    let totals = [
        ("data.credits", &d.credits, 74u16, 86u16),
        ("data.credit_reversals", &d.credit_reversals, 75, 87),
        ("data.debits", &d.debits, 76, 88),
        ("data.debit_reversals", &d.debit_reversals, 77, 89),
    ];
    let mut minors = Vec::new();
    for (path, total, count_field, amount_field) in totals {
        b.amount_n(count_field, &format!("{path}.count"), total.count, 10);
        let field = AmountField {
            value: total.amount.clone(),
            currency: d.currency.clone(),
        };
        if let Some(money) = b.money(&format!("{path}.amount"), &field) {
            b.amount_n(amount_field, &format!("{path}.amount"), money.minor, 16);
            if let Some(code) = numeric_code(money.currency) {
                b.set(50, code);
            }
            minors.push(i128::from(money.minor));
        }
    }
    b.amount_n(81, "data.authorizations", d.authorizations, 10);
    if let [credits, credit_reversals, debits, debit_reversals] = minors.as_slice() {
        let net = (debits - debit_reversals) - (credits - credit_reversals);
        let sign = if net < 0 { 'D' } else { 'C' };
        let net_abs = net.unsigned_abs();
        let given = d.net.strip_prefix('-').unwrap_or(&d.net);
        let given_negative = d.net.starts_with('-');
        let field = AmountField {
            value: given.to_owned(),
            currency: d.currency.clone(),
        };
        if let Some(money) = b.money("data.net", &field) {
            let given_minor = i128::from(money.minor) * if given_negative { -1 } else { 1 };
            if given_minor != net {
                let exponent = u32::from(money.currency.exponent());
                b.refuse(
                    "data.net",
                    format!(
                        "{} disagrees with the totals, which net to {}",
                        d.net,
                        Decimal::from_i128_with_scale(net, exponent)
                    ),
                );
            } else if net_abs >= 10u128.pow(16) {
                b.refuse("data.net", "does not fit 16 digits".into());
            } else {
                b.set(97, format!("{sign}{net_abs:016}"));
            }
        }
    }
}
