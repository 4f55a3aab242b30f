//! The simulator's day, without a broker: what `clearway bank-sim` does per delivery and at the
//! end of the day, and the small state file that makes it crash-safe. The AMQP loop
//! (`broker::banksim`) feeds deliveries in, sends what [`Intake`] says when it says, reports
//! back with [`Simulator::complete`], and only then acks.
//!
//! When answers leave, in ticks (`broker::banksim` makes a tick 50 ms): `Immediate` answers at
//! 0, `Later` ones at [`LATER_TICKS`], each plus the ticks the `delay` fault planned; the plan's
//! order is kept (an answer never leaves before one the plan put ahead of it, so a `reorder`
//! that puts an ACSC before its ACCP holds the ACCP too). `EndOfDay` answers (and anything the
//! plan put after one) wait for the day to close.
//!
//! The day closes on stop (SIGTERM), when the day saw at least one request or holds end-of-day
//! answers, and after every `day_close_after` new requests when that is set. Closing sends the
//! day's end-of-day answers, then writes one camt.053 per account (`Ledger::write_statements`)
//! and moves the simulated clock one day on (`start + day` days).
//!
//! Crash safety, with a journal file `J`: the ledger is kept in `J.ledger` and the state in
//! `J.state`, one JSON line each:
//! - `open` (first line): start time, seed and bank, checked when reopening;
//! - `done`: a request whose answers were all confirmed except its end-of-day ones, which the
//!   line carries (hex; ISO 20022 only, so never card data);
//! - `eod_sent`, `closed`: the two halves of a day close.
//!
//! The loop acks a delivery only after its `done` line is written, so a request is in one of
//! three states after a crash: never journaled (answered as new), journaled and done (a
//! duplicate, not answered again), or journaled and not done. The last is recovered when the
//! broker redelivers it: its answers are rebuilt from the body with the clock of its journal line
//! and planned again, which gives the same answers (same ids, same bytes) as the lost run; those
//! that had already left leave again with the same `message_id`, which receivers dedupe. ISO 8583
//! answers, which echo the PAN, therefore never need to be written anywhere: they all leave
//! before the ack.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::journal::mask_card_numbers;
use super::{
    Answer, Bank, Delivery, Faults, Journal, JournalEntry, Ledger, Planned, PlannedKind, SimConfig,
    SimError, Stage, answer, plan, sim_id,
};

/// Ticks between a request and its `Later` answers (ACSC, camt.054).
pub const LATER_TICKS: u32 = 2;

/// What a simulator is made of. See the module documentation for the files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bank.
    pub profile: adapters::Profile,
    /// Seed, rates and the clock of day 0 (`config.clock`).
    pub config: SimConfig,
    /// Faults on demand.
    pub faults: Faults,
    /// The journal file (`None`: in memory, nothing survives a restart).
    pub journal: Option<PathBuf>,
    /// Where the end-of-day camt.053 files go (`None`: not written).
    pub statements: Option<PathBuf>,
    /// Close the day after this many new requests (besides on stop).
    pub day_close_after: Option<u64>,
}

/// One answer to send, `due_ticks` after its request arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    /// The message (its `message_id` is the AMQP one).
    pub answer: Answer,
    /// What it is (an answer, a duplicate of one, garbage).
    pub kind: PlannedKind,
    /// Ticks after the request.
    pub due_ticks: u32,
}

/// What to do with one delivery.
#[derive(Debug)]
pub struct Intake {
    /// The journal line of the request (for a recovered request, the line of its first
    /// reception: no new line is written).
    pub entry: JournalEntry,
    /// Seen and answered before (or being answered): nothing to send, ack at once.
    pub duplicate: bool,
    /// Journaled before a crash but never completed: answered again from its body.
    pub recovered: bool,
    /// Why it got no answers (unreadable, not a request), when that is the case.
    pub error: Option<SimError>,
    /// The answers to send, in order; after they are all confirmed, call `complete(ticket)`.
    pub sends: Vec<Timed>,
    /// Pass to [`Simulator::complete`]; `None` for a duplicate.
    pub ticket: Option<Ticket>,
}

/// A request being answered: what `complete` must persist.
#[derive(Debug)]
pub struct Ticket {
    key: String,
    end_of_day: Vec<Planned>,
}

