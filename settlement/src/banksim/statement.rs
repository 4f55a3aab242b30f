//! The bank's books: every settled debit and every return credit, per account, and the
//! end-of-day camt.053.001.08 per account and currency.
//!
//! A statement for `day` opens with the account's opening balance (derived from the seed and the
//! account, as a bank's books would start somewhere) plus every booking before `day`, lists the
//! day's bookings and closes with opening + credits − debits. Bookings of one original message
//! on one side (a pacs.008 with several transactions, e.g. a payout batch) are one entry with a
//! `Btch` and one `TxDtls` per transaction. Writing is a pure function of the bookings: writing
//! the same day twice gives the same bytes.
//!
//! A ledger opened on a file ([`Ledger::open`]) appends each booking as a JSON line and reads
//! them back after a restart, so a resumed run writes the same statements. Each booking has a
//! derived reference (`AcctSvcrRef`); a booking whose reference is already in the ledger is not
//! booked again, so a message answered again after a crash (before its journal line was
//! written) does not book twice.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDate;
use iso20022::model::common::{
    ActiveAmount, Code, CodeOrProprietary, CreditDebit, CurrencyCode, GroupHeader, IsoDate,
    IsoDateTime, MsgId,
};
use iso20022::model::statement::{
    AccountReport, Balance, BalanceType, DateAndDateTime, References, Statement,
};
use iso20022::wire::map::Rest;
use iso20022::wire::{Body, Document, Envelope, Version};
use rust_decimal::Decimal;

use super::answer::{cash_account, entry};
use super::{SimError, pick, sim_id};

/// The statement version written.
pub const STATEMENT_VERSION: &str = "camt.053.001.08";

/// An account at the bank: an IBAN or another identifier.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountRef {
    /// `Id/IBAN`.
    Iban(String),
    /// `Id/Othr/Id`.
    Other(String),
}

impl AccountRef {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        match self {
            AccountRef::Iban(s) | AccountRef::Other(s) => s,
        }
    }
}

/// One booking the bank made.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    /// The account booked.
    pub account: AccountRef,
    /// The amount (positive) and its currency.
    pub amount: ActiveAmount,
    /// Debit (a settled transfer) or credit (a return).
    pub credit_debit: CreditDebit,
    /// The message the booking belongs to: bookings of one batch and side share an entry.
    pub batch: String,
    /// The original references (MsgId, EndToEndId, TxId, UETR, InstrId).
    pub refs: References,
    /// The booking date (the simulated clock's).
    pub booked_on: NaiveDate,
    /// The bank's own reference (`AcctSvcrRef`), derived.
    pub reference: String,
}

/// Every booking, per account and currency, in booking order.
#[derive(Debug, Default)]
pub struct Ledger {
    bank: String,
    seed: u64,
    accounts: BTreeMap<(AccountRef, CurrencyCode), Vec<Booking>>,
    references: HashSet<String>,
    file: Option<(PathBuf, File)>,
}

/// A booking as one JSON line of a ledger file.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BookingLine {
    account: String,
    iban: bool,
    amount: String,
    ccy: String,
    credit: bool,
    batch: String,
    msg_id: Option<String>,
    instr_id: Option<String>,
    end_to_end_id: Option<String>,
    tx_id: Option<String>,
    uetr: Option<String>,
    /// `YYYY-MM-DD`.
    booked_on: String,
    reference: String,
}

impl BookingLine {
    fn of(b: &Booking) -> BookingLine {
        let text = |v: Option<&str>| v.map(str::to_owned);
        BookingLine {
            account: b.account.as_str().to_owned(),
            iban: matches!(b.account, AccountRef::Iban(_)),
            amount: b.amount.value.to_string(),
            ccy: b.amount.ccy.0.clone(),
            credit: b.credit_debit == CreditDebit::Credit,
            batch: b.batch.clone(),
            msg_id: text(b.refs.msg_id.as_ref().map(|v| v.as_str())),
            instr_id: text(b.refs.instr_id.as_ref().map(|v| v.as_str())),
            end_to_end_id: text(b.refs.end_to_end_id.as_ref().map(|v| v.as_str())),
            tx_id: text(b.refs.tx_id.as_ref().map(|v| v.as_str())),
            uetr: text(b.refs.uetr.as_ref().map(|v| v.as_str())),
            booked_on: b.booked_on.format("%Y-%m-%d").to_string(),
            reference: b.reference.clone(),
        }
    }

