//! The streaming reader: one `NsReader`, one reused event buffer, a path of local names, and the
//! builders of the element being read. Memory is bounded by the largest single entry.

use std::collections::VecDeque;
use std::io::BufRead;
use std::str::FromStr;

use quick_xml::NsReader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use rust_decimal::Decimal;

use crate::money::Currency;

use super::balance::BalanceTally;
use super::error::{Error, ErrorKind};
use super::types::{
    AccountId, Balance, BalanceKind, CreditDebit, Entry, EntryStatus, IsoDate, MessageKind, Party,
    StatementEvent, StatementHeader, TxDetail, TxsSummary,
};

/// Namespaces of camt.053 and camt.054, every version: `…camt.053.001.08`, `…camt.054.001.02`.
const CAMT_NS: &str = "urn:iso:std:iso:20022:tech:xsd:camt.05";
const TX_PREFIX: &[u8] = b"Ntry/NtryDtls/TxDtls/";

/// Streams the statements of a camt.053 or camt.054 document as [`StatementEvent`]s.
///
/// Per statement: `Statement`, then its `Balance`s, `TxsSummary` and `Entry`s in document order,
/// then `StatementEnd` with the balance verdict. After an error the iterator ends.
pub struct StatementReader<R> {
    xml: NsReader<R>,
    buf: Vec<u8>,
    /// Local names of the open elements joined by `/`.
    path: Vec<u8>,
    /// `path.len()` before each open element was pushed.
    marks: Vec<usize>,
    /// Text of the innermost element (cleared at each start tag).
    text: String,
    kind: Option<MessageKind>,
    /// Depth of the `BkToCstmrStmt` / `BkToCstmrDbtCdtNtfctn` element while inside it.
    root_depth: Option<usize>,
    /// Depth of the open `Stmt` / `Ntfctn`, and where its relative path starts in `path`.
    stmt: Option<(usize, usize)>,
    st: StmtState,
    pending: VecDeque<StatementEvent>,
    finished: bool,
}

impl<R: BufRead> StatementReader<R> {
    /// A reader over any buffered input (a `BufReader<File>`, a byte slice).
    pub fn new(input: R) -> StatementReader<R> {
        let mut xml = NsReader::from_reader(input);
        xml.config_mut().expand_empty_elements = true;
        StatementReader {
            xml,
            buf: Vec::with_capacity(4096),
            path: Vec::with_capacity(256),
            marks: Vec::with_capacity(32),
            text: String::with_capacity(256),
            kind: None,
            root_depth: None,
            stmt: None,
            st: StmtState::default(),
            pending: VecDeque::with_capacity(2),
            finished: false,
        }
    }

    /// camt.053 or camt.054, once the message element has been read.
    pub fn kind(&self) -> Option<MessageKind> {
        self.kind
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.xml.buffer_position()
    }

    /// The open elements as text for an error; `(document)` outside every element.
    fn path_text(&self) -> String {
        if self.path.is_empty() {
            "(document)".to_owned()
        } else {
            String::from_utf8_lossy(&self.path).into_owned()
        }
    }

    fn error(&self, kind: ErrorKind) -> Error {
        Error::Content {
            path: self.path_text(),
            offset: self.xml.buffer_position(),
            kind,
        }
    }

