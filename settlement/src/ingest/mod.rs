//! The consumer's work: a batch of deliveries in ONE transaction. It decides nothing of its own:
//! `adapters` decodes and maps, [`crate::lifecycle::step`] says what an input does to an item,
//! and [`crate::store::Tx`] writes the inbox rows, items, transitions, outbox rows and dead
//! letters of the whole batch with one multi-row statement per table.
//!
//! Per delivery, in order:
//! 1. decode (`decode.rs`): `clearway.events` → JSON with its event id, read as an
//!    `adapters::Event` and mapped (`plan.rs`) only once the key proves fresh;
//!    `clearway.bank.<id>.in` → status events through the profile's inbound reader
//!    ([`read_answer`]); anything else, or bytes that do not decode, is a dead letter `decode`;
//! 2. dedupe by key (`event/<event_id>`, `bank/<status_id>`, `undecodable/<sha256>` for
//!    poison) and the SHA-256 of the canonical payload (JSON re-serialised with sorted keys;
//!    bank bytes as they are): same key and hash → `Duplicate`, same key and another hash →
//!    dead letter `conflict`; the second copy inside one batch is a duplicate as well. A
//!    dead letter is recorded once per key and hash: the same conflict or poison again is a
//!    `Duplicate`, or, when the broker flags it redelivered (the attempt before may have died
//!    between its commit and its dead-letter publish), `DeadLetterAgain`: no new effect, but
//!    published to the dead queue again, so the dead queue gets each at least once;
//! 3. apply (`apply.rs`): an event creates its items (or is an input on an existing one) and writes its
//!    message to the outbox; an answer resolves to its item by the reference it quotes (STAN
//!    and RRN for cards) and is a lifecycle input. Refusals by `adapters::adapt` are dead
//!    letters `unmapped` (no mapping built, no profile) or `invalid` (with every reason).
//!    A follow-up (cancel, reversal, capture) whose item does not exist yet parks
//!    (`park.rs`) and is applied, in `occurred_at` order, by the transaction that creates
//!    the item. An answer always finds its item or nothing: the outbox row it answers was
//!    written in the transaction that created the item, so an unknown reference stays a dead
//!    letter `unmapped`.
//!
//! Card numbers never reach the store: items keep an HMAC-SHA256 token under the store's key
//! and `card_tokens` the masked form.

mod apply;
mod decode;
mod park;
mod plan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use adapters::profile::{Channel, Profile, ProfileError};
use adapters::status::StatusEvent;

use crate::flow::{DeadReason, Disposition, Handler, Incoming, Prepared, Transient};
use crate::store::{self, Store, Writes};
use apply::{Work, dead, reference_of};
use decode::{Body, Decoded};

/// The queue wallet events arrive on.
pub const EVENTS_QUEUE: &str = "clearway.events";

/// Bank queues are `<BANK_QUEUE_PREFIX><id>.in` (answers) and `<BANK_QUEUE_PREFIX><id>.out`.
pub const BANK_QUEUE_PREFIX: &str = "clearway.bank.";