    fn into_booking(self) -> Result<Booking, String> {
        let value = Decimal::from_str(&self.amount)
            .map_err(|_| format!("amount {:?} is not a decimal", self.amount))?;
        Ok(Booking {
            account: if self.iban {
                AccountRef::Iban(self.account)
            } else {
                AccountRef::Other(self.account)
            },
            amount: ActiveAmount {
                value,
                ccy: CurrencyCode(self.ccy),
            },
            credit_debit: if self.credit {
                CreditDebit::Credit
            } else {
                CreditDebit::Debit
            },
            batch: self.batch,
            refs: References {
                msg_id: self.msg_id.map(MsgId),
                acct_svcr_ref: None,
                pmt_inf_id: None,
                instr_id: self.instr_id.map(iso20022::model::common::InstrId),
                end_to_end_id: self.end_to_end_id.map(iso20022::model::common::EndToEndId),
                uetr: self.uetr.map(iso20022::model::common::Uetr),
                tx_id: self.tx_id.map(iso20022::model::common::TxId),
                rest: Rest::default(),
            },
            booked_on: NaiveDate::parse_from_str(&self.booked_on, "%Y-%m-%d")
                .map_err(|_| format!("booked_on {:?} is not a date", self.booked_on))?,
            reference: self.reference,
        })
    }
}

impl Ledger {
    /// An empty ledger of bank `bank` (the profile id, used in file names).
    pub fn new(bank: &str, seed: u64) -> Ledger {
        Ledger {
            bank: bank.to_owned(),
            seed,
            ..Ledger::default()
        }
    }

    /// A ledger kept in `path` (created if missing): the bookings it holds are read back; a
    /// last line cut short by a crash is dropped (its message was not journaled, so it comes
    /// again); any other unreadable line is an error naming it.
    pub fn open(path: &Path, bank: &str, seed: u64) -> Result<Ledger, SimError> {
        let fail = |problem: String| SimError::Io {
            path: path.display().to_string(),
            problem,
        };
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        let whole = text
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |last| last + 1);
        let mut ledger = Ledger::new(bank, seed);
        for (i, line) in text
            .get(..whole)
            .unwrap_or_default()
            .split(|b| *b == b'\n')
            .enumerate()
        {
            if line.is_empty() {
                continue;
            }
            let booking = serde_json::from_slice::<BookingLine>(line)
                .map_err(|e| e.to_string())
                .and_then(BookingLine::into_booking)
                .map_err(|e| fail(format!("line {}: {e}", i + 1)))?;
            ledger.insert(booking);
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
        ledger.file = Some((path.to_owned(), file));
        Ok(ledger)
    }

    /// Books one more (written to the ledger file first, when there is one). Returns false when
    /// a booking with the same reference is already there: nothing is booked twice.
    pub fn book(&mut self, booking: Booking) -> Result<bool, SimError> {
        if self.references.contains(&booking.reference) {
            return Ok(false);
        }
        if let Some((path, file)) = &mut self.file {
            let fail = |problem: String| SimError::Io {
                path: path.display().to_string(),
                problem,
            };
            let mut line =
                serde_json::to_vec(&BookingLine::of(&booking)).map_err(|e| fail(e.to_string()))?;
            line.push(b'\n');
            file.write_all(&line).map_err(|e| fail(e.to_string()))?;
        }
        self.insert(booking);
        Ok(true)
    }

    fn insert(&mut self, booking: Booking) {
        self.references.insert(booking.reference.clone());
        self.accounts
            .entry((booking.account.clone(), booking.amount.ccy.clone()))
            .or_default()
            .push(booking);
    }

    /// The number of bookings.
    pub fn len(&self) -> usize {
        self.accounts.values().map(Vec::len).sum()
    }

    /// True when nothing was booked.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The opening balance of an account before its first booking (signed: credit positive),
    /// between 1,000,000 and 1,999,999 in whole units, from the seed.
    pub fn base_balance(&self, account: &AccountRef, ccy: &CurrencyCode) -> Decimal {
        let units = 1_000_000 + pick(self.seed, "opening", account.as_str()) % 1_000_000;
        let mut value = Decimal::from(units);
        value.rescale(ccy.exponent());
        value
    }

