//! The clearing lifecycle of one item: a pure function from (state, input) to the next state
//! and the effects the caller applies in its transaction. It reads no clock and touches no
//! connection; [`crate::ingest`] decides which input a delivery is and writes what `step` says.
//!
//! Items move forward only. A late or repeated answer changes nothing and is recorded as
//! `late`; an input that makes no sense in the state (e.g. a rejection of a settled item) is
//! recorded as `invalid`; neither is applied. The whole machine, one rule per line (any pair
//! not listed is `invalid`, recorded with `applied = false`):
//!
//! | from | input | to | effects | outcome |
//! |---|---|---|---|---|
//! | (none) | request | Requested | send | moved |
//! | Requested | sent | Submitted | | moved |
//! | Submitted, Accepted | capture | (same) | send | noted |
//! | Submitted, Accepted | reversal_requested | (same) | send | noted |
//! | Submitted, Accepted, Settled | cancel_requested | (same) | send | noted |
//! | Submitted, Accepted, Settled | return_requested | (same) | send | noted |
//! | Submitted | received | Submitted | | noted |
//! | Submitted | pending | Submitted | | noted |
//! | Submitted | accepted | Accepted | | moved |
//! | Submitted, Accepted | settled | Settled | | moved |
//! | Submitted, Accepted | rejected | Rejected | | moved |
//! | Submitted, Accepted | reversed | Reversed | | moved |
//! | Submitted, Accepted, Settled | returned | Returned | | moved |
//! | Submitted, Accepted, Settled | cancelled | Cancelled | | moved |
//! | Submitted, Accepted, Settled | cancellation_rejected | (same) | | noted |
//! | Accepted, Settled, Returned, Cancelled, Reversed | received, pending, accepted | (same) | | late |
//! | Settled, Returned | settled | (same) | | late |
//! | Rejected | rejected | Rejected | | late |
//! | Reversed | reversed | Reversed | | late |
//! | Returned | returned | Returned | | late |
//! | Cancelled | cancelled | Cancelled | | late |
//!
//! How deliveries become inputs: `transfer.requested`, `payout.batch_requested` (one item per
//! payout), `transfer.return_requested`, `card.authorization_requested`, `card.refund`,
//! `card.batch_closed` and a `card.capture` with no item yet (single message) are `request`; a
//! `card.capture` of an authorized payment is `capture`; `card.authorization_reversed` is
//! `reversal_requested`; `transfer.cancel_requested` is `cancel_requested`. ISO 20022 status
//! reports (once `adapters::inbound` reads them) map by status (ACTC → received, PDNG → pending,
//! ACCP/ACSP/ACWC → accepted, ACSC or a camt.054 booking → settled, RJCT → rejected, pacs.004 →
//! returned, camt.029 CNCL → cancelled, RJCR → cancellation_rejected). ISO 8583 answers map by the
//! request they answer: an approved 0110 → accepted, an approved 0210/0230/0510 → settled, an
//! approved 0410 → reversed, any declined answer → rejected except a declined 0410 →
//! cancellation_rejected (the undo was refused, the authorization stands).

use std::fmt;

/// Where an item is. `Settled`, `Rejected`, `Returned`, `Cancelled` and `Reversed` are ends
/// (only a return or a cancellation may still follow a settlement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    /// Created from a wallet event; its message is being written to the outbox.
    Requested,
    /// Its message is in the outbox (the relay publishes it).
    Submitted,
    /// The bank accepted it (pacs.002 ACCP/ACSP, an approved 0110).
    Accepted,
    /// Settled (pacs.002 ACSC, a camt.054 booking, an approved 0210/0230/0510).
    Settled,
    /// The bank refused it.
    Rejected,
    /// The funds came back (pacs.004).
    Returned,
    /// Recalled with the bank's agreement (camt.029 CNCL).
    Cancelled,
    /// A card authorization undone (approved 0410).
    Reversed,
}

