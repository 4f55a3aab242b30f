//! The consumer's work: a batch of deliveries in ONE transaction. It decides nothing of its own:
//! `adapters` decodes and maps, [`crate::lifecycle::step`] says what an input does to an item,
//! and [`crate::store::Tx`] writes the inbox rows, items, transitions, outbox rows and dead
//! letters of the whole batch with one multi-row statement per table.
//!
//! Per delivery, in order:
//! 1. decode: `clearway.events` → `adapters::Event` (JSON); `clearway.bank.<id>.in` → status
//!    events through the profile's inbound reader ([`read_answer`]); anything else, or bytes
//!    that do not decode, is a dead letter `decode`;
//! 2. dedupe by key (`event/<event_id>`, `bank/<status_id>`, `undecodable/<sha256>` for
//!    poison) and the SHA-256 of the canonical payload (JSON re-serialised with sorted keys;
//!    bank bytes as they are): same key and hash → `Duplicate`, same key and another hash →
//!    dead letter `conflict`; the second copy inside one batch is a duplicate as well;
//! 3. apply: an event creates its items (or is an input on an existing one) and writes its
//!    message to the outbox; an answer resolves to its item by the reference it quotes (STAN
//!    and RRN for cards) and is a lifecycle input. Refusals by `adapters::adapt` are dead
//!    letters `unmapped` (no mapping built, no profile, no item) or `invalid` (with every
//!    reason).
//!
//! Card numbers never reach the store: items keep an HMAC-SHA256 token under the store's key
//! and `card_tokens` the masked form.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use adapters::de39::Outcome as Answer;
use adapters::event::{Event, EventData, EventId};
use adapters::profile::{Channel, Profile, ProfileError};
use adapters::status::StatusEvent;
use adapters::{Outbound, Refusal};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::flow::{DeadReason, Disposition, Handler, Incoming, Transient};
use crate::lifecycle::{Effect, Input, State, step};
use crate::store::{
    self, DeadRow, InboxRow, ItemRecord, NewOutbox, RefRow, Store, TransitionRow, Writes,
};

/// The queue wallet events arrive on.
pub const EVENTS_QUEUE: &str = "clearway.events";

/// The batch handler: the store, the bank profiles by id (dialects loaded with them) and the
/// card-token key.
pub struct Ingest {
    store: Store,
    profiles: BTreeMap<String, Profile>,
    pan_key: Vec<u8>,
}

impl std::fmt::Debug for Ingest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingest")
            .field("store", &self.store.backend())
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Loads every `*.toml` profile of a folder, in name order; the first broken one is an error.
pub fn load_profiles(dir: &Path) -> Result<Vec<Profile>, ProfileError> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| ProfileError::Io {
            file: dir.display().to_string(),
            message: e.to_string(),
        })?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Profile::load(p)).collect()
}