/// One line of the state file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
enum StateLine {
    Open {
        start: String,
        seed: u64,
        bank: String,
    },
    Done {
        key: String,
        day: u32,
        eod: Vec<EodLine>,
    },
    EodSent {
        day: u32,
    },
    Closed {
        day: u32,
        date: String,
        statements: usize,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EodLine {
    message_id: String,
    message_type: String,
    kind: String,
    hex: String,
}

/// A closed day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayClosed {
    /// 0 for the first day.
    pub day: u32,
    /// Its date.
    pub date: NaiveDate,
    /// The camt.053 files written.
    pub statements: Vec<PathBuf>,
}

/// The simulator: a [`Bank`], its fault planner, its day and its state file.
pub struct Simulator {
    bank: Bank,
    profile: adapters::Profile,
    config: SimConfig,
    start: DateTime<Utc>,
    faults: Faults,
    statements: Option<PathBuf>,
    day_close_after: Option<u64>,
    state: Option<(PathBuf, File)>,
    done: HashSet<String>,
    in_flight: HashSet<String>,
    day: u32,
    day_requests: u64,
    eod: Vec<Planned>,
    eod_sent: bool,
}

impl Simulator {
    /// Opens the journal, ledger and state files (created when missing) and rebuilds the state
    /// from them; a day close a crash cut short after its answers left is finished here.
    pub fn open(settings: Settings) -> Result<Simulator, SimError> {
        let Settings {
            profile,
            config,
            faults,
            journal,
            statements,
            day_close_after,
        } = settings;
        if day_close_after == Some(0) {
            return Err(SimError::Config(
                "day_close_after must be at least 1".into(),
            ));
        }
        let (journal_file, ledger, state_path) = match &journal {
            None => (
                Journal::in_memory(),
                Ledger::new(&profile.id, config.seed),
                None,
            ),
            Some(path) => (
                Journal::open(path)?,
                Ledger::open(&sibling(path, "ledger"), &profile.id, config.seed)?,
                Some(sibling(path, "state")),
            ),
        };
        let bank = Bank::with_ledger(profile.clone(), config.clone(), journal_file, ledger);
        let mut sim = Simulator {
            bank,
            profile,
            start: config.clock,
            config,
            faults,
            statements,
            day_close_after,
            state: None,
            done: HashSet::new(),
            in_flight: HashSet::new(),
            day: 0,
            day_requests: 0,
            eod: Vec::new(),
            eod_sent: false,
        };
        if let Some(path) = state_path {
            sim.reopen_state(&path)?;
        }
        sim.set_day(sim.day);
        if sim.eod_sent {
            sim.close_day()?;
        }
        Ok(sim)
    }

    fn reopen_state(&mut self, path: &Path) -> Result<(), SimError> {
        let fail = |problem: String| SimError::Io {
            path: path.display().to_string(),
            problem,
        };
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        // A last line cut short by a crash was never followed by an ack: drop it.
        let whole = text
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |last| last + 1);
        let body = text.get(..whole).unwrap_or_default();
        let mut opened = false;
        for (i, line) in body.split(|b| *b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let at = |problem: String| fail(format!("line {}: {problem}", i + 1));
            let parsed: StateLine = serde_json::from_slice(line).map_err(|e| at(e.to_string()))?;
            match parsed {
                StateLine::Open { start, seed, bank } => {
                    if seed != self.config.seed || bank != self.profile.id {
                        return Err(at(format!(
                            "written by bank {bank:?} with seed {seed}; reopened as bank {:?} \
                             with seed {} (use another journal)",
                            self.profile.id, self.config.seed
                        )));
                    }
                    self.start = DateTime::parse_from_rfc3339(&start)
                        .map_err(|e| at(format!("start {start:?}: {e}")))?
                        .with_timezone(&Utc);
                    opened = true;
                }
                StateLine::Done { key, day, eod } => {
                    if day == self.day {
                        self.day_requests += 1;
                        for line in eod {
                            self.eod.push(eod_from_line(line).map_err(at)?);
                        }
                    }
                    self.done.insert(key);
                }
                StateLine::EodSent { day } => {
                    if day == self.day {
                        self.eod_sent = true;
                    }
                }
                StateLine::Closed { day, .. } => {
                    self.day = day.saturating_add(1);
                    self.day_requests = 0;
                    self.eod.clear();
                    self.eod_sent = false;
                }
            }
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(|e| fail(e.to_string()))?;
        file.set_len(whole as u64)
            .map_err(|e| fail(e.to_string()))?;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| fail(e.to_string()))?;
        self.state = Some((path.to_owned(), file));
        if !opened {
            let start = self.start.to_rfc3339();
            self.append(&StateLine::Open {
                start,
                seed: self.config.seed,
                bank: self.profile.id.clone(),
            })?;
        }
        Ok(())
    }

