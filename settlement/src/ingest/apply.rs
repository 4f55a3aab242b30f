//! The batch's decisions, in delivery order, on items as they stand after each delivery:
//! lifecycle steps, transitions, outbox rows, references, card tokens and dead letters, all
//! collected into one `Writes` for the transaction.

use std::collections::{BTreeMap, BTreeSet};

use adapters::status::Status;
use adapters::status::StatusEvent;

use super::decode::{Body, Decoded};
use super::park::Waiting;
use super::plan::EventPlan;
use crate::flow::{DeadReason, Disposition, Incoming};
use crate::lifecycle::{Effect, Input, State, step};
use crate::store::{DeadRow, InboxRow, ItemRecord, NewOutbox, RefRow, TransitionRow, Writes};

/// The batch's working state: items as they stand after each delivery.
pub(super) struct Work<'a> {
    pub(super) items: &'a mut BTreeMap<String, ItemRecord>,
    pub(super) refs: &'a mut BTreeMap<String, (String, String)>,
    pub(super) taken: &'a mut BTreeSet<String>,
    pub(super) new_ids: BTreeSet<String>,
    pub(super) changed: BTreeSet<String>,
    pub(super) tokens: BTreeSet<String>,
    pub(super) w: &'a mut Writes,
    /// Outbound messages go to `<bank_prefix><bank>.out`.
    pub(super) bank_prefix: &'a str,
    /// Parked follow-ups by the item they wait for (see `park.rs`).
    pub(super) waiting: BTreeMap<String, Vec<Waiting>>,
}