impl State {
    /// Every state, in lifecycle order.
    pub const ALL: [State; 8] = [
        State::Requested,
        State::Submitted,
        State::Accepted,
        State::Settled,
        State::Rejected,
        State::Returned,
        State::Cancelled,
        State::Reversed,
    ];

    /// The name stored in the database and printed by `clearway items`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Submitted => "submitted",
            State::Accepted => "accepted",
            State::Settled => "settled",
            State::Rejected => "rejected",
            State::Returned => "returned",
            State::Cancelled => "cancelled",
            State::Reversed => "reversed",
        }
    }

    /// The state of a stored name.
    pub fn parse(name: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to an item: a wallet request, our own "sent", or a bank status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// A wallet event that creates the item (and sends its message).
    Request,
    /// The item's message is in the outbox.
    Sent,
    /// `card.capture` of an authorized payment: send the 0220.
    Capture,
    /// `card.authorization_reversed`: send the 0400.
    ReversalRequested,
    /// `transfer.cancel_requested`: send the camt.056.
    CancelRequested,
    /// `transfer.return_requested` naming an item we hold: send the pacs.004.
    ReturnRequested,
    /// Technical acceptance (ACTC): received, not yet judged.
    Received,
    /// PDNG.
    Pending,
    /// ACCP/ACSP/ACWC, an approved 0110.
    Accepted,
    /// ACSC, a camt.054 booking, an approved 0210/0230/0510.
    Settled,
    /// RJCT, a declined answer.
    Rejected,
    /// An approved 0410.
    Reversed,
    /// pacs.004 received for the item.
    Returned,
    /// camt.029 CNCL.
    Cancelled,
    /// camt.029 RJCR, a declined 0410.
    CancellationRejected,
}

impl Input {
    /// Every input.
    pub const ALL: [Input; 15] = [
        Input::Request,
        Input::Sent,
        Input::Capture,
        Input::ReversalRequested,
        Input::CancelRequested,
        Input::ReturnRequested,
        Input::Received,
        Input::Pending,
        Input::Accepted,
        Input::Settled,
        Input::Rejected,
        Input::Reversed,
        Input::Returned,
        Input::Cancelled,
        Input::CancellationRejected,
    ];

    /// The name recorded in `transitions.input`.
    pub fn as_str(self) -> &'static str {
        match self {
            Input::Request => "request",
            Input::Sent => "sent",
            Input::Capture => "capture",
            Input::ReversalRequested => "reversal_requested",
            Input::CancelRequested => "cancel_requested",
            Input::ReturnRequested => "return_requested",
            Input::Received => "received",
            Input::Pending => "pending",
            Input::Accepted => "accepted",
            Input::Settled => "settled",
            Input::Rejected => "rejected",
            Input::Reversed => "reversed",
            Input::Returned => "returned",
            Input::Cancelled => "cancelled",
            Input::CancellationRejected => "cancellation_rejected",
        }
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the caller does in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Write the delivery's outbound message to the outbox.
    Send,
}

/// How an input was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The state changed.
    Moved,
    /// Valid, applied, but the state stays (a request sent on, a pending report).
    Noted,
    /// A late or repeated answer: recorded, changes nothing.
    Late,
    /// Makes no sense in this state: recorded, not applied.
    Invalid,
}

/// The result of [`step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The state after the input (the same state unless `outcome` is `Moved`).
    pub next: State,
    /// What to do in the transaction.
    pub effects: Vec<Effect>,
    /// Whether the input was applied (`Moved` or `Noted`); late and invalid inputs are not.
    pub applied: bool,
    /// The kind of outcome.
    pub outcome: Outcome,
    /// A sentence for `transitions.note`.
    pub note: String,
}

impl Step {
    fn moved(next: State) -> Step {
        Step {
            next,
            effects: Vec::new(),
            applied: true,
            outcome: Outcome::Moved,
            note: String::new(),
        }
    }

    fn noted(state: State) -> Step {
        Step {
            outcome: Outcome::Noted,
            ..Step::moved(state)
        }
    }

    fn send(mut self) -> Step {
        self.effects.push(Effect::Send);
        self
    }