    fn append(&mut self, line: &StateLine) -> Result<(), SimError> {
        let Some((path, file)) = &mut self.state else {
            return Ok(());
        };
        let fail = |problem: String| SimError::Io {
            path: path.display().to_string(),
            problem,
        };
        let mut bytes = serde_json::to_vec(line).map_err(|e| fail(e.to_string()))?;
        bytes.push(b'\n');
        file.write_all(&bytes).map_err(|e| fail(e.to_string()))
    }

    fn set_day(&mut self, day: u32) {
        self.day = day;
        self.config.clock = self.start + chrono::Duration::days(i64::from(day));
        self.bank.set_clock(self.config.clock);
    }

    /// Receives one delivery: journals it (see [`Bank::receive`]) and plans its answers, or
    /// recovers a request a crash left unanswered. Only a file that cannot be written is an
    /// error.
    pub fn receive(&mut self, delivery: Delivery<'_>) -> Result<Intake, SimError> {
        let raw_key = match delivery.message_id {
            Some(id) => id.to_owned(),
            None => sim_id(0, "body", &String::from_utf8_lossy(delivery.body)),
        };
        let key = mask_card_numbers(&raw_key);
        let busy = self.done.contains(&key) || self.in_flight.contains(&key);
        let first_line = (!busy && self.bank.journal().seen(&raw_key)).then(|| {
            self.bank
                .journal()
                .entries()
                .iter()
                .find(|e| e.message_id == key && !e.duplicate)
                .cloned()
        });
        let (entry, recovered, answers, error) = match first_line.flatten() {
            Some(entry) => {
                // Journaled before a crash, never completed: answer again as it was answered.
                let mut config = self.config.clone();
                if let Ok(clock) = DateTime::parse_from_rfc3339(&entry.at) {
                    config.clock = clock.with_timezone(&Utc);
                }
                match answer(&self.profile, delivery.body, &config) {
                    Ok(answers) => (entry, true, answers, None),
                    Err(error) => (entry, true, Vec::new(), Some(error)),
                }
            }
            None => {
                let received = self.bank.receive(delivery)?;
                if received.entry.duplicate {
                    return Ok(Intake {
                        entry: received.entry,
                        duplicate: true,
                        recovered: false,
                        error: None,
                        sends: Vec::new(),
                        ticket: None,
                    });
                }
                (received.entry, false, received.answers, received.error)
            }
        };
        self.in_flight.insert(key.clone());
        self.day_requests += 1;
        let (sends, end_of_day) = schedule(plan(answers, &self.faults, self.config.seed));
        if !end_of_day.is_empty() && self.profile.channel == adapters::profile::Channel::Iso8583 {
            // They would have to be written to the state file, and they echo the PAN.
            return Err(SimError::Config(format!(
                "profile {}: an ISO 8583 answer planned for the end of the day",
                self.profile.id
            )));
        }
        Ok(Intake {
            entry,
            duplicate: false,
            recovered,
            error,
            sends,
            ticket: Some(Ticket { key, end_of_day }),
        })
    }

    /// Every answer of the ticket's request has been confirmed: record it done (with its
    /// end-of-day answers), after which its delivery may be acked.
    pub fn complete(&mut self, ticket: Ticket) -> Result<(), SimError> {
        let eod = ticket.end_of_day.iter().map(eod_to_line).collect();
        self.append(&StateLine::Done {
            key: ticket.key.clone(),
            day: self.day,
            eod,
        })?;
        self.in_flight.remove(&ticket.key);
        self.done.insert(ticket.key);
        self.eod.extend(ticket.end_of_day);
        Ok(())
    }