impl Work<'_> {
    pub(super) fn apply(&mut self, d: &Decoded, incoming: &Incoming) -> Disposition {
        let key = d.key.clone().unwrap_or_default();
        let outcome = match &d.body {
            Body::Dead(reason, detail) => Err((*reason, detail.clone())),
            Body::Event(Err((reason, detail))) => Err((*reason, detail.clone())),
            Body::Event(Ok(plan)) if self.waits(plan) => {
                self.park(plan, d, incoming, &key);
                return Disposition::Applied; // durably recorded; applied with its item
            }
            Body::Event(Ok(plan)) => self.event(plan, &key),
            Body::Answers(statuses) => self.answers(statuses, &key),
            Body::Json(_) => Err((
                DeadReason::Decode,
                "event not read (a bug: fresh events are read first)".to_owned(),
            )),
        };
        match outcome {
            Ok(applied) => {
                if d.key.is_some() {
                    self.w.inbox.push(InboxRow {
                        key,
                        payload_sha256: d.hash.clone(),
                        outcome: if applied { "applied" } else { "recorded" }.into(),
                        queue: incoming.queue.clone(),
                    });
                }
                Disposition::Applied
            }
            // The key is fresh: record it, so a redelivery is a duplicate and a concurrent
            // instance that decided the same delivery makes this batch retry (inbox race).
            Err((reason, detail)) => dead(self.w, d, incoming, reason, detail, true),
        }
    }

    /// `Ok(applied)`: every input was applied (else some were recorded only).
    pub(super) fn event(
        &mut self,
        plan: &EventPlan,
        key: &str,
    ) -> Result<bool, (DeadReason, String)> {
        if self.taken.contains(&plan.message_id) {
            return Err((
                DeadReason::Conflict,
                format!(
                    "{}: message id {} is in the outbox already (another event derived the same id)",
                    plan.event_id, plan.message_id
                ),
            ));
        }
        if let Some((id, input)) = &plan.existing
            && let Some(item) = self.items.get(id).cloned()
        {
            let from = item.state;
            let s = step(Some(from), *input);
            let mut item = item;
            self.record(
                &mut item,
                Some(from),
                s.next,
                *input,
                key,
                s.applied,
                &s.note,
            );
            if s.effects.contains(&Effect::Send) {
                self.send(plan, &mut item);
            }
            if let Some(token) = &plan.card_token {
                self.token(token);
            }
            self.mark_changed(&item.id);
            self.items.insert(item.id.clone(), item);
            return Ok(s.applied);
        }
        if plan.legs.is_empty() {
            let id = plan.existing.as_ref().map_or("", |(id, _)| id.as_str());
            return Err((
                DeadReason::Unmapped,
                format!("{}: no item {id:?} to apply it to", plan.event_id),
            ));
        }
        if let Some(other) = plan.legs.iter().find_map(|l| self.items.get(&l.id)) {
            return Err((
                DeadReason::Conflict,
                format!(
                    "{}: item {} exists already (created by event {})",
                    plan.event_id, other.id, other.event_id
                ),
            ));
        }
        let mut created = Vec::with_capacity(plan.legs.len());
        for leg in &plan.legs {
            let s = step(None, Input::Request);
            debug_assert!(s.applied && s.effects == [Effect::Send]);
            let mut item = ItemRecord {
                id: leg.id.clone(),
                payment_id: leg.payment_id.clone(),
                event_id: plan.event_id.clone(),
                bank: plan.bank.clone(),
                kind: leg.kind.clone(),
                state: s.next,
                seq: 0,
                amount_minor: leg.amount_minor,
                currency: leg.currency.clone(),
                message_ids: Vec::new(),
                msg_id: (plan.stan_rrn.is_none()).then(|| plan.outbound.message_key.clone()),
                end_to_end_id: leg.end_to_end_id.clone(),
                uetr: None,
                stan: plan.stan_rrn.as_ref().map(|(s, _)| s.clone()),
                rrn: plan.stan_rrn.as_ref().map(|(_, r)| r.clone()),
                card_token: plan.card_token.as_ref().map(|(t, _)| t.clone()),
            };
            self.record(
                &mut item,
                None,
                s.next,
                Input::Request,
                key,
                true,
                "created",
            );
            created.push(item);
        }
        // One message for the event; its references point at the first item (the only one,
        // except for a payout batch, whose transactions answer by EndToEndId).
        if let Some(first) = created.first_mut() {
            self.send(plan, first);
        }
        for mut item in created {
            if item.message_ids.is_empty() {
                item.message_ids.push(plan.message_id.clone());
            }
            let from = item.state;
            let s = step(Some(from), Input::Sent);
            self.record(
                &mut item,
                Some(from),
                s.next,
                Input::Sent,
                key,
                s.applied,
                "message in the outbox",
            );
            if let Some(e2e) = &item.end_to_end_id {
                self.add_ref(
                    format!("e2e/{}/{e2e}", item.bank),
                    &item.id,
                    &plan.outbound.message_type,
                );
            }
            self.new_ids.insert(item.id.clone());
            self.items.insert(item.id.clone(), item);
        }
        if let Some(token) = &plan.card_token {
            self.token(token);
        }
        for leg in &plan.legs {
            self.unpark(&leg.id);
        }
        Ok(true)
    }

    pub(super) fn answers(
        &mut self,
        statuses: &[StatusEvent],
        key: &str,
    ) -> Result<bool, (DeadReason, String)> {
        // Resolve every status before applying any, so a dead letter leaves no half.
        let mut resolved = Vec::with_capacity(statuses.len());
        for status in statuses {
            let Some(reference) = reference_of(status) else {
                return Err((
                    DeadReason::Unmapped,
                    format!("{}: quotes no reference to resolve", status.status_id),
                ));
            };
            let Some((item_id, request_type)) = self.refs.get(&reference).cloned() else {
                return Err((
                    DeadReason::Unmapped,
                    format!("{}: no item for reference {reference}", status.status_id),
                ));
            };
            if !self.items.contains_key(&item_id) {
                return Err((
                    DeadReason::Unmapped,
                    format!(
                        "{}: reference {reference} names item {item_id}, which is missing",
                        status.status_id
                    ),
                ));
            }
            let Some(input) = answer_input(&request_type, status.status) else {
                return Err((
                    DeadReason::Unmapped,
                    format!(
                        "{}: {} moves no item (reference {reference})",
                        status.status_id,
                        status.status.as_str()
                    ),
                ));
            };
            resolved.push((status, item_id, input));
        }
        let mut all_applied = true;
        for (status, item_id, input) in resolved {
            let Some(mut item) = self.items.get(&item_id).cloned() else {
                continue; // checked above
            };
            let from = item.state;
            let s = step(Some(from), input);
            let note = if s.note.is_empty() {
                format!("{} {}", status.message_type, status.status.as_str())
            } else {
                s.note.clone()
            };
            self.record(&mut item, Some(from), s.next, input, key, s.applied, &note);
            all_applied &= s.applied;
            self.mark_changed(&item.id);
            self.items.insert(item.id.clone(), item);
        }
        Ok(all_applied)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &mut self,
        item: &mut ItemRecord,
        from: Option<State>,
        to: State,
        input: Input,
        key: &str,
        applied: bool,
        note: &str,
    ) {
        self.w.transitions.push(TransitionRow {
            item_id: item.id.clone(),
            seq: item.seq,
            from,
            to,
            input: input.as_str().to_owned(),
            cause_key: key.to_owned(),
            applied,
            note: note.to_owned(),
        });
        item.seq += 1;
        item.state = to;
    }

    pub(super) fn send(&mut self, plan: &EventPlan, item: &mut ItemRecord) {
        let headers = BTreeMap::from([
            (
                "x-clearway-message-type".to_owned(),
                plan.outbound.message_type.clone(),
            ),
            ("x-clearway-payment".to_owned(), plan.ordering_key.clone()),
            ("x-clearway-event".to_owned(), plan.event_id.clone()),
        ]);
        self.w.outbox.push(NewOutbox {
            exchange: String::new(),
            routing_key: format!("{}{}.out", self.bank_prefix, plan.bank),
            message_id: plan.message_id.clone(),
            headers,
            payload: plan.outbound.wire.clone(),
            ordering_key: plan.ordering_key.clone(),
        });
        self.taken.insert(plan.message_id.clone());
        item.message_ids.push(plan.message_id.clone());
        for reference in &plan.message_refs {
            self.add_ref(reference.clone(), &item.id, &plan.outbound.message_type);
        }
    }

    pub(super) fn add_ref(&mut self, reference: String, item_id: &str, message_type: &str) {
        // First writer wins, in the batch as in the table (`ON CONFLICT DO NOTHING`).
        if self.refs.contains_key(&reference) {
            return;
        }
        self.refs.insert(
            reference.clone(),
            (item_id.to_owned(), message_type.to_owned()),
        );
        self.w.refs.push(RefRow {
            reference,
            item_id: item_id.to_owned(),
            message_type: message_type.to_owned(),
        });
    }

    pub(super) fn token(&mut self, (token, masked): &(String, String)) {
        if self.tokens.insert(token.clone()) {
            self.w.card_tokens.push((token.clone(), masked.clone()));
        }
    }

    pub(super) fn mark_changed(&mut self, id: &str) {
        if !self.new_ids.contains(id) {
            self.changed.insert(id.to_owned());
        }
    }
}