    /// The camt.053 of every account with a booking on or before `day`, one file each, written
    /// to `dir` (created if missing) as `<bank>_<account>_<ccy>_<day>.camt053.xml`. Returns
    /// the paths in account order.
    pub fn write_statements(&self, dir: &Path, day: NaiveDate) -> Result<Vec<PathBuf>, SimError> {
        let io = |path: &Path, e: std::io::Error| SimError::Io {
            path: path.display().to_string(),
            problem: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let mut paths = Vec::new();
        for ((account, ccy), bookings) in &self.accounts {
            let Some(xml) = self.statement(account, ccy, bookings, day)? else {
                continue;
            };
            let name = format!(
                "{}_{}_{}_{}.camt053.xml",
                safe(&self.bank),
                safe(account.as_str()),
                safe(ccy.as_str()),
                day.format("%Y-%m-%d")
            );
            let path = dir.join(name);
            std::fs::write(&path, xml).map_err(|e| io(&path, e))?;
            paths.push(path);
        }
        Ok(paths)
    }

    /// The camt.053 of one account for `day`, or `None` when it had no booking by then.
    pub fn statement_xml(
        &self,
        account: &AccountRef,
        ccy: &CurrencyCode,
        day: NaiveDate,
    ) -> Result<Option<String>, SimError> {
        match self.accounts.get(&(account.clone(), ccy.clone())) {
            Some(bookings) => self.statement(account, ccy, bookings, day),
            None => Ok(None),
        }
    }

    fn statement(
        &self,
        account: &AccountRef,
        ccy: &CurrencyCode,
        bookings: &[Booking],
        day: NaiveDate,
    ) -> Result<Option<String>, SimError> {
        if !bookings.iter().any(|b| b.booked_on <= day) {
            return Ok(None);
        }
        let signed = |b: &Booking| match b.credit_debit {
            CreditDebit::Credit => b.amount.value,
            CreditDebit::Debit => -b.amount.value,
        };
        let opening = self.base_balance(account, ccy)
            + bookings
                .iter()
                .filter(|b| b.booked_on < day)
                .map(signed)
                .sum::<Decimal>();
        let today: Vec<&Booking> = bookings.iter().filter(|b| b.booked_on == day).collect();
        let closing = opening + today.iter().map(|b| signed(b)).sum::<Decimal>();
        let date = IsoDate(day.format("%Y-%m-%d").to_string());
        let key = format!("{}/{}/{date}", account.as_str(), ccy.as_str());
        let id = sim_id(self.seed, "camt.053", &key);
        // One entry per (batch, side), in the order the batch was first booked.
        let mut groups: Vec<((&str, CreditDebit), Vec<&Booking>)> = Vec::new();
        for b in &today {
            let k = (b.batch.as_str(), b.credit_debit);
            match groups.iter_mut().find(|(g, _)| *g == k) {
                Some((_, members)) => members.push(b),
                None => groups.push((k, vec![b])),
            }
        }
        let mut entries = Vec::new();
        for (i, (_, members)) in groups.iter().enumerate() {
            let reference = match members.as_slice() {
                [one] => one.reference.clone(),
                _ => sim_id(self.seed, "camt.053-entry", &format!("{key}/{i}")),
            };
            entries.extend(entry(STATEMENT_VERSION, members, &reference, &date));
        }
        let listed: Decimal = entries
            .iter()
            .map(|e| match e.cdt_dbt_ind {
                CreditDebit::Credit => e.amt.value,
                CreditDebit::Debit => -e.amt.value,
            })
            .sum();
        // Money is neither created nor lost between the bookings and the entries.
        assert_eq!(opening + listed, closing, "statement {id} does not balance");
        let created = IsoDateTime(format!("{date}T23:59:59+00:00"));
        let balance = |code: &str, value: Decimal| Balance {
            tp: BalanceType {
                cd_or_prtry: Some(CodeOrProprietary {
                    cd: Some(Code::from(code)),
                    prtry: None,
                    rest: Rest::default(),
                }),
                rest: Rest::default(),
            },
            amt: amount(value.abs(), ccy),
            cdt_dbt_ind: if value.is_sign_negative() {
                CreditDebit::Debit
            } else {
                CreditDebit::Credit
            },
            dt: DateAndDateTime {
                dt: Some(date.clone()),
                dt_tm: None,
                rest: Rest::default(),
            },
            rest: Rest::default(),
        };
        let report = AccountReport {
            id: id.clone(),
            elctrnc_seq_nb: None,
            lgl_seq_nb: None,
            cre_dt_tm: Some(created.clone()),
            acct: cash_account(account, ccy),
            bal: vec![balance("OPBD", opening), balance("CLBD", closing)],
            ntry: entries,
            rest: Rest::default(),
        };
        let statement = Statement {
            grp_hdr: GroupHeader {
                msg_id: MsgId(id),
                cre_dt_tm: Some(created),
                nb_of_txs: None,
                ctrl_sum: None,
                initg_pty: None,
                ttl_intr_bk_sttlm_amt: None,
                intr_bk_sttlm_dt: None,
                sttlm_inf: None,
                instg_agt: None,
                instd_agt: None,
                rest: Rest::default(),
            },
            stmt: vec![report],
            rest: Rest::default(),
        };
        let version = Version::from_id(STATEMENT_VERSION).ok_or_else(|| SimError::Build {
            message_type: STATEMENT_VERSION.into(),
            problem: "not a version Clearway ships".into(),
        })?;
        let message = iso20022::Message {
            envelope: Envelope::bare(),
            header: None,
            document: Document {
                version,
                body: Body::Statement(statement),
                attrs: Vec::new(),
            },
        };
        Ok(Some(iso20022::write(&message)))
    }
}

fn amount(value: Decimal, ccy: &CurrencyCode) -> ActiveAmount {
    ActiveAmount {
        value,
        ccy: ccy.clone(),
    }
}

/// A file-name-safe form: letters, digits, `-` and `_`; anything else becomes `_`.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
