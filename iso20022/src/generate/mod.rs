//! Large, consistent, schema-valid camt.053.001.08 statements for tests and benchmarks.
//!
//! Deterministic: everything random comes from a splitmix64 stream keyed by the seed, the
//! statement and the entry, so the same options give the same bytes. Streaming: balances and
//! `TxsSummry` come before the entries in a statement, so each statement is planned in a first
//! pass over its entries' amounts (recomputed from the same keys, nothing kept), then written.
//! Memory stays constant whatever the number of entries.

mod rng;

use std::io::{self, Write};

use rust_decimal::Decimal;

use crate::money::{Currency, minor_to_decimal};
use rng::SplitMix64;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Camt053Options {
    /// Entries over all statements.
    pub entries: u64,
    /// Accounts, one `Stmt` each (at least 1).
    pub accounts: u32,
    /// Seed of every random choice.
    pub seed: u64,
}

/// What was generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generated {
    /// Entries written.
    pub entries: u64,
    /// Transactions written (a batch entry holds several).
    pub transactions: u64,
    /// Statements written.
    pub statements: u32,
}

/// Entries of one statement: `entries / accounts`, the first `entries % accounts` get one more.
fn entries_of(options: &Camt053Options, statement: u32) -> u64 {
    let accounts = u64::from(options.accounts.max(1));
    let base = options.entries / accounts;
    base + u64::from(u64::from(statement) < options.entries % accounts)
}

const CCY: Currency = Currency::EUR;
const MAX_BATCH: usize = 6;
const DAY: &str = "2026-11-24";

/// The amounts and direction of one entry, drawn first from its stream.
struct Plan {
    credit: bool,
    /// Transaction amounts in cents; one for a single booking, several for a batch.
    amounts: [i64; MAX_BATCH],
    count: usize,
}

impl Plan {
    fn draw(rng: &mut SplitMix64) -> Plan {
        let credit = rng.below(100) < 55;
        let count = if rng.below(100) < 8 {
            2 + rng.below(MAX_BATCH as u64 - 1) as usize
        } else {
            1
        };
        let mut amounts = [0i64; MAX_BATCH];
        for a in amounts.iter_mut().take(count) {
            // Mostly small payments, now and then a large one: 0.01 to 50,000.00 EUR.
            let cents = match rng.below(10) {
                0 => 100_000 + rng.below(4_900_000),
                1..=3 => 5_000 + rng.below(95_000),
                _ => 1 + rng.below(5_000),
            };
            *a = i64::try_from(cents).unwrap_or(1);
        }
        Plan {
            credit,
            amounts,
            count,
        }
    }

    fn total(&self) -> i64 {
        self.amounts.iter().take(self.count).sum()
    }
}

fn entry_rng(seed: u64, statement: u32, entry: u64) -> SplitMix64 {
    SplitMix64::keyed(&[seed, u64::from(statement), entry])
}