impl Ingest {
    /// A handler over `store` for these profiles; reads (or creates) the card-token key.
    pub async fn new(
        store: Store,
        profiles: impl IntoIterator<Item = Profile>,
    ) -> Result<Ingest, store::Error> {
        let pan_key = store.pan_key().await?;
        Ok(Ingest {
            store,
            profiles: profiles.into_iter().map(|p| (p.id.clone(), p)).collect(),
            pan_key,
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Handles one batch in one transaction (see the module documentation).
    pub async fn ingest(&self, batch: &[Incoming]) -> Result<Vec<Disposition>, store::Error> {
        let mut decoded: Vec<Decoded> = batch.iter().map(|d| self.decode(d)).collect();
        let mut tx = self.store.begin().await?;

        let keys: Vec<String> = decoded
            .iter()
            .filter_map(|d| d.key.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let seen = tx.inbox_hashes(&keys).await?;

        // Fresh deliveries: not seen before, and the first copy within the batch.
        let mut verdicts: Vec<Option<Disposition>> = vec![None; decoded.len()];
        let mut batch_hashes: BTreeMap<&str, &str> = BTreeMap::new();
        let mut w = Writes::default();
        for (i, d) in decoded.iter().enumerate() {
            let Some(key) = d.key.as_deref() else {
                continue;
            };
            let earlier = seen
                .get(key)
                .map(String::as_str)
                .or_else(|| batch_hashes.get(key).copied());
            match earlier {
                Some(hash) if hash == d.hash => verdicts[i] = Some(Disposition::Duplicate),
                Some(hash) => {
                    let detail = format!(
                        "key {key} was seen with payload sha256 {hash}; this one is {}",
                        d.hash
                    );
                    // the inbox keeps the row of the first payload
                    verdicts[i] = Some(dead(
                        &mut w,
                        d,
                        &batch[i],
                        DeadReason::Conflict,
                        detail,
                        false,
                    ));
                }
                None => {
                    batch_hashes.insert(key, &d.hash);
                }
            }
        }

        // Map the fresh events only: a redelivery storm costs a parse and a hash per delivery.
        for ((d, verdict), incoming) in decoded.iter_mut().zip(&verdicts).zip(batch) {
            if verdict.is_none() && matches!(d.body, Body::Json) {
                d.body = self.read_event(&incoming.body);
            }
        }

        // What the fresh deliveries need to read: items, references, outbox message ids.
        let fresh = || {
            decoded
                .iter()
                .zip(&verdicts)
                .filter(|(_, v)| v.is_none())
                .map(|(d, _)| d)
        };
        let mut references = BTreeSet::new();
        let mut item_ids = BTreeSet::new();
        let mut message_ids = BTreeSet::new();
        for d in fresh() {
            match &d.body {
                Body::Event(Ok(plan)) => {
                    item_ids.extend(plan.legs.iter().map(|l| l.id.clone()));
                    item_ids.extend(plan.existing.iter().map(|(id, _)| id.clone()));
                    message_ids.insert(plan.message_id.clone());
                }
                Body::Answers(statuses) => {
                    references.extend(statuses.iter().filter_map(reference_of));
                }
                _ => {}
            }
        }
        let mut refs = tx.refs(&references.into_iter().collect::<Vec<_>>()).await?;
        item_ids.extend(refs.values().map(|(item, _)| item.clone()));
        let mut items = tx.items(&item_ids.into_iter().collect::<Vec<_>>()).await?;
        let mut taken = tx
            .outbox_taken(&message_ids.into_iter().collect::<Vec<_>>())
            .await?;

        let mut work = Work {
            items: &mut items,
            refs: &mut refs,
            taken: &mut taken,
            new_ids: BTreeSet::new(),
            changed: BTreeSet::new(),
            tokens: BTreeSet::new(),
            w: &mut w,
        };
        for (i, d) in decoded.iter().enumerate() {
            if verdicts[i].is_some() {
                continue;
            }
            verdicts[i] = Some(work.apply(d, &batch[i]));
        }
        let (new_ids, changed) = (work.new_ids, work.changed);
        for (id, item) in items {
            if new_ids.contains(&id) {
                w.new_items.push(item);
            } else if changed.contains(&id) {
                w.changed_items.push(item);
            }
        }
        tx.write(&w).await?;
        tx.commit().await?;
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or(Disposition::Applied))
            .collect())
    }

    fn decode(&self, d: &Incoming) -> Decoded {
        if d.queue == EVENTS_QUEUE {
            return self.decode_event(&d.body);
        }
        let bank = d
            .queue
            .strip_prefix("clearway.bank.")
            .and_then(|rest| rest.strip_suffix(".in"));
        let hash = sha256_hex(&d.body);
        let Some(bank) = bank else {
            return Decoded::dead(
                Some(format!("undecodable/{hash}")),
                hash,
                DeadReason::Decode,
                format!(
                    "queue {:?} is neither {EVENTS_QUEUE} nor clearway.bank.<id>.in",
                    d.queue
                ),
            );
        };
        let Some(profile) = self.profiles.get(bank) else {
            return Decoded::dead(
                None,
                hash,
                DeadReason::Unmapped,
                format!("no profile {bank:?} for queue {}", d.queue),
            );
        };
        match read_answer(profile, &d.body) {
            Ok(statuses) => match statuses.first() {
                Some(first) => Decoded {
                    key: Some(format!("bank/{}", first.status_id)),
                    hash,
                    body: Body::Answers(statuses),
                },
                None => Decoded::dead(
                    Some(format!("undecodable/{hash}")),
                    hash,
                    DeadReason::Decode,
                    "the bank message holds no status".into(),
                ),
            },
            // Undecodable bytes are recorded under their hash, so a redelivery is a duplicate.
            Err((DeadReason::Decode, detail)) => Decoded::dead(
                Some(format!("undecodable/{hash}")),
                hash,
                DeadReason::Decode,
                detail,
            ),
            // Not recorded in the inbox: the same message may be readable once support lands.
            Err((reason, detail)) => Decoded::dead(None, hash, reason, detail),
        }
    }

    fn decode_event(&self, body: &[u8]) -> Decoded {
        let text = match std::str::from_utf8(body) {
            Ok(text) => text,
            Err(e) => {
                let hash = sha256_hex(body);
                return Decoded::dead(
                    Some(format!("undecodable/{hash}")),
                    hash,
                    DeadReason::Decode,
                    format!("event: not UTF-8 at byte {}", e.valid_up_to()),
                );
            }
        };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let hash = sha256_hex(body);
                return Decoded::dead(
                    Some(format!("undecodable/{hash}")),
                    hash,
                    DeadReason::Decode,
                    format!("event: not JSON ({e})"),
                );
            }
        };
        let mut canonical = String::with_capacity(text.len());
        canonical_json(&value, &mut canonical);
        let hash = sha256_hex(canonical.as_bytes());
        let key = value
            .get("event_id")
            .and_then(serde_json::Value::as_str)
            .filter(|id| EventId::parse(id).is_ok())
            .map_or_else(|| format!("undecodable/{hash}"), |id| format!("event/{id}"));
        Decoded {
            key: Some(key),
            hash,
            body: Body::Json,
        }
    }