    /// The connection was lost: the requests being answered will come back as redeliveries and
    /// be recovered then.
    pub fn abandon_in_flight(&mut self) {
        let n = self.in_flight.len() as u64;
        self.day_requests = self.day_requests.saturating_sub(n);
        self.in_flight.clear();
    }

    /// True when `day_close_after` new requests were received today.
    pub fn day_full(&self) -> bool {
        self.day_close_after.is_some_and(|n| self.day_requests >= n)
    }

    /// True when closing the day now would do something (a request today, or answers waiting).
    pub fn day_has_activity(&self) -> bool {
        self.day_requests > 0 || !self.eod.is_empty()
    }

    /// The end-of-day answers to send before [`Simulator::close_day`], in order (none when a
    /// crash came after they were sent).
    pub fn end_of_day_answers(&self) -> Vec<Planned> {
        if self.eod_sent {
            Vec::new()
        } else {
            self.eod.clone()
        }
    }

    /// The end-of-day answers were confirmed.
    pub fn end_of_day_sent(&mut self) -> Result<(), SimError> {
        self.append(&StateLine::EodSent { day: self.day })?;
        self.eod_sent = true;
        Ok(())
    }

    /// Closes the day: writes the statements (when a directory is set), records the close and
    /// moves to the next day. Call after the end-of-day answers were sent and confirmed.
    pub fn close_day(&mut self) -> Result<DayClosed, SimError> {
        if !self.in_flight.is_empty() {
            return Err(SimError::Config(format!(
                "closing day {} with {} requests still being answered",
                self.day,
                self.in_flight.len()
            )));
        }
        let date = self.date();
        let statements = match &self.statements {
            Some(dir) => self.bank.ledger().write_statements(dir, date)?,
            None => Vec::new(),
        };
        let day = self.day;
        self.append(&StateLine::Closed {
            day,
            date: date.to_string(),
            statements: statements.len(),
        })?;
        self.eod.clear();
        self.eod_sent = false;
        self.day_requests = 0;
        self.set_day(day.saturating_add(1));
        Ok(DayClosed {
            day,
            date,
            statements,
        })
    }

    /// The current day's date (the simulated clock's).
    pub fn date(&self) -> NaiveDate {
        self.config.clock.date_naive()
    }

    /// The current day, 0 for the first.
    pub fn day(&self) -> u32 {
        self.day
    }

    /// The profile.
    pub fn profile(&self) -> &adapters::Profile {
        &self.profile
    }

    /// The bank (journal, ledger).
    pub fn bank(&self) -> &Bank {
        &self.bank
    }
}

/// The clock of day 0: `date` (`YYYY-MM-DD`, default today in UTC) at 10:00 UTC. Reopening a
/// journal keeps the start it was first opened with.
pub fn day_start(date: Option<&str>) -> Result<DateTime<Utc>, SimError> {
    let date = match date {
        None => Utc::now().date_naive(),
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|e| SimError::Config(format!("date {text:?}: {e} (expected YYYY-MM-DD)")))?,
    };
    date.and_hms_opt(10, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| SimError::Config(format!("date {date}: no 10:00")))
}

/// `J.ledger`, `J.state` beside the journal `J`.
fn sibling(journal: &Path, suffix: &str) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Splits a plan into what leaves during the day (with its tick) and what waits for the end of
/// it, keeping the plan's order: each answer's tick is at least its predecessor's.
fn schedule(planned: Vec<Planned>) -> (Vec<Timed>, Vec<Planned>) {
    let mut sends = Vec::with_capacity(planned.len());
    let mut end_of_day = Vec::new();
    let mut floor = 0u32;
    for p in planned {
        let base = match p.answer.stage {
            Stage::Immediate => Some(0),
            Stage::Later => Some(LATER_TICKS),
            Stage::EndOfDay => None,
        };
        match base {
            Some(base) if end_of_day.is_empty() => {
                floor = floor.max(base.saturating_add(p.delay_ticks));
                sends.push(Timed {
                    answer: p.answer,
                    kind: p.kind,
                    due_ticks: floor,
                });
            }
            _ => end_of_day.push(p),
        }
    }
    (sends, end_of_day)
}