    fn late(state: State, input: Input) -> Step {
        Step {
            next: state,
            effects: Vec::new(),
            applied: false,
            outcome: Outcome::Late,
            note: format!("late: {input} after {state}, no effect"),
        }
    }

    fn invalid(state: Option<State>, input: Input) -> Step {
        let from = state.map_or("no item", State::as_str);
        Step {
            // with no item there is no state to stay in; the caller records nothing on an item
            next: state.unwrap_or(State::Requested),
            effects: Vec::new(),
            applied: false,
            outcome: Outcome::Invalid,
            note: format!("invalid: {input} in {from}, not applied"),
        }
    }
}

/// The lifecycle: see the module documentation for the table.
pub fn step(state: Option<State>, input: Input) -> Step {
    use Input as I;
    use State::*;
    let Some(state) = state else {
        return match input {
            I::Request => Step::moved(Requested).send(),
            _ => Step::invalid(None, input),
        };
    };
    match (state, input) {
        (Requested, I::Sent) => Step::moved(Submitted),
        (Submitted | Accepted, I::Capture | I::ReversalRequested) => Step::noted(state).send(),
        (Submitted | Accepted | Settled, I::CancelRequested | I::ReturnRequested) => {
            Step::noted(state).send()
        }
        (Submitted, I::Received | I::Pending) => Step::noted(state),
        (Submitted, I::Accepted) => Step::moved(Accepted),
        (Submitted | Accepted, I::Settled) => Step::moved(Settled),
        (Submitted | Accepted, I::Rejected) => Step::moved(Rejected),
        (Submitted | Accepted, I::Reversed) => Step::moved(Reversed),
        (Submitted | Accepted | Settled, I::Returned) => Step::moved(Returned),
        (Submitted | Accepted | Settled, I::Cancelled) => Step::moved(Cancelled),
        (Submitted | Accepted | Settled, I::CancellationRejected) => Step::noted(state),
        // A camt.054 booking can overtake its pacs.002: the late status changes nothing.
        (
            Accepted | Settled | Returned | Cancelled | Reversed,
            I::Received | I::Pending | I::Accepted,
        )
        | (Settled | Returned, I::Settled)
        | (Rejected, I::Rejected)
        | (Reversed, I::Reversed)
        | (Returned, I::Returned)
        | (Cancelled, I::Cancelled) => Step::late(state, input),
        (state, input) => Step::invalid(Some(state), input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair not listed here must be invalid: the test walks all of them.
    #[test]
    fn every_state_and_input() {
        use Input as I;
        use Outcome::{Late as L, Moved as M, Noted as N};
        use State::*;
        #[rustfmt::skip]
        let table: &[(Option<State>, Input, State, Outcome, bool)] = &[
            // from            input                     to          outcome send
            (None,             I::Request,               Requested,  M, true),
            (Some(Requested),  I::Sent,                  Submitted,  M, false),
            (Some(Submitted),  I::Capture,               Submitted,  N, true),
            (Some(Accepted),   I::Capture,               Accepted,   N, true),
            (Some(Submitted),  I::ReversalRequested,     Submitted,  N, true),
            (Some(Accepted),   I::ReversalRequested,     Accepted,   N, true),
            (Some(Submitted),  I::CancelRequested,       Submitted,  N, true),
            (Some(Accepted),   I::CancelRequested,       Accepted,   N, true),
            (Some(Settled),    I::CancelRequested,       Settled,    N, true),
            (Some(Submitted),  I::ReturnRequested,       Submitted,  N, true),
            (Some(Accepted),   I::ReturnRequested,       Accepted,   N, true),
            (Some(Settled),    I::ReturnRequested,       Settled,    N, true),
            (Some(Submitted),  I::Received,              Submitted,  N, false),
            (Some(Submitted),  I::Pending,               Submitted,  N, false),
            (Some(Submitted),  I::Accepted,              Accepted,   M, false),
            (Some(Submitted),  I::Settled,               Settled,    M, false),
            (Some(Accepted),   I::Settled,               Settled,    M, false),
            (Some(Submitted),  I::Rejected,              Rejected,   M, false),
            (Some(Accepted),   I::Rejected,              Rejected,   M, false),
            (Some(Submitted),  I::Reversed,              Reversed,   M, false),
            (Some(Accepted),   I::Reversed,              Reversed,   M, false),
            (Some(Submitted),  I::Returned,              Returned,   M, false),
            (Some(Accepted),   I::Returned,              Returned,   M, false),
            (Some(Settled),    I::Returned,              Returned,   M, false),
            (Some(Submitted),  I::Cancelled,             Cancelled,  M, false),
            (Some(Accepted),   I::Cancelled,             Cancelled,  M, false),
            (Some(Settled),    I::Cancelled,             Cancelled,  M, false),
            (Some(Submitted),  I::CancellationRejected,  Submitted,  N, false),
            (Some(Accepted),   I::CancellationRejected,  Accepted,   N, false),
            (Some(Settled),    I::CancellationRejected,  Settled,    N, false),
            // late: recorded, no effect
            (Some(Accepted),   I::Received,              Accepted,   L, false),
            (Some(Accepted),   I::Pending,               Accepted,   L, false),
            (Some(Accepted),   I::Accepted,              Accepted,   L, false),
            (Some(Settled),    I::Received,              Settled,    L, false),
            (Some(Settled),    I::Pending,               Settled,    L, false),
            (Some(Settled),    I::Accepted,              Settled,    L, false), // booking overtook pacs.002
            (Some(Settled),    I::Settled,               Settled,    L, false),
            (Some(Returned),   I::Received,              Returned,   L, false),
            (Some(Returned),   I::Pending,               Returned,   L, false),
            (Some(Returned),   I::Accepted,              Returned,   L, false),
            (Some(Returned),   I::Settled,               Returned,   L, false),
            (Some(Returned),   I::Returned,              Returned,   L, false),
            (Some(Cancelled),  I::Received,              Cancelled,  L, false),
            (Some(Cancelled),  I::Pending,               Cancelled,  L, false),
            (Some(Cancelled),  I::Accepted,              Cancelled,  L, false),
            (Some(Cancelled),  I::Cancelled,             Cancelled,  L, false),
            (Some(Reversed),   I::Received,              Reversed,   L, false),
            (Some(Reversed),   I::Pending,               Reversed,   L, false),
            (Some(Reversed),   I::Accepted,              Reversed,   L, false),
            (Some(Reversed),   I::Reversed,              Reversed,   L, false),
            (Some(Rejected),   I::Rejected,              Rejected,   L, false),
        ];
        let mut listed = 0;
        for from in std::iter::once(None).chain(State::ALL.map(Some)) {
            for input in Input::ALL {
                let got = step(from, input);
                let row = table.iter().find(|(f, i, ..)| *f == from && *i == input);
                match row {
                    Some(&(_, _, to, outcome, send)) => {
                        listed += 1;
                        assert_eq!(got.next, to, "{from:?} + {input}");
                        assert_eq!(got.outcome, outcome, "{from:?} + {input}");
                        assert_eq!(
                            got.effects.contains(&Effect::Send),
                            send,
                            "{from:?} + {input}"
                        );
                        let applied = matches!(outcome, Outcome::Moved | Outcome::Noted);
                        assert_eq!(got.applied, applied, "{from:?} + {input}");
                    }
                    None => {
                        assert_eq!(got.outcome, Outcome::Invalid, "{from:?} + {input}");
                        assert!(!got.applied && got.effects.is_empty(), "{from:?} + {input}");
                        assert_eq!(got.next, from.unwrap_or(State::Requested));
                        assert!(got.note.starts_with("invalid"), "{}", got.note);
                    }
                }
            }
        }
        assert_eq!(listed, table.len(), "a table row is listed twice");
    }

    #[test]
    fn never_backward() {
        let s = step(Some(State::Settled), Input::Rejected);
        assert_eq!((s.next, s.applied), (State::Settled, false));
        assert_eq!(s.note, "invalid: rejected in settled, not applied");
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
    }
}
