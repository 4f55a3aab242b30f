//! `card.capture` and `card.refund` → 0220 financial advice (dual-message acquirer: the money
//! was authorized by an earlier 0100) or 0200 financial request (single-message acquirer).
//! A refund is the same message with processing code 20 (credit to the card).

use super::{Builder, original_trace};
use crate::event::card::{Capture, Refund};
use crate::profile::MessageMode;

fn mti(b: &mut Builder<'_>) {
    match b.mode() {
        MessageMode::Dual => b.mti("0220"),
        MessageMode::Single => b.mti("0200"),
    }
}

pub(super) fn capture(b: &mut Builder<'_>, d: &Capture) {
    mti(b);
    b.card(&d.card);
    b.set(3, "000000");
    b.amount(&d.amount);
    b.trace();
    b.acquirer();
    b.terminal(&d.terminal);
    let code = &d.authorization.approval_code;
    if code.len() == 6 && code.bytes().all(|c| c.is_ascii_alphanumeric()) {
        b.set(38, code.clone());
    } else {
        b.refuse(
            "data.authorization.approval_code",
            "6 letters or digits".into(),
        );
    }
    // the authorization is checked to be a real reference even though only DE 38 travels
    let _ = original_trace(
        b,
        "data.authorization",
        &d.authorization.event_id,
        &d.authorization.occurred_at,
    );
    if b.mode() == MessageMode::Single {
        b.chip(&d.emv);
    }
}

pub(super) fn refund(b: &mut Builder<'_>, d: &Refund) {
    mti(b);
    b.card(&d.card);
    b.set(3, "200000"); // 20: returns (refund), default accounts
    b.amount(&d.amount);
    b.trace();
    b.acquirer();
    b.terminal(&d.terminal);
    if let Some(original) = &d.original {
        let _ = original_trace(
            b,
            "data.original",
            &original.event_id,
            &original.occurred_at,
        );
    }
}
