//! Faults on demand, as a pure planner: the answers go in, the answers to send come out, each
//! with the ticks to hold it and what it is. Every choice is a hash of (seed, fault, position and
//! message id), so the same answers and seed give the same plan.
//!
//! - `dup`: an answer is sent twice (same id, same bytes), right after itself;
//! - `reorder`: two neighbouring answers swap (ACSC before ACCP, camt.054 before the pacs.002);
//! - `delay`: an answer (and its duplicate) is held 1 to `max_delay_ticks` ticks;
//! - `malformed`: a garbage message follows an answer: its first half (truncated XML, or ISO
//!   8583 bytes that end inside a field), with its own id `BAD…` and type `malformed`.

use std::str::FromStr;

use super::{Answer, PerMille, SimError, pick, sim_id};

/// Which faults, how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Answers sent twice.
    pub dup: PerMille,
    /// Neighbouring pairs swapped.
    pub reorder: PerMille,
    /// Answers held back.
    pub delay: PerMille,
    /// The longest hold, in ticks (at least 1 when `delay` is on).
    pub max_delay_ticks: u32,
    /// Garbage messages added.
    pub malformed: PerMille,
}

/// The rate each fault named in a `--faults` list gets.
pub const DEFAULT_RATE: u16 = 50;
/// The longest hold when `delay` is named.
pub const DEFAULT_MAX_DELAY: u32 = 5;

impl Faults {
    /// No fault.
    pub fn none() -> Faults {
        Faults::default()
    }
}

/// `dup,reorder,delay,malformed` (any subset, any order; empty for none), each at
/// [`DEFAULT_RATE`]‰.
impl FromStr for Faults {
    type Err = SimError;

    fn from_str(list: &str) -> Result<Faults, SimError> {
        let mut faults = Faults::none();
        let rate = PerMille::new(DEFAULT_RATE)?;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "dup" => faults.dup = rate,
                "reorder" => faults.reorder = rate,
                "delay" => {
                    faults.delay = rate;
                    faults.max_delay_ticks = DEFAULT_MAX_DELAY;
                }
                "malformed" => faults.malformed = rate,
                other => {
                    return Err(SimError::Config(format!(
                        "fault {other:?}: expected dup, reorder, delay or malformed"
                    )));
                }
            }
        }
        Ok(faults)
    }
}

/// What a planned message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlannedKind {
    /// An answer as the rules made it.
    Answer,
    /// The second copy of an answer.
    Duplicate,
    /// Garbage the bank sends on purpose.
    Malformed,
}

/// One message to send, after `delay_ticks` ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The message.
    pub answer: Answer,
    /// Ticks to hold it (0: now).
    pub delay_ticks: u32,
    /// What it is.
    pub kind: PlannedKind,
}

/// Plans the sending of `answers` with `faults`, seeded by `seed`.
pub fn plan(answers: Vec<Answer>, faults: &Faults, seed: u64) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::with_capacity(answers.len());
    for (i, answer) in answers.into_iter().enumerate() {
        let key = format!("{i}:{}", answer.message_id);
        let delay_ticks = if faults.delay.hits(pick(seed, "delay", &key)) {
            1 + (pick(seed, "delay-ticks", &key) % u64::from(faults.max_delay_ticks.max(1))) as u32
        } else {
            0
        };
        let duplicate = faults.dup.hits(pick(seed, "dup", &key));
        let garbage = faults
            .malformed
            .hits(pick(seed, "malformed", &key))
            .then(|| Answer {
                message_id: format!("BAD{}", sim_id(seed, "malformed", &key).split_off(3)),
                message_type: "malformed".into(),
                bytes: truncated(&answer.bytes),
                stage: answer.stage,
            });
        if duplicate {
            out.push(Planned {
                answer: answer.clone(),
                delay_ticks,
                kind: PlannedKind::Answer,
            });
            out.push(Planned {
                answer,
                delay_ticks,
                kind: PlannedKind::Duplicate,
            });
        } else {
            out.push(Planned {
                answer,
                delay_ticks,
                kind: PlannedKind::Answer,
            });
        }
        if let Some(garbage) = garbage {
            out.push(Planned {
                answer: garbage,
                delay_ticks,
                kind: PlannedKind::Malformed,
            });
        }
    }
    // Reorder: walk neighbouring pairs once; a swapped pair is not swapped again.
    let mut j = 0;
    while j + 1 < out.len() {
        let key = match out.get(j) {
            Some(p) => format!("{j}:{}", p.answer.message_id),
            None => break,
        };
        if faults.reorder.hits(pick(seed, "reorder", &key)) {
            out.swap(j, j + 1);
            j += 2;
        } else {
            j += 1;
        }
    }
    out
}

/// The first half of a message: XML that does not close, ISO 8583 that ends inside a field.
fn truncated(bytes: &[u8]) -> Vec<u8> {
    match bytes.get(..bytes.len() / 2) {
        Some(half) if !half.is_empty() => half.to_vec(),
        _ => b"<".to_vec(),
    }
}