/// The batch handler: the store, the bank profiles by id (dialects loaded with them) and the
/// card-token key.
pub struct Ingest {
    store: Store,
    profiles: BTreeMap<String, Profile>,
    pan_key: Vec<u8>,
    sealer: crate::seal::Sealer,
    /// The events queue and the bank queue prefix (a topology prefix other than `clearway`
    /// changes both; see [`Ingest::with_queue_names`]).
    events_queue: String,
    bank_prefix: String,
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
            sealer: crate::seal::Sealer::new(&pan_key),
            pan_key,
            events_queue: EVENTS_QUEUE.to_owned(),
            bank_prefix: BANK_QUEUE_PREFIX.to_owned(),
        })
    }

    /// The same handler for a topology under another prefix: events arrive on `events_queue`,
    /// answers on `<bank_prefix><id>.in`, and outbound messages go to `<bank_prefix><id>.out`
    /// (by default `clearway.events` and `clearway.bank.`).
    pub fn with_queue_names(
        mut self,
        events_queue: impl Into<String>,
        bank_prefix: impl Into<String>,
    ) -> Ingest {
        self.events_queue = events_queue.into();
        self.bank_prefix = bank_prefix.into();
        self
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Handles one batch in one transaction (see the module documentation).
    pub async fn ingest(&self, batch: &[Incoming]) -> Result<Vec<Disposition>, store::Error> {
        let mut decoded = self.prepare_batch(batch).await;
        self.commit_batch(batch, &mut decoded).await
    }

    /// The work before the transaction: decodes every delivery and maps the events whose key
    /// the inbox does not hold yet (the first copy of each key in the batch). The inbox is read
    /// outside any transaction, so this is only a head start: the commit reads it again under
    /// its own write lock, maps whatever is fresh and still unmapped, and ignores the mapping
    /// of anything that turned out to be a duplicate or a conflict meanwhile (an instance
    /// beside this one). Inbox rows are never deleted, so a key seen here stays seen.
    async fn prepare_batch(&self, batch: &[Incoming]) -> Vec<Decoded> {
        let mut decoded: Vec<Decoded> = batch.iter().map(|d| self.decode(d)).collect();
        let keys: Vec<String> = decoded
            .iter()
            .filter(|d| matches!(d.body, Body::Json(_)))
            .filter_map(|d| d.key.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if keys.is_empty() {
            return decoded;
        }
        // A failed read maps nothing here: the commit does it (and reports the error).
        let Ok(seen) = self.store.inbox_keys_seen(&keys).await else {
            return decoded;
        };
        let mut first = BTreeSet::new();
        for d in &mut decoded {
            let Some(key) = d.key.as_deref() else {
                continue;
            };
            if seen.contains(key) || !first.insert(key.to_owned()) {
                continue;
            }
            if let Body::Json(value) = &mut d.body {
                let value = std::mem::take(value.as_mut());
                d.body = self.read_event_value(value);
            }
        }
        decoded
    }

    /// The transaction of one batch, over what [`Ingest::prepare_batch`] made of it. May run
    /// again over the same `decoded` after a transient error (it only ever maps more of it).
    async fn commit_batch(
        &self,
        batch: &[Incoming],
        decoded: &mut [Decoded],
    ) -> Result<Vec<Disposition>, store::Error> {
        let mut tx = self.store.begin().await?;

        let keys: Vec<String> = decoded
            .iter()
            .filter_map(|d| d.key.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let seen = tx.inbox_hashes(&keys).await?;

        // Dead letters recorded before, for the deliveries that would be one again: a
        // conflict (its key is in the inbox with another hash) or poison with no inbox key.
        // Another copy is absorbed (published again only when flagged redelivered).
        // A delivery the broker flags redelivered is looked up too: if it was dead-lettered
        // before, its dead-letter publish may have been cut off by a crash after the commit.
        let dead_keys: Vec<String> = decoded
            .iter()
            .zip(batch)
            .filter_map(|(d, incoming)| match d.key.as_deref() {
                Some(key) => (incoming.redelivered || seen.get(key).is_some_and(|h| *h != d.hash))
                    .then(|| key.to_owned()),
                None => Some(format!("unkeyed/{}", d.hash)),
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let dead_seen = if dead_keys.is_empty() {
            BTreeMap::new()
        } else {
            tx.dead_letters_seen(&dead_keys).await?
        };

        // Fresh deliveries: not seen before, and the first copy within the batch.
        let mut verdicts: Vec<Option<Disposition>> = vec![None; decoded.len()];
        let mut batch_hashes: BTreeMap<&str, &str> = BTreeMap::new();
        let mut w = Writes::default();
        for (i, d) in decoded.iter().enumerate() {
            let dead_key = d
                .key
                .clone()
                .unwrap_or_else(|| format!("unkeyed/{}", d.hash));
            if let Some(recorded) = dead_seen.get(&(dead_key, d.hash.clone())) {
                verdicts[i] = Some(match DeadReason::parse(recorded) {
                    // published again: the first attempt may have died before its publish
                    Some(reason) if batch[i].redelivered => Disposition::DeadLetterAgain {
                        reason,
                        detail: format!(
                            "redelivered; dead-lettered before as {recorded} (payload sha256 {})",
                            d.hash
                        ),
                    },
                    _ => Disposition::Duplicate,
                });
                continue;
            }
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
        for (d, verdict) in decoded.iter_mut().zip(&verdicts) {
            if verdict.is_some() {
                continue;
            }
            if let Body::Json(value) = &mut d.body {
                let value = std::mem::take(value.as_mut());
                d.body = self.read_event_value(value);
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
        // One payment's events decide one at a time across instances: a follow-up that
        // parks and the event that creates its item never commit blind to each other.
        let item_ids_planned: Vec<String> = item_ids.iter().cloned().collect();
        tx.lock_items(&item_ids_planned).await?;
        // Follow-ups parked earlier for the items this batch may create.
        let created: Vec<String> = fresh()
            .filter_map(|d| match &d.body {
                Body::Event(Ok(plan)) => Some(plan.legs.iter().map(|l| l.id.clone())),
                _ => None,
            })
            .flatten()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut waiting: BTreeMap<String, Vec<park::Waiting>> = BTreeMap::new();
        if !created.is_empty() {
            for row in tx.parked(&created).await? {
                let waiting_for = row.item_id.clone();
                let w = self.unsealed(row)?;
                if let Ok(plan) = &w.plan {
                    message_ids.insert(plan.message_id.clone());
                }
                waiting.entry(waiting_for).or_default().push(w);
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
            bank_prefix: &self.bank_prefix,
            waiting,
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
        // the wire bytes hold card numbers and names: sealed before they touch the database
        for row in &mut w.outbox {
            row.payload = self.sealer.seal(&row.message_id, &row.payload);
        }
        for row in &mut w.parked {
            row.body = self.sealer.seal(&parked_seal_id(&row.key), &row.body);
        }
        tx.write(&w).await?;
        tx.commit().await?;
        Ok(verdicts
            .into_iter()
            .map(|v| v.unwrap_or(Disposition::Applied))
            .collect())
    }
}

impl Ingest {
    /// A `parked` row back to a waiting follow-up, planned with today's profiles. A body that
    /// does not open with this store's key stops the batch (nothing is dropped).
    fn unsealed(&self, row: store::ParkedRow) -> Result<park::Waiting, store::Error> {
        let body = self
            .sealer
            .open(&parked_seal_id(&row.key), row.body)
            .map_err(|e| store::Error::Corrupt {
                column: "parked.body_sealed_hex",
                value: e.to_string(),
            })?;
        let plan = match self.read_event(&body) {
            Body::Event(plan) => plan,
            Body::Dead(reason, detail) => Err((reason, detail)),
            Body::Json(_) | Body::Answers(_) => Err((DeadReason::Decode, "not an event".into())),
        };
        Ok(park::Waiting {
            key: row.key,
            event_id: row.event_id,
            occurred_at: row.occurred_at,
            hash: row.payload_sha256,
            queue: row.queue,
            body,
            plan,
        })
    }
}

/// The id a parked body is sealed under (distinct from every outbox message id).
fn parked_seal_id(key: &str) -> String {
    format!("parked/{key}")
}

/// A batch decoded, with its fresh events mapped, before its transaction.
struct PreparedBatch(Vec<Decoded>);

impl Handler for Ingest {
    async fn prepare(&self, batch: &[Incoming]) -> Prepared {
        Prepared::new(PreparedBatch(self.prepare_batch(batch).await))
    }

    async fn commit(
        &self,
        batch: &[Incoming],
        prepared: &mut Prepared,
    ) -> Result<Vec<Disposition>, Transient> {
        match prepared.get_mut::<PreparedBatch>() {
            Some(PreparedBatch(decoded)) if decoded.len() == batch.len() => self
                .commit_batch(batch, decoded)
                .await
                .map_err(Transient::from),
            // not ours (or not this batch's): start from the bytes
            _ => self.ingest(batch).await.map_err(Transient::from),
        }
    }

    async fn handle(&self, batch: &[Incoming]) -> Result<Vec<Disposition>, Transient> {
        self.ingest(batch).await.map_err(Transient::from)
    }
}

/// A bank message → its status events, through the profile's inbound reader (ISO 8583 bytes or
/// ISO 20022 XML).
pub fn read_answer(
    profile: &Profile,
    bytes: &[u8],
) -> Result<Vec<StatusEvent>, (DeadReason, String)> {
    if profile.channel == Channel::Iso8583 && profile.dialect().is_none() {
        return Err((
            DeadReason::Unmapped,
            format!("profile {}: no ISO 8583 dialect loaded", profile.id),
        ));
    }
    adapters::inbound::read(profile, bytes, false).map_err(|e| (DeadReason::Decode, e.to_string()))
}