    /// Reads until the next event; `Ok(None)` at the end of the document.
    fn step(&mut self) -> Result<Option<StatementEvent>, Error> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(Some(event));
            }
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let outcome = self.read_one(&mut buf);
            self.buf = buf;
            match outcome {
                Ok(true) => {}
                Ok(false) => return Ok(self.pending.pop_front()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Handles one XML event; `Ok(false)` at the end of input.
    fn read_one(&mut self, buf: &mut Vec<u8>) -> Result<bool, Error> {
        let (camt_ns, event) = match self.xml.read_resolved_event_into(buf) {
            Ok((ns, event)) => {
                let camt =
                    matches!(&ns, ResolveResult::Bound(n) if n.as_ref().starts_with(CAMT_NS));
                (camt, event)
            }
            Err(source) => {
                return Err(Error::Xml {
                    path: self.path_text(),
                    offset: self.xml.error_position(),
                    source,
                });
            }
        };
        match event {
            Event::Start(e) => self.start(&e, camt_ns)?,
            Event::End(_) => self.end()?,
            Event::Text(t) if self.stmt.is_some() => self.text.push_str(&t),
            Event::CData(t) if self.stmt.is_some() => {
                self.text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if self.stmt.is_some() => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    self.text.push(c);
                } else if let Some(s) = resolve_predefined_entity(&r) {
                    self.text.push_str(s);
                } else {
                    // An entity we cannot expand is kept as written rather than dropped.
                    self.text.push('&');
                    self.text.push_str(&r);
                    self.text.push(';');
                }
            }
            Event::Eof => {
                if self.stmt.is_some() {
                    return Err(self.error(ErrorKind::Truncated));
                }
                if self.kind.is_none() {
                    return Err(self.error(ErrorKind::NotAStatement));
                }
                return Ok(false);
            }
            _ => {}
        }
        Ok(true)
    }

    fn start(&mut self, e: &BytesStart<'_>, camt_ns: bool) -> Result<(), Error> {
        let local = e.local_name();
        let local = local.as_ref().as_bytes();
        self.marks.push(self.path.len());
        if !self.path.is_empty() {
            self.path.push(b'/');
        }
        self.path.extend_from_slice(local);
        self.text.clear();
        let depth = self.marks.len();
        if let Some((_, base)) = self.stmt {
            let rel = self.path.get(base..).unwrap_or_default();
            let ccy = if local == b"Amt" {
                amount_currency(e)
            } else {
                Ok(None)
            };
            let ccy = ccy.map_err(|kind| self.error(kind))?;
            self.st.start(rel, ccy, &mut self.pending);
        } else if let Some(root) = self.root_depth {
            if depth == root + 1 && (local == b"Stmt" || local == b"Ntfctn") {
                self.stmt = Some((depth, self.path.len() + 1));
                self.st = StmtState::default();
            }
        } else if camt_ns && (local == b"BkToCstmrStmt" || local == b"BkToCstmrDbtCdtNtfctn") {
            self.kind = Some(if local == b"BkToCstmrStmt" {
                MessageKind::Camt053
            } else {
                MessageKind::Camt054
            });
            self.root_depth = Some(depth);
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Error> {
        let depth = self.marks.len();
        match self.stmt {
            Some((stmt_depth, _)) if depth == stmt_depth => {
                self.st.ensure_header(&mut self.pending);
                self.pending
                    .push_back(StatementEvent::StatementEnd(self.st.tally.finish()));
                self.stmt = None;
            }
            Some((_, base)) => {
                let rel = self.path.get(base..).unwrap_or_default();
                if let Err(kind) = self.st.end(rel, self.text.trim(), &mut self.pending) {
                    return Err(self.error(kind));
                }
            }
            None => {
                if self.root_depth == Some(depth) {
                    self.root_depth = None;
                }
            }
        }
        let mark = self.marks.pop().unwrap_or(0);
        self.path.truncate(mark);
        Ok(())
    }
}

impl<R: BufRead> Iterator for StatementReader<R> {
    type Item = Result<StatementEvent, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished && self.pending.is_empty() {
            return None;
        }
        match self.step() {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                self.pending.clear();
                Some(Err(e))
            }
        }
    }
}

/// The `Ccy` attribute of an `Amt` element, if any.
fn amount_currency(e: &BytesStart<'_>) -> Result<Option<Currency>, ErrorKind> {
    match e.try_get_attribute("Ccy") {
        Ok(Some(attr)) => Currency::parse(&attr.value)
            .map(Some)
            .ok_or(ErrorKind::BadCurrency),
        Ok(None) => Ok(None),
        Err(_) => Err(ErrorKind::BadCurrency),
    }
}

fn amount(text: &str) -> Result<Decimal, ErrorKind> {
    let value = Decimal::from_str(text).map_err(|_| ErrorKind::BadAmount)?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(ErrorKind::NegativeAmount);
    }
    Ok(value)
}

