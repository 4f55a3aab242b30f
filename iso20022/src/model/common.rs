//! Building blocks shared by the message families: identifiers, amounts, parties, agents,
//! accounts, addresses, remittance, settlement, reasons and original references.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::wire::map::{MapError, Path, Xml, leaf_text, parse_decimal};
use crate::wire::tree::{self, Node};

text_type! {
    /// Message identification (`MsgId`).
    MsgId,
    /// End-to-end identification.
    EndToEndId,
    /// Transaction identification.
    TxId,
    /// Instruction identification.
    InstrId,
    /// Unique end-to-end transaction reference (a UUID v4).
    Uetr,
    /// Business identifier code.
    Bic,
    /// International bank account number.
    Iban,
    /// Legal entity identifier.
    Lei,
    /// ISO 4217 currency code.
    CurrencyCode,
    /// ISO date (`2024-01-31`), kept as given.
    IsoDate,
    /// ISO date-time, kept as given (with or without offset).
    IsoDateTime,
    /// An external code (status, reason, purpose…), kept as given.
    Code,
    /// Country code (ISO 3166 alpha-2).
    Country,
}

/// ISO 4217 minor units for the currencies whose exponent is not 2 (the rest use 2).
const EXPONENTS: &[(&str, u32)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

impl CurrencyCode {
    /// Minor units of the currency (ISO 4217 exponent); 2 when not listed.
    pub fn exponent(&self) -> u32 {
        EXPONENTS
            .iter()
            .find(|(c, _)| *c == self.0)
            .map_or(2, |(_, e)| *e)
    }
}

/// An amount with its currency (`<X Ccy="EUR">12.50</X>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveAmount {
    /// The value, exact.
    pub value: Decimal,
    /// The currency.
    pub ccy: CurrencyCode,
}

impl ActiveAmount {
    /// The amount written with at least the currency's minor units (`700` EUR -> `700.00`);
    /// more digits than that are kept, never rounded away.
    pub fn canonical_text(&self) -> String {
        let mut v = self.value;
        let exp = self.ccy.exponent();
        if v.scale() < exp {
            v.rescale(exp);
        }
        v.to_string()
    }
}

impl Xml for ActiveAmount {
    fn read(el: Node<'_>, path: &Path<'_>) -> Result<Self, MapError> {
        let Some(ccy) = el.attr("Ccy") else {
            return Err(MapError::at(path, el, "amount without a `Ccy` attribute"));
        };
        if el.attr_count() > 1 {
            return Err(MapError::at(path, el, "unexpected attribute beside `Ccy`"));
        }
        Ok(ActiveAmount {
            value: parse_decimal(el, path)?,
            ccy: CurrencyCode(ccy.to_owned()),
        })
    }

    fn write(&self, tag: &str, out: &mut String) {
        out.push('<');
        out.push_str(tag);
        out.push_str(" Ccy=\"");
        tree::escape_attr(out, self.ccy.as_str());
        out.push_str("\">");
        out.push_str(&self.canonical_text());
        crate::wire::map::close(out, tag);
    }
}

/// Declares an enumerated code mapped to a leaf element.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $( $(#[$vm:meta])* $variant:ident = $text:literal ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        pub enum $name {
            $( $(#[$vm])* #[doc = concat!("`", $text, "`")] #[serde(rename = $text)] $variant, )*
        }

        impl $name {
            /// The ISO code.
            pub fn code(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }
        }

        impl Xml for $name {
            fn read(el: Node<'_>, path: &Path<'_>) -> Result<Self, MapError> {
                match leaf_text(el, path)? {
                    $( $text => Ok($name::$variant), )*
                    t => Err(MapError::at(path, el, format!(
                        "`{t}` is not one of {}", [$($text),*].join(", ")))),
                }
            }
            fn write(&self, tag: &str, out: &mut String) {
                crate::wire::map::write_leaf(out, tag, self.code());
            }
        }
    };
}

code_enum! {
    /// Who bears the charges (`ChrgBr`).
    ChargeBearer { Debtor = "DEBT", Creditor = "CRED", Shared = "SHAR", FollowingServiceLevel = "SLEV" }
}

code_enum! {
    /// Credit or debit (`CdtDbtInd`).
    CreditDebit { Credit = "CRDT", Debit = "DBIT" }
}

iso_struct! {
    /// A code or a proprietary value (`Cd` | `Prtry`), the usual ISO choice.
    pub struct CodeOrProprietary {
        cd: opt Code = "Cd",
        prtry: opt String = "Prtry",
    }
}

iso_struct! {
    /// Structured postal address with address lines (PostalAddress24 and its older forms).
    pub struct PostalAddress {
        dept: opt String = "Dept",
        sub_dept: opt String = "SubDept",
        strt_nm: opt String = "StrtNm",
        bldg_nb: opt String = "BldgNb",
        bldg_nm: opt String = "BldgNm",
        flr: opt String = "Flr",
        pst_bx: opt String = "PstBx",
        room: opt String = "Room",
        pst_cd: opt String = "PstCd",
        twn_nm: opt String = "TwnNm",
        twn_lctn_nm: opt String = "TwnLctnNm",
        dstrct_nm: opt String = "DstrctNm",
        ctry_sub_dvsn: opt String = "CtrySubDvsn",
        ctry: opt Country = "Ctry",
        adr_line: many String = "AdrLine",
    }
}