/// Records a dead letter (and, with `record_key`, its inbox row when it has a key) and returns
/// the disposition.
pub(super) fn dead(
    w: &mut Writes,
    d: &Decoded,
    incoming: &Incoming,
    reason: DeadReason,
    detail: String,
    record_key: bool,
) -> Disposition {
    let key = d.key.clone();
    let dead_key = key.clone().unwrap_or_else(|| format!("unkeyed/{}", d.hash));
    // A second copy within the batch (poison with no inbox row, or a conflict): recorded once.
    if w.dead_letters
        .iter()
        .any(|r| r.key == dead_key && r.payload_sha256 == d.hash)
    {
        return Disposition::Duplicate;
    }
    if let Some(key) = &key
        && record_key
    {
        w.inbox.push(InboxRow {
            key: key.clone(),
            payload_sha256: d.hash.clone(),
            outcome: format!("dead:{}", reason.as_str()),
            queue: incoming.queue.clone(),
        });
    }
    w.dead_letters.push(DeadRow {
        key: dead_key,
        queue: incoming.queue.clone(),
        reason: reason.as_str().to_owned(),
        detail: detail.clone(),
        payload: incoming.body.clone(),
        payload_sha256: d.hash.clone(),
    });
    Disposition::DeadLetter { reason, detail }
}

/// The reference an answer quotes, in the form `refs` stores.
pub(super) fn reference_of(status: &StatusEvent) -> Option<String> {
    let r = &status.in_reply_to;
    match (&r.stan, &r.rrn, &r.end_to_end_id) {
        (Some(stan), Some(rrn), _) => Some(format!("card/{}/{stan}/{rrn}", status.bank)),
        (_, _, Some(e2e)) => Some(format!("e2e/{}/{e2e}", status.bank)),
        _ => None,
    }
}

/// A bank answer as a lifecycle input, by what it says and the request it answers.
/// `CancellationPending` (camt.029 PDCR) moves nothing: the item waits for the final answer.
/// `Received` (an incoming pacs.008) is money for us, not an answer to an item of ours.
pub(super) fn answer_input(request_type: &str, status: Status) -> Option<Input> {
    Some(match (request_type, status) {
        ("0100", Status::Approved) => Input::Accepted,
        ("0400", Status::Approved) => Input::Reversed,
        // the undo was refused: the authorization stands
        ("0400", Status::Declined) => Input::CancellationRejected,
        (_, Status::Approved) => Input::Settled,
        (_, Status::Declined) => Input::Rejected,
        (_, Status::Accepted) => Input::Accepted,
        (_, Status::Settled) => Input::Settled,
        (_, Status::Pending) => Input::Pending,
        (_, Status::Rejected) => Input::Rejected,
        (_, Status::Returned) => Input::Returned,
        (_, Status::Cancelled) => Input::Cancelled,
        (_, Status::CancellationRejected) => Input::CancellationRejected,
        (_, Status::CancellationPending | Status::Received) => return None,
    })
}
