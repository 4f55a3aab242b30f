//! The bank simulator's pure core: what a bank answers to the messages Clearway sends it, by
//! simple, documented, seeded rules. No broker, no database, no wall clock: the caller hands in
//! the request bytes and a [`SimConfig`] (seed, rates, simulated clock) and gets [`Answer`]s back;
//! the same seed and the same request give byte-identical answers, so an interrupted and resumed
//! run produces the same figures.
//!
//! - [`answer`] (in `answer.rs`): one request → its answers (ISO 8583 responses, pacs.002,
//!   camt.054, pacs.004, camt.029), each a valid message in the profile's dialect or envelope;
//! - [`statement`]: the bookings the bank made, per account, and the end-of-day camt.053;
//! - [`journal`]: one JSON line per message received, dedupe by `message_id`, reopened after a
//!   restart;
//! - [`faults`]: a pure planner that duplicates, reorders, delays or garbles answers on demand;
//! - [`Bank`]: the four together, what `clearway bank-sim` calls per delivery;
//! - [`run`]: the simulator's day (timing, end of day, crash recovery) for the AMQP loop in
//!   `broker::banksim`.
//!
//! Every "random" choice is a hash of (seed, what is decided, the message's id): see [`pick`].

mod answer;
pub mod faults;
pub mod journal;
pub mod run;
pub mod statement;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sha2::{Digest, Sha256};

pub use answer::{answer, identify};
pub use faults::{Faults, Planned, PlannedKind, plan};
pub use journal::{Journal, JournalEntry};
pub use statement::{Booking, Ledger};

/// When an answer leaves the bank, relative to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Stage {
    /// At once: ISO 8583 responses, pacs.002 ACCP or RJCT, camt.029.
    Immediate,
    /// At settlement: pacs.002 ACSC, camt.054, the pacs.004 that follows a cancellation.
    Later,
    /// At the end of the day: the pacs.004 of a settled payment that comes back (after its
    /// camt.054, before the statement that books it).
    EndOfDay,
}

/// One message the bank sends back.
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    /// Deterministic: `SIM` + hash for ISO 20022 (the MsgId), `MTI-STAN-RRN-acquirer` for
    /// ISO 8583 (the same shape as Clearway's own keys). The AMQP `message_id` to publish with.
    pub message_id: String,
    /// `0110`, `pacs.002.001.10`, …
    pub message_type: String,
    /// The wire bytes (ISO 8583 answers echo DE 2: never print them).
    pub bytes: Vec<u8>,
    /// When it leaves.
    pub stage: Stage,
}

/// Debug never shows the bytes (an ISO 8583 answer carries the PAN).
impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("message_id", &self.message_id)
            .field("message_type", &self.message_type)
            .field("len", &self.bytes.len())
            .field("stage", &self.stage)
            .finish()
    }
}

/// A rate in per-mille (0 to 1000): integer, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PerMille(u16);

impl PerMille {
    /// Never.
    pub const ZERO: PerMille = PerMille(0);
    /// Always.
    pub const ALL: PerMille = PerMille(1000);

    /// `value` per mille; above 1000 is an error.
    pub fn new(value: u16) -> Result<PerMille, SimError> {
        if value <= 1000 {
            Ok(PerMille(value))
        } else {
            Err(SimError::Config(format!("rate {value}‰ is above 1000‰")))
        }
    }

    /// The per-mille value.
    pub fn get(self) -> u16 {
        self.0
    }

    /// True for `hash` in the lower `self` thousandths.
    pub fn hits(self, hash: u64) -> bool {
        hash % 1000 < u64::from(self.0)
    }
}

/// A decimal fraction such as `0.05` (5 %, 50‰); more precision than per-mille is refused.
impl FromStr for PerMille {
    type Err = SimError;

    fn from_str(text: &str) -> Result<PerMille, SimError> {
        let bad = |why: &str| SimError::Config(format!("rate {text:?}: {why}"));
        let value = Decimal::from_str(text.trim()).map_err(|_| bad("not a decimal number"))?;
        if value.is_sign_negative() || value > Decimal::ONE {
            return Err(bad("a fraction from 0 to 1 is expected"));
        }
        let per_mille = value * Decimal::from(1000);
        if per_mille.fract() != Decimal::ZERO {
            return Err(bad("more precise than 0.001"));
        }
        let n = per_mille.to_u16().ok_or_else(|| bad("out of range"))?;
        PerMille::new(n)
    }
}

/// How the simulated bank behaves. Every choice derives from `seed`; `clock` is the simulated
/// time answers are stamped with (CreDtTm, booking dates), never the wall clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Seeds every decision.
    pub seed: u64,
    /// Card authorizations (0100, 0200) declined, credit transfers rejected (pacs.002 RJCT).
    pub reject_rate: PerMille,
    /// Settled credit transfers that come back as pacs.004 at the end of the day.
    pub return_rate: PerMille,
    /// Cancellation requests refused (camt.029 RJCR).
    pub cancel_reject_rate: PerMille,
    /// The simulated time of the request.
    pub clock: DateTime<Utc>,
}

impl SimConfig {
    /// Nothing rejected, returned or refused, at `clock`.
    pub fn new(seed: u64, clock: DateTime<Utc>) -> SimConfig {
        SimConfig {
            seed,
            reject_rate: PerMille::ZERO,
            return_rate: PerMille::ZERO,
            cancel_reject_rate: PerMille::ZERO,
            clock,
        }
    }
}