fn kind_name(kind: PlannedKind) -> &'static str {
    match kind {
        PlannedKind::Answer => "answer",
        PlannedKind::Duplicate => "duplicate",
        PlannedKind::Malformed => "malformed",
    }
}

/// The value of the `x-clearway-fault` header for a planned message (`None` for an answer).
pub fn fault_name(kind: PlannedKind) -> Option<&'static str> {
    match kind {
        PlannedKind::Answer => None,
        other => Some(kind_name(other)),
    }
}

fn eod_to_line(p: &Planned) -> EodLine {
    use std::fmt::Write as _;
    let mut hex = String::with_capacity(p.answer.bytes.len() * 2);
    for b in &p.answer.bytes {
        let _ = write!(hex, "{b:02X}");
    }
    EodLine {
        message_id: p.answer.message_id.clone(),
        message_type: p.answer.message_type.clone(),
        kind: kind_name(p.kind).to_owned(),
        hex,
    }
}

fn eod_from_line(line: EodLine) -> Result<Planned, String> {
    let kind = match line.kind.as_str() {
        "answer" => PlannedKind::Answer,
        "duplicate" => PlannedKind::Duplicate,
        "malformed" => PlannedKind::Malformed,
        other => return Err(format!("unknown kind {other:?}")),
    };
    let digits = line.hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("{}: odd hex length", line.message_id));
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut bytes = Vec::with_capacity(digits.len() / 2);
    for pair in digits.chunks_exact(2) {
        match pair {
            [hi, lo] => match (nibble(*hi), nibble(*lo)) {
                (Some(h), Some(l)) => bytes.push((h << 4) | l),
                _ => return Err(format!("{}: not hex", line.message_id)),
            },
            _ => return Err(format!("{}: not hex", line.message_id)),
        }
    }
    Ok(Planned {
        answer: Answer {
            message_id: line.message_id,
            message_type: line.message_type,
            bytes,
            stage: Stage::EndOfDay,
        },
        delay_ticks: 0,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(id: &str, stage: Stage, delay_ticks: u32) -> Planned {
        Planned {
            answer: Answer {
                message_id: id.into(),
                message_type: "pacs.002.001.10".into(),
                bytes: b"<x/>".to_vec(),
                stage,
            },
            delay_ticks,
            kind: PlannedKind::Answer,
        }
    }

    #[test]
    fn schedule_keeps_the_plan_order() {
        use Stage::*;
        type Case<'a> = (&'a [(Stage, u32)], &'a [u32], usize);
        #[rustfmt::skip]
        let table: [Case<'_>; 5] = [
            (&[(Immediate, 0), (Later, 0), (Later, 0)], &[0, LATER_TICKS, LATER_TICKS], 0),
            (&[(Later, 0), (Immediate, 0)],             &[LATER_TICKS, LATER_TICKS], 0), // reordered
            (&[(Immediate, 3), (Later, 0)],             &[3, 3], 0),                     // delayed
            (&[(Immediate, 0), (EndOfDay, 0), (Later, 0)], &[0], 2),
            (&[(Later, 4), (Immediate, 0)],             &[LATER_TICKS + 4, LATER_TICKS + 4], 0),
        ];
        for (plan, ticks, eod) in table {
            let input = plan
                .iter()
                .enumerate()
                .map(|(i, (s, d))| planned(&format!("m{i}"), *s, *d))
                .collect();
            let (sends, end_of_day) = schedule(input);
            let got: Vec<u32> = sends.iter().map(|t| t.due_ticks).collect();
            assert_eq!(got, ticks, "{plan:?}");
            assert_eq!(end_of_day.len(), eod, "{plan:?}");
        }
    }

    #[test]
    fn end_of_day_lines_roundtrip() {
        let mut p = planned("SIM1", Stage::EndOfDay, 0);
        p.answer.bytes = vec![0, 0xAB, b'<', 0xFF];
        p.kind = PlannedKind::Malformed;
        let back = eod_from_line(eod_to_line(&p)).unwrap();
        assert_eq!(back, p);
        let mut bad = eod_to_line(&p);
        bad.hex.push('Z');
        assert!(eod_from_line(bad).is_err());
    }
}