    /// A fresh event's body (JSON, checked by `decode_event`) to its plan or a dead letter.
    fn read_event(&self, body: &[u8]) -> Body {
        let text = String::from_utf8_lossy(body);
        match Event::from_json(&text) {
            Ok(event) => Body::Event(self.plan(&event).map(Box::new)),
            Err(e) => Body::Dead(DeadReason::Decode, format!("event: {e}")),
        }
    }

    /// What an event does: the items it creates or the item it is an input on, and its message.
    fn plan(&self, event: &Event) -> Result<EventPlan, (DeadReason, String)> {
        let Some(profile) = self.profiles.get(&event.bank) else {
            return Err((
                DeadReason::Unmapped,
                format!("{}: no profile {:?}", event.event_id, event.bank),
            ));
        };
        let outbound = adapters::adapt(event, profile).map_err(|r| refusal(event, profile, r))?;
        let invalid = |e: String| (DeadReason::Invalid, format!("{}: {e}", event.event_id));
        let event_id = event.event_id.as_str();
        let bank = event.bank.as_str();
        let leg = |id: String, payment: &str, kind: &str, money: (i64, String)| Leg {
            id,
            payment_id: payment.to_owned(),
            kind: kind.to_owned(),
            amount_minor: money.0,
            currency: money.1,
            end_to_end_id: None,
        };
        let card = |c: &adapters::event::card::Card| Some(self.token(&c.pan.0));
        let (legs, existing, ordering_key, card_token) = match &event.data {
            EventData::TransferRequested(d) => {
                let mut l = leg(
                    d.payment_id.clone(),
                    &d.payment_id,
                    "transfer",
                    money(&d.amount).map_err(invalid)?,
                );
                l.end_to_end_id = Some(d.end_to_end_id.clone());
                (vec![l], None, d.payment_id.clone(), None)
            }
            EventData::PayoutBatchRequested(d) => {
                let mut legs = Vec::with_capacity(d.payouts.len());
                for p in &d.payouts {
                    let mut l = leg(
                        p.payment_id.clone(),
                        &p.payment_id,
                        "payout",
                        money(&p.amount).map_err(invalid)?,
                    );
                    l.end_to_end_id = Some(p.end_to_end_id.clone());
                    legs.push(l);
                }
                (legs, None, d.batch_id.clone(), None)
            }
            EventData::TransferReturnRequested(d) => {
                let id = format!("{}:return", d.payment_id);
                let l = leg(
                    id,
                    &d.payment_id,
                    "return",
                    money(&d.amount).map_err(invalid)?,
                );
                (vec![l], None, d.payment_id.clone(), None)
            }
            EventData::TransferCancelRequested(d) => (
                Vec::new(),
                Some((d.payment_id.clone(), Input::CancelRequested)),
                d.payment_id.clone(),
                None,
            ),
            EventData::CardAuthorizationRequested(d) => {
                let l = leg(
                    d.payment_id.clone(),
                    &d.payment_id,
                    "card",
                    money(&d.amount).map_err(invalid)?,
                );
                (vec![l], None, d.payment_id.clone(), card(&d.card))
            }
            // A capture of a payment we authorized is an input on it; with no authorization
            // (single message, or an authorization made elsewhere) it creates the item.
            EventData::CardCapture(d) => {
                let l = leg(
                    d.payment_id.clone(),
                    &d.payment_id,
                    "card",
                    money(&d.amount).map_err(invalid)?,
                );
                (
                    vec![l],
                    Some((d.payment_id.clone(), Input::Capture)),
                    d.payment_id.clone(),
                    card(&d.card),
                )
            }
            EventData::CardAuthorizationReversed(d) => (
                Vec::new(),
                Some((d.payment_id.clone(), Input::ReversalRequested)),
                d.payment_id.clone(),
                card(&d.card),
            ),
            EventData::CardRefund(d) => {
                let id = format!("{}:refund:{event_id}", d.payment_id);
                let l = leg(
                    id,
                    &d.payment_id,
                    "refund",
                    money(&d.amount).map_err(invalid)?,
                );
                (vec![l], None, d.payment_id.clone(), card(&d.card))
            }
            EventData::CardBatchClosed(d) => {
                let net = signed_minor(&d.net, &d.currency).map_err(invalid)?;
                let l = leg(
                    d.batch_id.clone(),
                    &d.batch_id,
                    "batch",
                    (net, d.currency.clone()),
                );
                (vec![l], None, d.batch_id.clone(), None)
            }
            _ => {
                return Err((
                    DeadReason::Unmapped,
                    format!("{}: {} has no clearing item", event_id, event.event_type),
                ));
            }
        };
        let message_id = if outbound.message_key.starts_with(&outbound.message_type) {
            outbound.message_key.clone()
        } else {
            format!("{}-{}", outbound.message_type, outbound.message_key)
        };
        let mut message_refs = Vec::new();
        let mut stan_rrn = None;
        if profile.channel == Channel::Iso8583 {
            // message_key is MTI-STAN-RRN-acquirer: the answer quotes the same STAN and RRN.
            let parts: Vec<&str> = outbound.message_key.split('-').collect();
            if let [_, stan, rrn, _] = parts.as_slice() {
                message_refs.push(format!("card/{bank}/{stan}/{rrn}"));
                stan_rrn = Some(((*stan).to_owned(), (*rrn).to_owned()));
            }
        } else {
            message_refs.push(format!("msg/{bank}/{}", outbound.message_key));
            for l in &legs {
                if let Some(e2e) = &l.end_to_end_id {
                    message_refs.push(format!("e2e/{bank}/{e2e}"));
                }
            }
        }
        Ok(EventPlan {
            event_id: event_id.to_owned(),
            bank: bank.to_owned(),
            legs,
            existing,
            message_id,
            message_refs,
            stan_rrn,
            ordering_key,
            card_token,
            outbound,
        })
    }