iso_struct! {
    /// A party (PartyIdentification135): name, address; identification kept as given.
    pub struct Party {
        nm: opt String = "Nm",
        pstl_adr: opt Box<PostalAddress> = "PstlAdr",
        ctry_of_res: opt Country = "CtryOfRes",
    }
}

iso_struct! {
    /// Clearing-system member identification.
    pub struct ClearingSystemMember {
        clr_sys_id: opt CodeOrProprietary = "ClrSysId",
        mmb_id: one String = "MmbId",
    }
}

iso_struct! {
    /// Financial institution identification: BIC (`BICFI`, or `BIC` in older versions), LEI,
    /// clearing-system member id, name and address.
    pub struct FinancialInstitution {
        bic: opt Bic = "BIC",
        bicfi: opt Bic = "BICFI",
        clr_sys_mmb_id: opt Box<ClearingSystemMember> = "ClrSysMmbId",
        lei: opt Lei = "LEI",
        nm: opt String = "Nm",
        pstl_adr: opt Box<PostalAddress> = "PstlAdr",
    }
}

iso_struct! {
    /// An agent (BranchAndFinancialInstitutionIdentification6); branch kept as given.
    pub struct Agent {
        fin_instn_id: one FinancialInstitution = "FinInstnId",
    }
}

iso_struct! {
    /// Other account identification.
    pub struct OtherAccountId {
        id: one String = "Id",
    }
}

iso_struct! {
    /// Account identification: IBAN or other.
    pub struct AccountId {
        iban: opt Iban = "IBAN",
        othr: opt OtherAccountId = "Othr",
    }
}

iso_struct! {
    /// A cash account: identification, currency, name; type, owner and servicer kept as given.
    pub struct Account {
        id: one AccountId = "Id",
        ccy: opt CurrencyCode = "Ccy",
        nm: opt String = "Nm",
    }
}

iso_struct! {
    /// Creditor reference information in structured remittance.
    pub struct CreditorReference {
        r#ref: opt String = "Ref",
    }
}

iso_struct! {
    /// Structured remittance; referred documents and amounts kept as given.
    pub struct StructuredRemittance {
        cdtr_ref_inf: opt CreditorReference = "CdtrRefInf",
        addtl_rmt_inf: many String = "AddtlRmtInf",
    }
}

iso_struct! {
    /// Remittance information: unstructured lines and structured blocks.
    pub struct Remittance {
        ustrd: many String = "Ustrd",
        strd: many StructuredRemittance = "Strd",
    }
}

iso_struct! {
    /// Settlement information of a group header.
    pub struct SettlementInfo {
        sttlm_mtd: one Code = "SttlmMtd",
        sttlm_acct: opt Account = "SttlmAcct",
        clr_sys: opt CodeOrProprietary = "ClrSys",
    }
}

iso_struct! {
    /// A group header (the union of the pacs, pain and camt group headers Clearway reads).
    pub struct GroupHeader {
        msg_id: one MsgId = "MsgId",
        cre_dt_tm: opt IsoDateTime = "CreDtTm",
        nb_of_txs: opt String = "NbOfTxs",
        ctrl_sum: opt Decimal = "CtrlSum",
        initg_pty: opt Party = "InitgPty",
        ttl_intr_bk_sttlm_amt: opt ActiveAmount = "TtlIntrBkSttlmAmt",
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        sttlm_inf: opt SettlementInfo = "SttlmInf",
        instg_agt: opt Agent = "InstgAgt",
        instd_agt: opt Agent = "InstdAgt",
    }
}

iso_struct! {
    /// Payment identification.
    pub struct PaymentId {
        instr_id: opt InstrId = "InstrId",
        end_to_end_id: opt EndToEndId = "EndToEndId",
        tx_id: opt TxId = "TxId",
        uetr: opt Uetr = "UETR",
    }
}

iso_struct! {
    /// A status or return/cancellation reason: originator, code, additional information.
    pub struct ReasonInfo {
        orgtr: opt Party = "Orgtr",
        rsn: opt CodeOrProprietary = "Rsn",
        addtl_inf: many String = "AddtlInf",
    }
}

iso_struct! {
    /// Reference to the original message.
    pub struct OriginalGroup {
        orgnl_msg_id: one MsgId = "OrgnlMsgId",
        orgnl_msg_nm_id: opt String = "OrgnlMsgNmId",
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
        orgnl_nb_of_txs: opt String = "OrgnlNbOfTxs",
        orgnl_ctrl_sum: opt Decimal = "OrgnlCtrlSum",
    }
}

iso_struct! {
    /// Selected fields of the original transaction (`OrgnlTxRef`); the rest kept as given.
    pub struct OriginalTransactionRef {
        intr_bk_sttlm_amt: opt ActiveAmount = "IntrBkSttlmAmt",
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        rmt_inf: opt Remittance = "RmtInf",
        dbtr: opt PartyOrAgent = "Dbtr",
        dbtr_acct: opt Account = "DbtrAcct",
        dbtr_agt: opt Agent = "DbtrAgt",
        cdtr_agt: opt Agent = "CdtrAgt",
        cdtr: opt PartyOrAgent = "Cdtr",
        cdtr_acct: opt Account = "CdtrAcct",
    }
}

iso_struct! {
    /// A party or an agent (Party40Choice / Party44Choice / Party38Choice shapes).
    pub struct PartyOrAgent {
        pty: opt Party = "Pty",
        agt: opt Agent = "Agt",
        org_id: opt Party = "OrgId",
        fi_id: opt Agent = "FIId",
    }
}