/// Writes one camt.053.001.08 document to `out` (wrap it in a `BufWriter`).
pub fn write_camt053<W: Write>(options: &Camt053Options, out: &mut W) -> io::Result<Generated> {
    let accounts = options.accounts.max(1);
    let mut head = SplitMix64::keyed(&[options.seed, u64::MAX]);
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\n\
         <BkToCstmrStmt>\n\
         <GrpHdr>\n<MsgId>CLRW-{:016X}</MsgId>\n<CreDtTm>2026-11-25T06:00:00+00:00</CreDtTm>\n\
         <MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn>\n</GrpHdr>\n",
        head.next_u64()
    )?;
    let mut generated = Generated {
        entries: 0,
        transactions: 0,
        statements: 0,
    };
    for s in 0..accounts {
        let n = entries_of(options, s);
        // Pass 1: the totals the statement states before its entries.
        let (mut credits, mut debits, mut n_cr, mut n_db) = (0i64, 0i64, 0u64, 0u64);
        for i in 0..n {
            let plan = Plan::draw(&mut entry_rng(options.seed, s, i));
            if plan.credit {
                credits += plan.total();
                n_cr += 1;
            } else {
                debits += plan.total();
                n_db += 1;
            }
        }
        let mut acct = SplitMix64::keyed(&[options.seed, u64::from(s), u64::MAX]);
        let opening = i64::try_from(acct.below(200_000_000)).unwrap_or(0) - 20_000_000;
        let closing = opening + credits - debits;
        let iban = iban(&mut acct);
        let owner = NAMES
            .get(acct.below(NAMES.len() as u64) as usize)
            .copied()
            .unwrap_or("Owner");
        write!(
            out,
            "<Stmt>\n<Id>STMT-{s:05}-20261124</Id>\n<ElctrncSeqNb>{}</ElctrncSeqNb>\n\
             <CreDtTm>2026-11-25T06:00:00+00:00</CreDtTm>\n\
             <FrToDt><FrDtTm>{DAY}T00:00:00+00:00</FrDtTm><ToDtTm>{DAY}T23:59:59+00:00</ToDtTm></FrToDt>\n\
             <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{CCY}</Ccy><Ownr><Nm>{owner}</Nm></Ownr>\
             <Svcr><FinInstnId><BICFI>{OWN_BIC}</BICFI></FinInstnId></Svcr></Acct>\n",
            1000 + u64::from(s)
        )?;
        balance(out, "OPBD", opening, "2026-11-24")?;
        balance(out, "CLBD", closing, "2026-11-24")?;
        balance(out, "CLAV", closing, "2026-11-25")?;
        let net = credits - debits;
        write!(
            out,
            "<TxsSummry>\n<TtlNtries><NbOfNtries>{n}</NbOfNtries><Sum>{}</Sum>\
             <TtlNetNtry><Amt>{}</Amt><CdtDbtInd>{}</CdtDbtInd></TtlNetNtry></TtlNtries>\n\
             <TtlCdtNtries><NbOfNtries>{n_cr}</NbOfNtries><Sum>{}</Sum></TtlCdtNtries>\n\
             <TtlDbtNtries><NbOfNtries>{n_db}</NbOfNtries><Sum>{}</Sum></TtlDbtNtries>\n</TxsSummry>\n",
            money(credits + debits),
            money(net.abs()),
            cd(net),
            money(credits),
            money(debits),
        )?;
        let own = Own {
            name: owner,
            iban: &iban,
        };
        // Pass 2: the entries, drawn again from the same streams.
        for i in 0..n {
            let mut rng = entry_rng(options.seed, s, i);
            let plan = Plan::draw(&mut rng);
            generated.transactions += write_entry(out, &plan, &mut rng, &own, s, i)?;
        }
        out.write_all(b"</Stmt>\n")?;
        generated.entries += n;
        generated.statements += 1;
    }
    out.write_all(b"</BkToCstmrStmt>\n</Document>\n")?;
    out.flush()?;
    Ok(generated)
}

fn money(cents: i64) -> Decimal {
    minor_to_decimal(cents, CCY)
}

fn cd(signed: i64) -> &'static str {
    if signed < 0 { "DBIT" } else { "CRDT" }
}

fn balance<W: Write>(out: &mut W, code: &str, signed: i64, date: &str) -> io::Result<()> {
    writeln!(
        out,
        "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{CCY}\">{}</Amt>\
         <CdtDbtInd>{}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>",
        money(signed.abs()),
        cd(signed)
    )
}

