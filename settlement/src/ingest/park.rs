//! Follow-ups that arrive before their item: a cancel, a reversal, or a dual-message capture
//! whose request (transfer, 0100 authorization) a redelivery or another instance has not
//! applied yet. They park (a `parked` row, inbox outcome `parked`, the delivery acked) and the
//! transaction that creates the item applies them right after it, in `occurred_at` then
//! event-id order, so the end state is the one of an in-order run.

use super::apply::Work;
use super::decode::Decoded;
use super::plan::EventPlan;
use crate::flow::{DeadReason, Incoming};
use crate::store::{DeadRow, InboxRow, ParkedRow};

/// A parked follow-up, from this batch or from the `parked` table.
#[derive(Debug)]
pub(super) struct Waiting {
    pub(super) key: String,
    pub(super) event_id: String,
    pub(super) occurred_at: String,
    pub(super) hash: String,
    pub(super) queue: String,
    /// The event bytes (plain; sealed only in the table).
    pub(super) body: Vec<u8>,
    /// Its plan as of now, or why it can no longer be applied.
    pub(super) plan: Result<Box<EventPlan>, (DeadReason, String)>,
}

impl Work<'_> {
    /// Whether `plan` acts on an item that does not exist (yet).
    pub(super) fn waits(&self, plan: &EventPlan) -> bool {
        plan.legs.is_empty()
            && plan
                .existing
                .as_ref()
                .is_some_and(|(id, _)| !self.items.contains_key(id))
    }

    /// Parks a fresh follow-up: recorded in the inbox as `parked`, its row written with the
    /// batch, and applied if its item is created later in this batch.
    pub(super) fn park(&mut self, plan: &EventPlan, d: &Decoded, incoming: &Incoming, key: &str) {
        let Some((item_id, _)) = &plan.existing else {
            return; // `waits` said it has one
        };
        self.w.inbox.push(InboxRow {
            key: key.to_owned(),
            payload_sha256: d.hash.clone(),
            outcome: "parked".into(),
            queue: incoming.queue.clone(),
        });
        self.w.parked.push(ParkedRow {
            key: key.to_owned(),
            item_id: item_id.clone(),
            event_id: plan.event_id.clone(),
            occurred_at: plan.occurred_at.clone(),
            payload_sha256: d.hash.clone(),
            body: incoming.body.clone(),
            queue: incoming.queue.clone(),
        });
        self.waiting
            .entry(item_id.clone())
            .or_default()
            .push(Waiting {
                key: key.to_owned(),
                event_id: plan.event_id.clone(),
                occurred_at: plan.occurred_at.clone(),
                hash: d.hash.clone(),
                queue: incoming.queue.clone(),
                body: incoming.body.clone(),
                plan: Ok(Box::new(plan.clone())),
            });
    }

    /// Applies the follow-ups waiting for `item_id`, which this batch has just created.
    pub(super) fn unpark(&mut self, item_id: &str) {
        let Some(mut list) = self.waiting.remove(item_id) else {
            return;
        };
        list.sort_by(|a, b| (&a.occurred_at, &a.event_id).cmp(&(&b.occurred_at, &b.event_id)));
        for waiting in list {
            let outcome = match &waiting.plan {
                Ok(plan) => self.event(plan, &waiting.key),
                Err(e) => Err(e.clone()),
            };
            let inbox_outcome = match outcome {
                Ok(applied) => if applied { "applied" } else { "recorded" }.to_owned(),
                // Acked when it parked, so recorded here only (not re-published).
                Err((reason, detail)) => {
                    self.w.dead_letters.push(DeadRow {
                        key: waiting.key.clone(),
                        queue: waiting.queue.clone(),
                        reason: reason.as_str().to_owned(),
                        detail,
                        payload: waiting.body.clone(),
                        payload_sha256: waiting.hash.clone(),
                    });
                    format!("dead:{}", reason.as_str())
                }
            };
            // Parked in this batch: never written. Else: deleted, and its inbox row updated.
            if let Some(at) = self.w.parked.iter().position(|p| p.key == waiting.key) {
                self.w.parked.remove(at);
                if let Some(row) = self.w.inbox.iter_mut().find(|r| r.key == waiting.key) {
                    row.outcome = inbox_outcome;
                }
            } else {
                self.w.unparked.push((waiting.key, inbox_outcome));
            }
        }
    }
}
