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
    /// What each open element inside a statement is (parallel to `marks` from the `Stmt` on).
    slots: Vec<Slot>,
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
            slots: Vec::with_capacity(32),
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
            // The namespace matters only until the camt message element is found.
            Ok((ns, event)) => {
                let camt = self.root_depth.is_none()
                    && matches!(&ns, ResolveResult::Bound(n) if n.as_ref().starts_with(CAMT_NS));
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
            Event::Text(t) if self.wants_text() => self.text.push_str(&t),
            Event::CData(t) if self.wants_text() => {
                self.text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if self.wants_text() => {
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

    /// Text matters only inside an element of a statement we read.
    fn wants_text(&self) -> bool {
        self.stmt.is_some() && !matches!(self.slots.last(), Some(Slot::Other) | None)
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
        if self.stmt.is_some() {
            let parent = self.slots.last().copied().unwrap_or(Slot::Other);
            let slot = parent.child(local);
            self.slots.push(slot);
            if slot.is_amount() {
                self.st.amt_ccy = amount_currency(e).map_err(|kind| self.error(kind))?;
            }
            self.st.start(slot, &mut self.pending);
        } else if let Some(root) = self.root_depth {
            if depth == root + 1 && (local == b"Stmt" || local == b"Ntfctn") {
                self.stmt = Some((depth, self.path.len() + 1));
                self.st = StmtState::default();
                self.slots.clear();
                self.slots.push(Slot::Stmt);
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
                self.slots.clear();
            }
            Some(_) => {
                let slot = self.slots.pop().unwrap_or(Slot::Other);
                if slot != Slot::Other
                    && let Err(kind) = self.st.end(slot, self.text.trim(), &mut self.pending)
                {
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
    header: HeaderBuilder,
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
struct HeaderBuilder {
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

    fn start(&mut self, slot: Slot, out: &mut VecDeque<StatementEvent>) {
        match slot {
            Slot::Bal => {
                self.ensure_header(out);
                self.bal = BalanceBuilder::default();
            }
            Slot::Sum => {
                self.ensure_header(out);
                self.summary = TxsSummary::default();
                self.net = None;
            }
            Slot::Ntry => {
                self.ensure_header(out);
                self.ntry = EntryBuilder::default();
            }
            Slot::Tx => self.tx = TxDetail::default(),
            _ => {}
        }
    }

    fn end(
        &mut self,
        slot: Slot,
        text: &str,
        out: &mut VecDeque<StatementEvent>,
    ) -> Result<(), ErrorKind> {
        let date = || Some(IsoDate(text.to_owned()));
        match slot {
            Slot::StmtId => self.header.id = text.to_owned(),
            Slot::StmtCreated => self.header.created = date(),
            Slot::AcctIban => self.header.account = Some(AccountId::Iban(text.to_owned())),
            Slot::AcctOthrId => self.header.account = Some(AccountId::Other(text.to_owned())),
            Slot::AcctCcy => {
                self.header.currency = Some(Currency::parse(text).ok_or(ErrorKind::BadCurrency)?);
            }
            // Balances
            Slot::BalCode => self.bal.kind = Some(BalanceKind::from_code(text)),
            Slot::BalAmt => {
                self.bal.amount = Some(amount(text)?);
                self.bal.currency = self.amt_ccy;
            }
            Slot::BalCd => self.bal.credit_debit = Some(credit_debit(text)?),
            Slot::BalDate => self.bal.date = date(),
            Slot::Bal => {
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
            Slot::SumTtlNb => self.summary.total_entries = Some(count(text)?),
            Slot::SumTtlSum => self.summary.total_sum = Some(amount(text)?),
            Slot::SumNetAmt => {
                let cd = self.net.and_then(|(_, cd)| cd);
                self.net = Some((amount(text)?, cd));
            }
            Slot::SumNetCd => {
                let cd = credit_debit(text)?;
                let value = self.net.map(|(v, _)| v).unwrap_or_default();
                self.net = Some((value, Some(cd)));
            }
            Slot::SumCdtNb => self.summary.credit_entries = Some(count(text)?),
            Slot::SumCdtSum => self.summary.credit_sum = Some(amount(text)?),
            Slot::SumDbtNb => self.summary.debit_entries = Some(count(text)?),
            Slot::SumDbtSum => self.summary.debit_sum = Some(amount(text)?),
            Slot::Sum => {
                if let Some((value, cd)) = self.net {
                    let cd = cd.ok_or(ErrorKind::MissingCreditDebit)?;
                    self.summary.net = Some(super::balance::signed(value, cd));
                }
                let summary = std::mem::take(&mut self.summary);
                self.tally.summary(summary.clone());
                out.push_back(StatementEvent::TxsSummary(summary));
            }
            // Entries
            Slot::NtryRef => self.ntry.ntry_ref = some(text),
            Slot::NtryAmt => {
                self.ntry.amount = Some(amount(text)?);
                self.ntry.currency = self.amt_ccy;
            }
            Slot::NtryCd => self.ntry.credit_debit = Some(credit_debit(text)?),
            Slot::NtryRvsl => self.ntry.reversal = text == "true" || text == "1",
            Slot::NtryStsCd => self.ntry.status = Some(EntryStatus::from_code(text)),
            // .001.02: the code is the text of `Sts` itself.
            Slot::NtrySts if self.ntry.status.is_none() => {
                self.ntry.status = Some(EntryStatus::from_code(text));
            }
            Slot::NtryBookgDate => self.ntry.booking_date = date(),
            Slot::NtryValDate => self.ntry.value_date = date(),
            Slot::NtrySvcrRef => self.ntry.acct_svcr_ref = some(text),
            Slot::BkTxDomnCd => self.ntry.bank_tx_code.domain = some(text),
            Slot::BkTxFmlyCd => self.ntry.bank_tx_code.family = some(text),
            Slot::BkTxSubFmly => self.ntry.bank_tx_code.sub_family = some(text),
            Slot::BkTxPrtryCd => self.ntry.bank_tx_code.proprietary = some(text),
            Slot::BtchNb => self.ntry.batch = Some(count(text)?),
            Slot::Tx => {
                let mut tx = std::mem::take(&mut self.tx);
                tx.tidy();
                self.ntry.details.push(tx);
            }
            Slot::Ntry => {
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
            // Transaction details
            Slot::RefE2e => self.tx.end_to_end_id = some(text),
            Slot::RefTxId => self.tx.tx_id = some(text),
            Slot::RefUetr => self.tx.uetr = some(text),
            Slot::RefInstr => self.tx.instr_id = some(text),
            Slot::RefSvcr => self.tx.acct_svcr_ref = some(text),
            // `Amt` wins; .001.02 has only `AmtDtls/TxAmt/Amt`.
            Slot::TxAmt | Slot::TxDtlsAmt if self.tx.amount.is_none() || slot == Slot::TxAmt => {
                self.tx.amount = Some(amount(text)?);
                self.tx.currency = self.amt_ccy;
            }
            Slot::TxCd => self.tx.credit_debit = Some(credit_debit(text)?),
            Slot::Pty(side, part) => {
                let p = party(match side {
                    Side::Debtor => &mut self.tx.debtor,
                    Side::Creditor => &mut self.tx.creditor,
                });
                match part {
                    PartyPart::Nm => p.name = some(text),
                    PartyPart::Iban => p.account = Some(AccountId::Iban(text.to_owned())),
                    PartyPart::OthrId => p.account = Some(AccountId::Other(text.to_owned())),
                    PartyPart::Bic => p.bic = some(text),
                    _ => {}
                }
            }
            Slot::Ustrd | Slot::StrdRef => self.tx.remittance.push(text.to_owned()),
            _ => {}
        }
        Ok(())
    }
}

/// Which debtor/creditor a party element belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Debtor,
    Creditor,
}

/// Where inside `RltdPties/Dbtr…` or `RltdAgts/DbtrAgt…` an element is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PartyPart {
    Root,
    Pty,
    Nm,
    Acct,
    AcctId,
    Iban,
    Othr,
    OthrId,
    Agt,
    Fin,
    Bic,
}

/// What an open element inside a statement is: found from its parent's slot and its local name
/// once at the start tag, so the end tag dispatches on a small integer, not on a path. Elements
/// the reader does not use are `Other`, and so is everything under them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Other,
    Stmt,
    StmtId,
    StmtCreated,
    Acct,
    AcctId,
    AcctIban,
    AcctOthr,
    AcctOthrId,
    AcctCcy,
    Bal,
    BalTp,
    BalCdOrPrtry,
    BalCode,
    BalAmt,
    BalCd,
    BalDt,
    BalDate,
    Sum,
    SumTtl,
    SumTtlNb,
    SumTtlSum,
    SumNet,
    SumNetAmt,
    SumNetCd,
    SumCdt,
    SumCdtNb,
    SumCdtSum,
    SumDbt,
    SumDbtNb,
    SumDbtSum,
    Ntry,
    NtryRef,
    NtryAmt,
    NtryCd,
    NtryRvsl,
    NtrySts,
    NtryStsCd,
    NtryBookg,
    NtryBookgDate,
    NtryVal,
    NtryValDate,
    NtrySvcrRef,
    BkTx,
    BkTxDomn,
    BkTxDomnCd,
    BkTxFmly,
    BkTxFmlyCd,
    BkTxSubFmly,
    BkTxPrtry,
    BkTxPrtryCd,
    NtryDtls,
    Btch,
    BtchNb,
    Tx,
    TxRefs,
    RefE2e,
    RefTxId,
    RefUetr,
    RefInstr,
    RefSvcr,
    TxAmt,
    TxAmtDtls,
    TxAmtDtlsTxAmt,
    TxDtlsAmt,
    TxCd,
    RltdPties,
    RltdAgts,
    Pty(Side, PartyPart),
    RmtInf,
    Ustrd,
    Strd,
    StrdCdtrRef,
    StrdRef,
}

impl Slot {
    /// An element whose `Ccy` attribute is the currency of its amount.
    fn is_amount(self) -> bool {
        matches!(
            self,
            Slot::BalAmt | Slot::NtryAmt | Slot::TxAmt | Slot::TxDtlsAmt
        )
    }

    /// The slot of the child element `local` of an element in this slot.
    fn child(self, local: &[u8]) -> Slot {
        use PartyPart as P;
        use Slot::*;
        match (self, local) {
            (Other, _) => Other,
            (Stmt, b"Id") => StmtId,
            (Stmt, b"CreDtTm") => StmtCreated,
            (Stmt, b"Acct") => Acct,
            (Stmt, b"Bal") => Bal,
            (Stmt, b"TxsSummry") => Sum,
            (Stmt, b"Ntry") => Ntry,
            (Acct, b"Id") => AcctId,
            (Acct, b"Ccy") => AcctCcy,
            (AcctId, b"IBAN") => AcctIban,
            (AcctId, b"Othr") => AcctOthr,
            (AcctOthr, b"Id") => AcctOthrId,
            (Bal, b"Tp") => BalTp,
            (Bal, b"Amt") => BalAmt,
            (Bal, b"CdtDbtInd") => BalCd,
            (Bal, b"Dt") => BalDt,
            (BalTp, b"CdOrPrtry") => BalCdOrPrtry,
            (BalCdOrPrtry, b"Cd" | b"Prtry") => BalCode,
            (BalDt, b"Dt" | b"DtTm") => BalDate,
            (Sum, b"TtlNtries") => SumTtl,
            (Sum, b"TtlCdtNtries") => SumCdt,
            (Sum, b"TtlDbtNtries") => SumDbt,
            (SumTtl, b"NbOfNtries") => SumTtlNb,
            (SumTtl, b"Sum") => SumTtlSum,
            (SumTtl, b"TtlNetNtry") => SumNet,
            (SumTtl, b"TtlNetNtryAmt") | (SumNet, b"Amt") => SumNetAmt, // .001.02 | .001.08
            (SumTtl | SumNet, b"CdtDbtInd") => SumNetCd,
            (SumCdt, b"NbOfNtries") => SumCdtNb,
            (SumCdt, b"Sum") => SumCdtSum,
            (SumDbt, b"NbOfNtries") => SumDbtNb,
            (SumDbt, b"Sum") => SumDbtSum,
            (Ntry, b"NtryRef") => NtryRef,
            (Ntry, b"Amt") => NtryAmt,
            (Ntry, b"CdtDbtInd") => NtryCd,
            (Ntry, b"RvslInd") => NtryRvsl,
            (Ntry, b"Sts") => NtrySts,
            (Ntry, b"BookgDt") => NtryBookg,
            (Ntry, b"ValDt") => NtryVal,
            (Ntry, b"AcctSvcrRef") => NtrySvcrRef,
            (Ntry, b"BkTxCd") => BkTx,
            (Ntry, b"NtryDtls") => NtryDtls,
            (NtrySts, b"Cd" | b"Prtry") => NtryStsCd,
            (NtryBookg, b"Dt" | b"DtTm") => NtryBookgDate,
            (NtryVal, b"Dt" | b"DtTm") => NtryValDate,
            (BkTx, b"Domn") => BkTxDomn,
            (BkTx, b"Prtry") => BkTxPrtry,
            (BkTxDomn, b"Cd") => BkTxDomnCd,
            (BkTxDomn, b"Fmly") => BkTxFmly,
            (BkTxFmly, b"Cd") => BkTxFmlyCd,
            (BkTxFmly, b"SubFmlyCd") => BkTxSubFmly,
            (BkTxPrtry, b"Cd") => BkTxPrtryCd,
            (NtryDtls, b"Btch") => Btch,
            (NtryDtls, b"TxDtls") => Tx,
            (Btch, b"NbOfTxs") => BtchNb,
            (Tx, b"Refs") => TxRefs,
            (Tx, b"Amt") => TxAmt,
            (Tx, b"AmtDtls") => TxAmtDtls,
            (Tx, b"CdtDbtInd") => TxCd,
            (Tx, b"RltdPties") => RltdPties,
            (Tx, b"RltdAgts") => RltdAgts,
            (Tx, b"RmtInf") => RmtInf,
            (TxRefs, b"EndToEndId") => RefE2e,
            (TxRefs, b"TxId") => RefTxId,
            (TxRefs, b"UETR") => RefUetr,
            (TxRefs, b"InstrId") => RefInstr,
            (TxRefs, b"AcctSvcrRef") => RefSvcr,
            (TxAmtDtls, b"TxAmt") => TxAmtDtlsTxAmt,
            (TxAmtDtlsTxAmt, b"Amt") => TxDtlsAmt,
            (RltdPties, b"Dbtr") => Pty(Side::Debtor, P::Root),
            (RltdPties, b"Cdtr") => Pty(Side::Creditor, P::Root),
            (RltdPties, b"DbtrAcct") => Pty(Side::Debtor, P::Acct),
            (RltdPties, b"CdtrAcct") => Pty(Side::Creditor, P::Acct),
            (RltdAgts, b"DbtrAgt") => Pty(Side::Debtor, P::Agt),
            (RltdAgts, b"CdtrAgt") => Pty(Side::Creditor, P::Agt),
            (Pty(s, P::Root), b"Pty") => Pty(s, P::Pty),
            (Pty(s, P::Root | P::Pty), b"Nm") => Pty(s, P::Nm),
            (Pty(s, P::Acct), b"Id") => Pty(s, P::AcctId),
            (Pty(s, P::AcctId), b"IBAN") => Pty(s, P::Iban),
            (Pty(s, P::AcctId), b"Othr") => Pty(s, P::Othr),
            (Pty(s, P::Othr), b"Id") => Pty(s, P::OthrId),
            (Pty(s, P::Agt), b"FinInstnId") => Pty(s, P::Fin),
            (Pty(s, P::Fin), b"BICFI" | b"BIC") => Pty(s, P::Bic),
            (RmtInf, b"Ustrd") => Ustrd,
            (RmtInf, b"Strd") => Strd,
            (Strd, b"CdtrRefInf") => StrdCdtrRef,
            (StrdCdtrRef, b"Ref") => StrdRef,
            _ => Other,
        }
    }
}

fn party(slot: &mut Option<Party>) -> &mut Party {
    slot.get_or_insert_with(Party::default)
}