    /// HMAC-SHA256 of the PAN under the store's key, hex, and the masked PAN.
    fn token(&self, pan: &emv::card::Pan) -> (String, String) {
        let token = match hmac::Hmac::<Sha256>::new_from_slice(&self.pan_key) {
            Ok(mut mac) => {
                mac.update(pan.expose().as_bytes());
                store::to_hex(&mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length; this arm is unreachable in practice and still
            // never stores the PAN.
            Err(_) => store::to_hex(&Sha256::digest(pan.expose().as_bytes())),
        };
        (token, pan.masked())
    }
}

impl Handler for Ingest {
    async fn handle(&self, batch: &[Incoming]) -> Result<Vec<Disposition>, Transient> {
        self.ingest(batch).await.map_err(Transient::from)
    }
}

/// A bank message → its status events, through the profile's inbound reader. ISO 8583 today;
/// ISO 20022 answers are `unmapped` until `adapters::inbound` reads them.
pub fn read_answer(
    profile: &Profile,
    bytes: &[u8],
) -> Result<Vec<StatusEvent>, (DeadReason, String)> {
    match profile.channel {
        Channel::Iso8583 => {
            let Some(dialect) = profile.dialect() else {
                return Err((
                    DeadReason::Unmapped,
                    format!("profile {}: no ISO 8583 dialect loaded", profile.id),
                ));
            };
            adapters::inbound::iso8583(profile, dialect, bytes)
                .map(|s| vec![s])
                .map_err(|e| (DeadReason::Decode, e.to_string()))
        }
        Channel::Iso20022 => Err((DeadReason::Unmapped, "ISO 20022 inbound pending".to_owned())),
    }
}

/// One delivery, decoded.
#[derive(Debug)]
struct Decoded {
    key: Option<String>,
    hash: String,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// JSON with an event key, not yet read as an event (duplicates never are).
    Json,
    /// An event mapped to its plan.
    Event(Result<Box<EventPlan>, (DeadReason, String)>),
    Answers(Vec<StatusEvent>),
    Dead(DeadReason, String),
}

impl Decoded {
    fn dead(key: Option<String>, hash: String, reason: DeadReason, detail: String) -> Decoded {
        Decoded {
            key,
            hash,
            body: Body::Dead(reason, detail),
        }
    }
}

/// An item an event creates.
#[derive(Debug, Clone)]
struct Leg {
    id: String,
    payment_id: String,
    kind: String,
    amount_minor: i64,
    currency: String,
    end_to_end_id: Option<String>,
}

#[derive(Debug)]
struct EventPlan {
    event_id: String,
    bank: String,
    legs: Vec<Leg>,
    /// The item this event is an input on, when it exists.
    existing: Option<(String, Input)>,
    message_id: String,
    message_refs: Vec<String>,
    stan_rrn: Option<(String, String)>,
    ordering_key: String,
    card_token: Option<(String, String)>,
    outbound: Outbound,
}

/// The batch's working state: items as they stand after each delivery.
struct Work<'a> {
    items: &'a mut BTreeMap<String, ItemRecord>,
    refs: &'a mut BTreeMap<String, (String, String)>,
    taken: &'a mut BTreeSet<String>,
    new_ids: BTreeSet<String>,
    changed: BTreeSet<String>,
    tokens: BTreeSet<String>,
    w: &'a mut Writes,
}

impl Work<'_> {
    fn apply(&mut self, d: &Decoded, incoming: &Incoming) -> Disposition {
        let key = d.key.clone().unwrap_or_default();
        let outcome = match &d.body {
            Body::Dead(reason, detail) => Err((*reason, detail.clone())),
            Body::Event(Err((reason, detail))) => Err((*reason, detail.clone())),
            Body::Event(Ok(plan)) => self.event(plan, &key),
            Body::Answers(statuses) => self.answers(statuses, &key),
            Body::Json => Err((
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
    fn event(&mut self, plan: &EventPlan, key: &str) -> Result<bool, (DeadReason, String)> {
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
        Ok(true)
    }

    fn answers(
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
            resolved.push((status, item_id, answer_input(&request_type, status.status)));
        }
        let mut all_applied = true;
        for (status, item_id, input) in resolved {
            let Some(mut item) = self.items.get(&item_id).cloned() else {
                continue; // checked above
            };
            let from = item.state;
            let s = step(Some(from), input);
            let note = if s.note.is_empty() {
                format!("{} {}", status.message_type, as_word(status.status))
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
    fn record(
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

    fn send(&mut self, plan: &EventPlan, item: &mut ItemRecord) {
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
            routing_key: format!("clearway.bank.{}.out", plan.bank),
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

    fn add_ref(&mut self, reference: String, item_id: &str, message_type: &str) {
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

    fn token(&mut self, (token, masked): &(String, String)) {
        if self.tokens.insert(token.clone()) {
            self.w.card_tokens.push((token.clone(), masked.clone()));
        }
    }

    fn mark_changed(&mut self, id: &str) {
        if !self.new_ids.contains(id) {
            self.changed.insert(id.to_owned());
        }
    }
}

/// Records a dead letter (and, with `record_key`, its inbox row when it has a key) and returns
/// the disposition.
fn dead(
    w: &mut Writes,
    d: &Decoded,
    incoming: &Incoming,
    reason: DeadReason,
    detail: String,
    record_key: bool,
) -> Disposition {
    let key = d.key.clone();
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
        key: key.unwrap_or_else(|| format!("unkeyed/{}", d.hash)),
        queue: incoming.queue.clone(),
        reason: reason.as_str().to_owned(),
        detail: detail.clone(),
        payload: incoming.body.clone(),
    });
    Disposition::DeadLetter { reason, detail }
}

/// Why `adapt` refused: `unmapped` when nothing maps this type for this bank (yet), else
/// `invalid` with every reason.
fn refusal(event: &Event, profile: &Profile, r: Refusal) -> (DeadReason, String) {
    let reason =
        if event.bank != profile.id || !adapters::outbound::is_built(event.event_type, profile) {
            DeadReason::Unmapped
        } else {
            DeadReason::Invalid
        };
    (
        reason,
        format!("{}: {}", event.event_id, r.reasons.join("; ")),
    )
}

/// The reference an answer quotes, in the form `refs` stores.
fn reference_of(status: &StatusEvent) -> Option<String> {
    let r = &status.in_reply_to;
    match (&r.stan, &r.rrn) {
        (Some(stan), Some(rrn)) => Some(format!("card/{}/{stan}/{rrn}", status.bank)),
        _ => None,
    }
}

/// An ISO 8583 answer as a lifecycle input, by the request it answers.
fn answer_input(request_type: &str, answer: Answer) -> Input {
    match (request_type, answer) {
        ("0100", Answer::Approved) => Input::Accepted,
        ("0400", Answer::Approved) => Input::Reversed,
        // the undo was refused: the authorization stands
        ("0400", Answer::Declined) => Input::CancellationRejected,
        (_, Answer::Approved) => Input::Settled,
        (_, Answer::Declined) => Input::Rejected,
    }
}

fn as_word(answer: Answer) -> &'static str {
    match answer {
        Answer::Approved => "approved",
        Answer::Declined => "declined",
    }
}

fn money(amount: &adapters::money::AmountField) -> Result<(i64, String), String> {
    let m = amount.check().map_err(|e| e.to_string())?;
    let minor =
        i64::try_from(m.minor).map_err(|_| format!("amount {} is too large", amount.value))?;
    Ok((minor, m.currency.as_str().to_owned()))
}

/// A signed decimal string (a batch net) in minor units of `currency`.
fn signed_minor(value: &str, currency: &str) -> Result<i64, String> {
    let currency = iso20022::money::Currency::parse(currency)
        .ok_or_else(|| format!("currency {currency:?} is not ISO 4217"))?;
    let mut d: rust_decimal::Decimal = value
        .parse()
        .map_err(|_| format!("net {value:?} is not a decimal"))?;
    let exponent = u32::from(currency.exponent());
    if d.normalize().scale() > exponent {
        return Err(format!(
            "net {value} has more decimals than {} allows",
            currency.as_str()
        ));
    }
    d.rescale(exponent);
    i64::try_from(d.mantissa()).map_err(|_| format!("net {value} is too large"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    store::to_hex(&Sha256::digest(bytes)).to_ascii_lowercase()
}

/// JSON with object keys sorted at every level and no insignificant whitespace: two events
/// that differ only in key order or spacing hash the same.
fn canonical_json(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_key_order_and_spacing() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": [1, {"y":2,"x":1}], "a": "é"}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a":"é","b":[1,{"x":1,"y":2}]}"#).unwrap();
        let (mut ca, mut cb) = (String::new(), String::new());
        canonical_json(&a, &mut ca);
        canonical_json(&b, &mut cb);
        assert_eq!(ca, cb);
        assert_eq!(ca, r#"{"a":"é","b":[1,{"x":1,"y":2}]}"#);
    }

    #[test]
    fn batch_nets_keep_their_sign() {
        assert_eq!(signed_minor("2423.41", "EUR"), Ok(242_341));
        assert_eq!(signed_minor("-12.5", "EUR"), Ok(-1250));
        assert!(signed_minor("1.234", "EUR").is_err());
    }
}