fn write_entry<W: Write>(
    out: &mut W,
    plan: &Plan,
    rng: &mut SplitMix64,
    own: &Own<'_>,
    statement: u32,
    entry: u64,
) -> io::Result<u64> {
    let dir = if plan.credit { "CRDT" } else { "DBIT" };
    let (family, sub) = match (plan.credit, plan.count > 1) {
        (true, false) => ("RCDT", "ESCT"),
        (true, true) => ("RCDT", "BOOK"),
        (false, false) => ("ICDT", "ESCT"),
        (false, true) => ("ICDT", "BOOK"),
    };
    let value_day = 24 + rng.below(3); // value date the booking day or up to two days later
    let svcr_ref = format!("CLRW{statement:04}{entry:010}");
    write!(
        out,
        "<Ntry>\n<NtryRef>{entry}</NtryRef>\n<Amt Ccy=\"{CCY}\">{}</Amt>\n<CdtDbtInd>{dir}</CdtDbtInd>\n\
         <Sts><Cd>BOOK</Cd></Sts>\n<BookgDt><Dt>{DAY}</Dt></BookgDt>\n\
         <ValDt><Dt>2026-11-{value_day}</Dt></ValDt>\n<AcctSvcrRef>{svcr_ref}</AcctSvcrRef>\n\
         <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>\n\
         <NtryDtls>\n",
        money(plan.total())
    )?;
    if plan.count > 1 {
        writeln!(
            out,
            "<Btch><PmtInfId>PMTINF-{:012X}</PmtInfId><NbOfTxs>{}</NbOfTxs>\
             <TtlAmt Ccy=\"{CCY}\">{}</TtlAmt><CdtDbtInd>{dir}</CdtDbtInd></Btch>",
            rng.next_u64() >> 16,
            plan.count,
            money(plan.total())
        )?;
    }
    for (t, cents) in plan.amounts.iter().take(plan.count).enumerate() {
        let uetr = uetr(rng);
        let (name, party_iban, bic) = counterparty(rng);
        let e2e = rng.next_u64() >> 8;
        write!(
            out,
            "<TxDtls>\n<Refs><AcctSvcrRef>{svcr_ref}-{t}</AcctSvcrRef><InstrId>INSTR-{e2e:X}</InstrId>\
             <EndToEndId>E2E-{e2e:014X}</EndToEndId><UETR>{uetr}</UETR>\
             <TxId>TX{statement:04}{entry:010}{t}</TxId></Refs>\n\
             <Amt Ccy=\"{CCY}\">{}</Amt>\n<CdtDbtInd>{dir}</CdtDbtInd>\n",
            money(*cents)
        )?;
        // The counterparty is the debtor of a credit and the creditor of a debit; the account
        // owner is the other side.
        let (town, country) = TOWNS
            .get(rng.below(TOWNS.len() as u64) as usize)
            .copied()
            .unwrap_or(("Berlin", "DE"));
        let them = format!(
            "<Pty><Nm>{name}</Nm><PstlAdr><StrtNm>{} Street</StrtNm><BldgNb>{}</BldgNb><PstCd>{}</PstCd>\
             <TwnNm>{town}</TwnNm><Ctry>{country}</Ctry></PstlAdr></Pty>",
            STREETS
                .get(rng.below(STREETS.len() as u64) as usize)
                .copied()
                .unwrap_or("Main"),
            1 + rng.below(200),
            10_000 + rng.below(89_999),
        );
        let us = format!("<Pty><Nm>{}</Nm></Pty>", own.name);
        let (dbtr, dbtr_iban, dbtr_bic, cdtr, cdtr_iban, cdtr_bic) = if plan.credit {
            (
                them.as_str(),
                party_iban.as_str(),
                bic,
                us.as_str(),
                own.iban,
                OWN_BIC,
            )
        } else {
            (
                us.as_str(),
                own.iban,
                OWN_BIC,
                them.as_str(),
                party_iban.as_str(),
                bic,
            )
        };
        write!(
            out,
            "<RltdPties>\n<Dbtr>{dbtr}</Dbtr>\n<DbtrAcct><Id><IBAN>{dbtr_iban}</IBAN></Id></DbtrAcct>\n\
             <Cdtr>{cdtr}</Cdtr>\n<CdtrAcct><Id><IBAN>{cdtr_iban}</IBAN></Id></CdtrAcct>\n</RltdPties>\n\
             <RltdAgts><DbtrAgt><FinInstnId><BICFI>{dbtr_bic}</BICFI></FinInstnId></DbtrAgt>\
             <CdtrAgt><FinInstnId><BICFI>{cdtr_bic}</BICFI></FinInstnId></CdtrAgt></RltdAgts>\n\
             <Purp><Cd>{}</Cd></Purp>\n\
             <RmtInf><Ustrd>Invoice {} of 2026-11-{:02}, customer {}</Ustrd></RmtInf>\n</TxDtls>\n",
            PURPOSES
                .get(rng.below(PURPOSES.len() as u64) as usize)
                .copied()
                .unwrap_or("SUPP"),
            100_000 + rng.below(900_000),
            1 + rng.below(24),
            rng.below(1_000_000),
        )?;
    }
    write!(
        out,
        "</NtryDtls>\n<AddtlNtryInf>{} {} {}</AddtlNtryInf>\n</Ntry>\n",
        if plan.credit {
            "SEPA CREDIT TRANSFER FROM"
        } else {
            "SEPA CREDIT TRANSFER TO"
        },
        if plan.count > 1 { "BATCH" } else { "SINGLE" },
        svcr_ref
    )?;
    Ok(plan.count as u64)
}

/// The account owner: the other side of every transaction in its statement.
struct Own<'a> {
    name: &'a str,
    iban: &'a str,
}