/// Why the bank could not read or answer a message, or write its files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The ISO 8583 bytes do not unpack with the profile's dialect (field and offset inside).
    #[error("ISO 8583: {0}")]
    Iso8583(String),
    /// An ISO 20022 message must be UTF-8.
    #[error("ISO 20022: input is not UTF-8 at byte {0}")]
    NotUtf8(usize),
    /// The XML does not read as a supported ISO 20022 message (path and offset inside).
    #[error("ISO 20022: {0}")]
    Iso20022(String),
    /// A message this bank does not answer (an answer itself, or a type it does not know).
    #[error("{0}: not a request this bank answers")]
    Unanswered(String),
    /// The profile cannot be simulated (no dialect, …).
    #[error("profile {profile}: {problem}")]
    Profile {
        /// Profile id.
        profile: String,
        /// What is missing.
        problem: String,
    },
    /// An answer could not be built (a bug, or a request field the answer cannot carry).
    #[error("building {message_type}: {problem}")]
    Build {
        /// The answer's type.
        message_type: String,
        /// Why.
        problem: String,
    },
    /// A bad setting.
    #[error("config: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {problem}")]
    Io {
        /// The file.
        path: String,
        /// Why (with the line for a journal that does not read).
        problem: String,
    },
}

/// The seeded choice for `what` about `id`: the first 8 bytes of SHA-256(seed, what, id). Same
/// inputs, same value, on every machine and after every restart.
pub fn pick(seed: u64, what: &str, id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update((what.len() as u64).to_be_bytes());
    h.update(what.as_bytes());
    h.update(id.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    for (slot, byte) in first.iter_mut().zip(digest.iter()) {
        *slot = *byte;
    }
    u64::from_be_bytes(first)
}

/// A derived message id: `SIM` and 32 hex digits (35 characters, the Max35Text limit).
pub fn sim_id(seed: u64, what: &str, id: &str) -> String {
    let a = pick(seed, what, id);
    let b = pick(seed.wrapping_add(1), what, id);
    format!("SIM{a:016X}{b:016X}")
}

/// One delivery as the bank sees it.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The queue it came from.
    pub queue: &'a str,
    /// The AMQP `message_id` (a delivery without one is keyed by the hash of its body).
    pub message_id: Option<&'a str>,
    /// The body, unchanged.
    pub body: &'a [u8],
}

/// What the bank did with one delivery.
#[derive(Debug, Clone)]
pub struct Received {
    /// The journal line written for it.
    pub entry: JournalEntry,
    /// Its answers (none for a duplicate or an unreadable message), not yet fault-planned.
    pub answers: Vec<Answer>,
    /// Why there are no answers, when the message could not be read or answered.
    pub error: Option<SimError>,
}

/// A simulated bank: profile, rules, journal and ledger. Both files survive a restart: the
/// journal's dedupe set and the ledger's bookings are read back, so an interrupted and resumed
/// run answers and books as an uninterrupted one (a message whose journal line a crash cut
/// off is answered again, as a real bank might, but not booked twice).
pub struct Bank {
    profile: adapters::Profile,
    config: SimConfig,
    journal: Journal,
    ledger: Ledger,
}

impl Bank {
    /// A bank for `profile` writing to `journal` (reopened: the dedupe set is rebuilt from it),
    /// with its bookings in memory.
    pub fn new(profile: adapters::Profile, config: SimConfig, journal: Journal) -> Bank {
        let ledger = Ledger::new(&profile.id, config.seed);
        Bank::with_ledger(profile, config, journal, ledger)
    }

    /// As [`Bank::new`], with a ledger of its own (e.g. [`Ledger::open`] on a file).
    pub fn with_ledger(
        profile: adapters::Profile,
        config: SimConfig,
        journal: Journal,
        ledger: Ledger,
    ) -> Bank {
        Bank {
            profile,
            config,
            journal,
            ledger,
        }
    }

    /// The simulated clock moves (the bank stamps what follows with it).
    pub fn set_clock(&mut self, clock: DateTime<Utc>) {
        self.config.clock = clock;
    }

    /// Receives one delivery: journals it, and answers it unless it is a duplicate (a message
    /// id seen before, in this run or before a restart) or cannot be read. Only a journal that
    /// cannot be written is an error.
    pub fn receive(&mut self, delivery: Delivery<'_>) -> Result<Received, SimError> {
        let body_key;
        let message_id = match delivery.message_id {
            Some(id) => id,
            None => {
                body_key = sim_id(0, "body", &String::from_utf8_lossy(delivery.body));
                body_key.as_str()
            }
        };
        let message_type = identify(&self.profile, delivery.body);
        let at = self.config.clock.to_rfc3339();
        // Answer and book first, journal last: a crash in between answers again on redelivery
        // (the ledger absorbs the repeated bookings), never loses a booking.
        let outcome = if self.journal.seen(message_id) {
            None
        } else {
            Some(answer::respond(&self.profile, delivery.body, &self.config))
        };
        let (answers, error) = match outcome {
            None => (Vec::new(), None),
            Some(Ok(response)) => {
                for booking in response.bookings {
                    self.ledger.book(booking)?;
                }
                (response.answers, None)
            }
            Some(Err(error)) => (Vec::new(), Some(error)),
        };
        let entry = self
            .journal
            .record(message_id, &message_type, delivery.queue, &at)?;
        Ok(Received {
            entry,
            answers,
            error,
        })
    }

    /// The bookings so far.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The journal.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }
}
