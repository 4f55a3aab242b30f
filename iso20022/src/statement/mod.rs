//! camt.053 statements and camt.054 notifications read as a stream of typed events, in constant
//! memory whatever the file size: a quick-xml `NsReader` with one reused buffer, elements matched
//! by their namespace-resolved local name (any prefix works), balances checked on the way.
//!
//! Reads camt.053.001.08, camt.053.001.02 and camt.054.001.08 (and the neighbouring versions,
//! whose entry shape is the same), bare or inside a Swift `Envelope` (with an `AppHdr`) or a
//! FedNow `Message` wrapper: everything outside the camt `Document` is skipped.
//!
//! ```
//! use iso20022::statement::{StatementEvent, StatementReader};
//! let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
//!   <GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-25T10:00:00</CreDtTm></GrpHdr>
//!   <Stmt><Id>S1</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
//!   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>
//!   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">3.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-25</Dt></Dt></Bal>
//!   <Ntry><Amt Ccy="EUR">2.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BkTxCd/></Ntry>
//!   </Stmt></BkToCstmrStmt></Document>"#;
//! let events: Vec<_> = StatementReader::new(xml.as_bytes()).collect::<Result<_, _>>().unwrap();
//! let Some(StatementEvent::StatementEnd(check)) = events.last() else { panic!() };
//! assert!(check.passed());
//! ```

mod balance;
mod error;
mod reader;
mod types;

pub use balance::{BalanceCheck, BalanceRule, BalanceTally, Violation, signed};
pub use error::{Error, ErrorKind};
pub use reader::StatementReader;
pub use types::{
    AccountId, Balance, BalanceKind, BankTxCode, CreditDebit, Entry, EntryStatus, IsoDate,
    MessageKind, Party, StatementEvent, StatementHeader, TxDetail, TxsSummary,
};