const OWN_BIC: &str = "CLRWDEFFXXX";

const TOWNS: &[(&str, &str)] = &[
    ("Frankfurt am Main", "DE"),
    ("Lyon", "FR"),
    ("Milano", "IT"),
    ("Valencia", "ES"),
    ("Utrecht", "NL"),
    ("Krakow", "PL"),
    ("Goteborg", "SE"),
    ("Cork", "IE"),
    ("Piraeus", "GR"),
    ("Tampere", "FI"),
];

const STREETS: &[&str] = &[
    "Harbour", "Station", "Market", "Church", "Mill", "Park", "Bridge", "King",
];

const PURPOSES: &[&str] = &[
    "SUPP", "SALA", "GDDS", "SCVE", "RENT", "TAXS", "TRAD", "INTC",
];

const NAMES: &[&str] = &[
    "Muller Maschinenbau GmbH",
    "Dupont et Fils SARL",
    "Rossi Alimentari S.p.A.",
    "Garcia Logistica S.L.",
    "Jansen Bloemen B.V.",
    "Nowak Budownictwo Sp. z o.o.",
    "Lindqvist Design AB",
    "Oconnor Consulting Ltd",
    "Papadopoulos Shipping S.A.",
    "Schmidt, Anna",
    "Martin, Louis",
    "Virtanen Oy",
];

const BICS: &[&str] = &[
    "DEUTDEFFXXX",
    "BNPAFRPPXXX",
    "UNCRITMMXXX",
    "CAIXESBBXXX",
    "INGBNL2AXXX",
    "PKOPPLPWXXX",
    "NDEASESSXXX",
    "BOFIIE2DXXX",
    "ETHNGRAAXXX",
    "COBADEFFXXX",
    "SOGEFRPPXXX",
    "OKOYFIHHXXX",
];

fn counterparty(rng: &mut SplitMix64) -> (&'static str, String, &'static str) {
    let i = rng.below(NAMES.len() as u64) as usize;
    let name = NAMES.get(i).copied().unwrap_or("Counterparty");
    let bic = BICS
        .get(rng.below(BICS.len() as u64) as usize)
        .copied()
        .unwrap_or("CLRWDEFFXXX");
    (name, iban(rng), bic)
}

/// A German IBAN with correct ISO 7064 check digits: `DEkk` + 8-digit bank code + 10-digit account.
fn iban(rng: &mut SplitMix64) -> String {
    let bban = format!(
        "{:08}{:010}",
        10_000_000 + rng.below(89_999_999),
        rng.below(10_000_000_000)
    );
    // Check digits: 98 - (bban + "DE00" as digits, D=13 E=14) mod 97.
    let mut rem = 0u64;
    for b in bban.bytes().chain(*b"131400") {
        rem = (rem * 10 + u64::from(b - b'0')) % 97;
    }
    format!("DE{:02}{bban}", 98 - rem)
}

/// A UUID v4 in the lowercase form `UETR` requires.
fn uetr(rng: &mut SplitMix64) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFF,
        8 + (b >> 62),
        (b >> 48) & 0xFFF,
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_check_digits_verify() {
        let mut rng = SplitMix64::keyed(&[7]);
        for _ in 0..100 {
            let iban = iban(&mut rng);
            // Move the first four characters to the end, letters to numbers: mod 97 is 1.
            let moved: String = iban[4..].chars().chain(iban[..4].chars()).collect();
            let mut rem = 0u64;
            for c in moved.chars() {
                let v = c.to_digit(36).map(u64::from).unwrap_or(0);
                rem = if v >= 10 {
                    (rem * 100 + v) % 97
                } else {
                    (rem * 10 + v) % 97
                };
            }
            assert_eq!(rem, 1, "{iban}");
            assert_eq!(iban.len(), 22);
        }
    }

    #[test]
    fn uetr_is_a_v4_uuid() {
        let mut rng = SplitMix64::keyed(&[1]);
        for _ in 0..100 {
            let u = uetr(&mut rng);
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!(&u[14..15], "4");
            assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        }
    }

    #[test]
    fn entries_are_spread_over_accounts() {
        let o = Camt053Options {
            entries: 10,
            accounts: 3,
            seed: 0,
        };
        assert_eq!(
            (0..3).map(|s| entries_of(&o, s)).collect::<Vec<_>>(),
            vec![4, 3, 3]
        );
    }
}