fn count(text: &str) -> Result<u64, ErrorKind> {
    text.parse().map_err(|_| ErrorKind::BadCount)
}

fn credit_debit(text: &str) -> Result<CreditDebit, ErrorKind> {
    CreditDebit::parse(text).ok_or(ErrorKind::BadCreditDebit)
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

#[derive(Default)]
struct BalanceBuilder {
    kind: Option<BalanceKind>,
    amount: Option<Decimal>,
    currency: Option<Currency>,
    credit_debit: Option<CreditDebit>,
    date: Option<IsoDate>,
}

#[derive(Default)]
struct EntryBuilder {
    ntry_ref: Option<String>,
    amount: Option<Decimal>,
    currency: Option<Currency>,
    credit_debit: Option<CreditDebit>,
    reversal: bool,
    status: Option<EntryStatus>,
    booking_date: Option<IsoDate>,
    value_date: Option<IsoDate>,
    acct_svcr_ref: Option<String>,
    bank_tx_code: super::types::BankTxCode,
    batch: Option<u64>,
    details: Vec<TxDetail>,
}

/// What is known of the open statement.
#[derive(Default)]
struct StmtState {
    header: StatementHeader0,
    header_sent: bool,
    tally: BalanceTally,
    bal: BalanceBuilder,
    ntry: EntryBuilder,
    tx: TxDetail,
    summary: TxsSummary,
    /// `Ccy` of the `Amt` element being read.
    amt_ccy: Option<Currency>,
    /// `CdtDbtInd` beside `TtlNetNtry` (or `TtlNetNtryAmt` in .001.02).
    net: Option<(Decimal, Option<CreditDebit>)>,
}

#[derive(Default)]
struct StatementHeader0 {
    id: String,
    account: Option<AccountId>,
    currency: Option<Currency>,
    created: Option<IsoDate>,
}

impl StmtState {
    fn ensure_header(&mut self, out: &mut VecDeque<StatementEvent>) {
        if !self.header_sent {
            self.header_sent = true;
            let h = std::mem::take(&mut self.header);
            self.tally = BalanceTally::new(h.id.clone());
            out.push_back(StatementEvent::Statement(StatementHeader {
                id: h.id,
                account: h.account,
                currency: h.currency,
                created: h.created,
            }));
        }
    }

    fn start(&mut self, rel: &[u8], ccy: Option<Currency>, out: &mut VecDeque<StatementEvent>) {
        match rel {
            b"Bal" => {
                self.ensure_header(out);
                self.bal = BalanceBuilder::default();
            }
            b"TxsSummry" => {
                self.ensure_header(out);
                self.summary = TxsSummary::default();
                self.net = None;
            }
            b"Ntry" => {
                self.ensure_header(out);
                self.ntry = EntryBuilder::default();
            }
            b"Ntry/NtryDtls/TxDtls" => self.tx = TxDetail::default(),
            _ => {}
        }
        self.amt_ccy = ccy;
    }

    fn end(
        &mut self,
        rel: &[u8],
        text: &str,
        out: &mut VecDeque<StatementEvent>,
    ) -> Result<(), ErrorKind> {
        if let Some(tx_rel) = rel.strip_prefix(TX_PREFIX) {
            return self.end_tx(tx_rel, text);
        }
        let date = || Some(IsoDate(text.to_owned()));
        match rel {
            b"Id" => self.header.id = text.to_owned(),
            b"CreDtTm" => self.header.created = date(),
            b"Acct/Id/IBAN" => self.header.account = Some(AccountId::Iban(text.to_owned())),
            b"Acct/Id/Othr/Id" => self.header.account = Some(AccountId::Other(text.to_owned())),
            b"Acct/Ccy" => {
                self.header.currency = Some(Currency::parse(text).ok_or(ErrorKind::BadCurrency)?);
            }
            // Balances
            b"Bal/Tp/CdOrPrtry/Cd" | b"Bal/Tp/CdOrPrtry/Prtry" => {
                self.bal.kind = Some(BalanceKind::from_code(text));
            }
            b"Bal/Amt" => {
                self.bal.amount = Some(amount(text)?);
                self.bal.currency = self.amt_ccy;
            }
            b"Bal/CdtDbtInd" => self.bal.credit_debit = Some(credit_debit(text)?),
            b"Bal/Dt/Dt" | b"Bal/Dt/DtTm" => self.bal.date = date(),
            b"Bal" => {
                let b = std::mem::take(&mut self.bal);
                let balance = Balance {
                    kind: b.kind.ok_or(ErrorKind::MissingBalanceType)?,
                    amount: b.amount.ok_or(ErrorKind::MissingAmount)?,
                    currency: b.currency,
                    credit_debit: b.credit_debit.ok_or(ErrorKind::MissingCreditDebit)?,
                    date: b.date,
                };
                self.tally.balance(&balance);
                out.push_back(StatementEvent::Balance(balance));
            }
            // Transaction summary
            b"TxsSummry/TtlNtries/NbOfNtries" => self.summary.total_entries = Some(count(text)?),
            b"TxsSummry/TtlNtries/Sum" => self.summary.total_sum = Some(amount(text)?),
            b"TxsSummry/TtlNtries/TtlNetNtry/Amt" | b"TxsSummry/TtlNtries/TtlNetNtryAmt" => {
                let cd = self.net.and_then(|(_, cd)| cd);
                self.net = Some((amount(text)?, cd));
            }
            b"TxsSummry/TtlNtries/TtlNetNtry/CdtDbtInd" | b"TxsSummry/TtlNtries/CdtDbtInd" => {
                let cd = credit_debit(text)?;
                let value = self.net.map(|(v, _)| v).unwrap_or_default();
                self.net = Some((value, Some(cd)));
            }
            b"TxsSummry/TtlCdtNtries/NbOfNtries" => {
                self.summary.credit_entries = Some(count(text)?);
            }
            b"TxsSummry/TtlCdtNtries/Sum" => self.summary.credit_sum = Some(amount(text)?),
            b"TxsSummry/TtlDbtNtries/NbOfNtries" => self.summary.debit_entries = Some(count(text)?),
            b"TxsSummry/TtlDbtNtries/Sum" => self.summary.debit_sum = Some(amount(text)?),
            b"TxsSummry" => {
                if let Some((value, cd)) = self.net {
                    let cd = cd.ok_or(ErrorKind::MissingCreditDebit)?;
                    self.summary.net = Some(super::balance::signed(value, cd));
                }
                let summary = std::mem::take(&mut self.summary);
                self.tally.summary(summary.clone());
                out.push_back(StatementEvent::TxsSummary(summary));
            }
            // Entries
            b"Ntry/NtryRef" => self.ntry.ntry_ref = some(text),
            b"Ntry/Amt" => {
                self.ntry.amount = Some(amount(text)?);
                self.ntry.currency = self.amt_ccy;
            }
            b"Ntry/CdtDbtInd" => self.ntry.credit_debit = Some(credit_debit(text)?),
            b"Ntry/RvslInd" => self.ntry.reversal = text == "true" || text == "1",
            b"Ntry/Sts/Cd" | b"Ntry/Sts/Prtry" => {
                self.ntry.status = Some(EntryStatus::from_code(text));
            }
            // .001.02: the code is the text of `Sts` itself.
            b"Ntry/Sts" if self.ntry.status.is_none() => {
                self.ntry.status = Some(EntryStatus::from_code(text));
            }
            b"Ntry/BookgDt/Dt" | b"Ntry/BookgDt/DtTm" => self.ntry.booking_date = date(),
            b"Ntry/ValDt/Dt" | b"Ntry/ValDt/DtTm" => self.ntry.value_date = date(),
            b"Ntry/AcctSvcrRef" => self.ntry.acct_svcr_ref = some(text),
            b"Ntry/BkTxCd/Domn/Cd" => self.ntry.bank_tx_code.domain = some(text),
            b"Ntry/BkTxCd/Domn/Fmly/Cd" => self.ntry.bank_tx_code.family = some(text),
            b"Ntry/BkTxCd/Domn/Fmly/SubFmlyCd" => self.ntry.bank_tx_code.sub_family = some(text),
            b"Ntry/BkTxCd/Prtry/Cd" => self.ntry.bank_tx_code.proprietary = some(text),
            b"Ntry/NtryDtls/Btch/NbOfTxs" => self.ntry.batch = Some(count(text)?),
            b"Ntry/NtryDtls/TxDtls" => {
                let mut tx = std::mem::take(&mut self.tx);
                tx.tidy();
                self.ntry.details.push(tx);
            }
            b"Ntry" => {
                let n = std::mem::take(&mut self.ntry);
                let entry = Entry {
                    ntry_ref: n.ntry_ref,
                    amount: n.amount.ok_or(ErrorKind::MissingAmount)?,
                    currency: n.currency,
                    credit_debit: n.credit_debit.ok_or(ErrorKind::MissingCreditDebit)?,
                    reversal: n.reversal,
                    status: n.status.unwrap_or(EntryStatus::Other(String::new())),
                    booking_date: n.booking_date,
                    value_date: n.value_date,
                    acct_svcr_ref: n.acct_svcr_ref,
                    bank_tx_code: n.bank_tx_code,
                    batch: n.batch,
                    details: n.details,
                };
                self.tally
                    .entry(entry.amount, entry.credit_debit, &entry.status);
                out.push_back(StatementEvent::Entry(Box::new(entry)));
            }
            _ => {}
        }
        Ok(())
    }

    fn end_tx(&mut self, rel: &[u8], text: &str) -> Result<(), ErrorKind> {
        let tx = &mut self.tx;
        match rel {
            b"Refs/EndToEndId" => tx.end_to_end_id = some(text),
            b"Refs/TxId" => tx.tx_id = some(text),
            b"Refs/UETR" => tx.uetr = some(text),
            b"Refs/InstrId" => tx.instr_id = some(text),
            b"Refs/AcctSvcrRef" => tx.acct_svcr_ref = some(text),
            // `Amt` wins; .001.02 has only `AmtDtls/TxAmt/Amt`.
            b"Amt" | b"AmtDtls/TxAmt/Amt" if tx.amount.is_none() || rel == b"Amt" => {
                tx.amount = Some(amount(text)?);
                tx.currency = self.amt_ccy;
            }
            b"CdtDbtInd" => tx.credit_debit = Some(credit_debit(text)?),
            b"RltdPties/Dbtr/Pty/Nm" | b"RltdPties/Dbtr/Nm" => {
                party(&mut tx.debtor).name = some(text)
            }
            b"RltdPties/Cdtr/Pty/Nm" | b"RltdPties/Cdtr/Nm" => {
                party(&mut tx.creditor).name = some(text);
            }
            b"RltdPties/DbtrAcct/Id/IBAN" => {
                party(&mut tx.debtor).account = Some(AccountId::Iban(text.to_owned()));
            }
            b"RltdPties/DbtrAcct/Id/Othr/Id" => {
                party(&mut tx.debtor).account = Some(AccountId::Other(text.to_owned()));
            }
            b"RltdPties/CdtrAcct/Id/IBAN" => {
                party(&mut tx.creditor).account = Some(AccountId::Iban(text.to_owned()));
            }
            b"RltdPties/CdtrAcct/Id/Othr/Id" => {
                party(&mut tx.creditor).account = Some(AccountId::Other(text.to_owned()));
            }
            b"RltdAgts/DbtrAgt/FinInstnId/BICFI" | b"RltdAgts/DbtrAgt/FinInstnId/BIC" => {
                party(&mut tx.debtor).bic = some(text);
            }
            b"RltdAgts/CdtrAgt/FinInstnId/BICFI" | b"RltdAgts/CdtrAgt/FinInstnId/BIC" => {
                party(&mut tx.creditor).bic = some(text);
            }
            b"RmtInf/Ustrd" | b"RmtInf/Strd/CdtrRefInf/Ref" => tx.remittance.push(text.to_owned()),
            _ => {}
        }
        Ok(())
    }
}

fn party(slot: &mut Option<Party>) -> &mut Party {
    slot.get_or_insert_with(Party::default)
}
