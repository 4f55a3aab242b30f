//! `card.authorization_requested` → 0100 authorization request, chip data in DE 55.

use super::Builder;
use crate::event::card::AuthorizationRequested;

pub(super) fn build(b: &mut Builder<'_>, d: &AuthorizationRequested) {
    b.mti("0100");
    b.card(&d.card);
    b.set(3, "000000"); // goods and services, default accounts
    b.amount(&d.amount);
    b.trace();
    b.acquirer();
    b.terminal(&d.terminal);
    b.chip(&d.emv);
}
