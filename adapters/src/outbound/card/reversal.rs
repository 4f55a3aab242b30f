//! `card.authorization_reversed` → 0400 reversal. DE 90 repeats the original MTI (0100), its
//! STAN, its DE 7 and the acquirer id, so the issuer finds the authorization it undoes; they
//! are derived again from the original event exactly as they were when it was sent.

use super::{Builder, original_trace};
use crate::event::card::AuthorizationReversed;

pub(super) fn build(b: &mut Builder<'_>, d: &AuthorizationReversed) {
    b.mti("0400");
    b.card(&d.card);
    b.set(3, "000000");
    b.amount(&d.amount);
    b.trace();
    b.acquirer();
    b.terminal(&d.terminal);
    if let Some((stan, transmitted)) = original_trace(
        b,
        "data.original",
        &d.original.event_id,
        &d.original.occurred_at,
    ) {
        let acquirer = b.acquirer_id_11();
        // forwarding institution: none, so eleven zeros
        b.set(90, format!("0100{stan}{transmitted}{acquirer}00000000000"));
    }
}
