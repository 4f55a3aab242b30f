//! The answer rules. One request gives its answers and the bookings the bank makes for it.
//!
//! ISO 8583 (dialect from the profile): 0100 → 0110 and 0200 → 0210 (DE 39 `00` with a DE 38
//! approval code derived from the hash, or `05`/`51` at `reject_rate`), 0220 → 0230, 0400 → 0410
//! (`00`), 0500 → 0510 (`00`, DE 66 `1`: in balance). DE 2, 3, 4, 7, 11, 12, 32, 37, 41, 42 and
//! 49 are echoed as the request had them.
//!
//! ISO 20022, per transaction (the decision key is the request's MsgId and the transaction's
//! position):
//! - pacs.008: pacs.002 RJCT (AC04, AM04 or RC01) at `reject_rate`; otherwise pacs.002 ACCP at
//!   once, then pacs.002 ACSC and a camt.054 debit notification (booked) at settlement, and at
//!   `return_rate` a pacs.004 at the end of the day (AC04, AC06 or MD07) that credits it back;
//! - pain.001 (a corporate channel): the same, answered with pacs.002.001.10 rather than
//!   pain.002, which Clearway does not ship; its `OrgnlMsgNmId` names the pain.001;
//! - camt.056: camt.029 CNCL, then a pacs.004 (reason FOCR) crediting the amount back, or
//!   camt.029 RJCR (CUST, or NOOR when the request names no amount to return) at
//!   `cancel_reject_rate`;
//! - pacs.004 sent by Clearway: pacs.002 ACCP at once and ACSC at settlement.
//!
//! Versions: the profile's when it names one Clearway ships (`payment_status`, `notification`,
//! `payment_return`, `cancellation_answer`), else pacs.002.001.10, camt.054.001.08,
//! pacs.004.001.09 and camt.029.001.09; a camt.054 goes out whether or not the profile names a
//! `notification` version (the bank books either way).
//!
//! Every answer references the original exactly (OrgnlMsgId, OrgnlMsgNmId, OrgnlInstrId,
//! OrgnlEndToEndId, OrgnlTxId, OrgnlUETR), is written with `iso20022::write` from the family
//! models, and is wrapped as the profile says: an `AppHdr` when `header.bah` (its version the
//! request's, else the profile's `business_header` when shipped, else head.001.001.02), inside
//! the profile's envelope (`none`: AppHdr and Document side by side; `message`: a FedNow-style
//! `Message`; `data_pdu`: a SAA `DataPDU`/`Body`).

use std::borrow::Cow;

use adapters::Profile;
use adapters::profile::{Channel, Envelope as ProfileEnvelope, SettlementMethod};
use emv::iso8583::{Message as CardMessage, Mti, Value};
use iso20022::model::cancellation_request::{Assignment, CancellationRequest};
use iso20022::model::common::*;
use iso20022::model::credit_transfer::{CustomerCreditTransferInitiation, FiCreditTransfer};
use iso20022::model::header::AppHeader;
use iso20022::model::investigation_resolution::{
    CancellationDetails, CancellationTxStatus, InvestigationResolution, InvestigationStatus,
};
use iso20022::model::payment_return::{PaymentReturn, ReturnTx};
use iso20022::model::payment_status::{
    OriginalGroupStatus, PaymentStatusReport, TransactionStatus,
};
use iso20022::model::statement::{
    AccountReport, DateAndDateTime, Entry, EntryDetails, EntryStatus, Notification, References,
    TransactionDetails,
};
use iso20022::wire::map::{Extra, Rest};
use iso20022::wire::tree::Element;
use iso20022::wire::{
    Body, Document, Envelope, EnvelopeKind, Family, Header, ISO_NS_PREFIX, Version,
};
use rust_decimal::Decimal;

use super::statement::{AccountRef, Booking};
use super::{Answer, SimConfig, SimError, Stage, pick, sim_id};

/// A request's answers and the bookings it caused.
pub(crate) struct Response {
    pub(crate) answers: Vec<Answer>,
    pub(crate) bookings: Vec<Booking>,
}

/// The answers a bank sends for `request` (ISO 8583 bytes or ISO 20022 XML, per the profile's
/// channel). A request that does not read, or that is not something a bank answers, is an error
/// naming what could not be read; it never panics.
pub fn answer(profile: &Profile, request: &[u8], cfg: &SimConfig) -> Result<Vec<Answer>, SimError> {
    respond(profile, request, cfg).map(|r| r.answers)
}

/// The message type of a request, for the journal: the MTI, the ISO 20022 version id, or
/// `unreadable`. Never card data.
pub fn identify(profile: &Profile, request: &[u8]) -> String {
    match profile.channel {
        Channel::Iso8583 => profile
            .dialect()
            .and_then(|d| emv::iso8583::unpack(d, request).ok())
            .map_or_else(|| "unreadable".to_owned(), |m| m.mti().as_str().to_owned()),
        Channel::Iso20022 => std::str::from_utf8(request)
            .ok()
            .and_then(|t| iso20022::read(t).ok())
            .map_or_else(
                || "unreadable".to_owned(),
                |m| m.document.version.id().to_owned(),
            ),
    }
}

pub(crate) fn respond(
    profile: &Profile,
    request: &[u8],
    cfg: &SimConfig,
) -> Result<Response, SimError> {
    match profile.channel {
        Channel::Iso8583 => card(profile, request, cfg).map(|a| Response {
            answers: vec![a],
            bookings: Vec::new(),
        }),
        Channel::Iso20022 => xml(profile, request, cfg),
    }
}

// ---------------------------------------------------------------------------------------------
// ISO 8583

/// The fields a response echoes from its request.
const ECHO: &[u16] = &[2, 3, 4, 7, 11, 12, 32, 37, 41, 42, 49];

fn card(profile: &Profile, request: &[u8], cfg: &SimConfig) -> Result<Answer, SimError> {
    let no = |problem: &str| SimError::Profile {
        profile: profile.id.clone(),
        problem: problem.to_owned(),
    };
    let dialect = profile.dialect().ok_or_else(|| no("no ISO 8583 dialect"))?;
    let section = profile
        .iso8583
        .as_ref()
        .ok_or_else(|| no("no [iso8583] section"))?;
    // Decode errors name the field and the offset, never the value.
    let req =
        emv::iso8583::unpack(dialect, request).map_err(|e| SimError::Iso8583(e.to_string()))?;
    let mti = req.mti().as_str().to_owned();
    let (reply, decides, reconciles) = match mti.as_str() {
        "0100" => ("0110", true, false),
        "0200" => ("0210", true, false),
        "0220" => ("0230", false, false),
        "0400" => ("0410", false, false),
        "0500" => ("0510", false, true),
        other => return Err(SimError::Unanswered(format!("MTI {other}"))),
    };
    let text = |n: u16| req.text(n).map(Cow::into_owned).unwrap_or_default();
    let request_key = format!("{mti}-{}-{}-{}", text(11), text(37), section.acquirer_id);
    let build = |problem: String| SimError::Build {
        message_type: reply.to_owned(),
        problem,
    };
    let mut msg = CardMessage::new(Mti::parse(reply).map_err(|e| build(e.to_string()))?);
    for &n in ECHO {
        if let Some(v) = req.get(n) {
            msg.set(n, v.clone());
        }
    }
    let declined = decides
        && cfg
            .reject_rate
            .hits(pick(cfg.seed, "decline", &request_key));
    let code = if declined {
        if pick(cfg.seed, "decline-code", &request_key).is_multiple_of(2) {
            "05"
        } else {
            "51"
        }
    } else {
        "00"
    };
    if decides && !declined {
        let approval = pick(cfg.seed, "approval", &request_key) % 1_000_000;
        msg.set(38, Value::Text(Cow::Owned(format!("{approval:06}"))));
    }
    msg.set(39, Value::Text(Cow::Borrowed(code)));
    if reconciles {
        msg.set(66, Value::Text(Cow::Borrowed("1")));
    }
    let bytes = emv::iso8583::pack(dialect, &msg).map_err(|e| {
        // The packer may quote a value: mask the card data before it leaves.
        build(msg.masker(dialect).mask(&e.to_string()).into_owned())
    })?;
    Ok(Answer {
        message_id: format!("{reply}-{}-{}-{}", text(11), text(37), section.acquirer_id),
        message_type: reply.to_owned(),
        bytes,
        stage: Stage::Immediate,
    })
}

// ---------------------------------------------------------------------------------------------
// ISO 20022

const PACS002: &str = "pacs.002.001.10";
const CAMT054: &str = "camt.054.001.08";
const CAMT029: &str = "camt.029.001.09";
const PACS004: &str = "pacs.004.001.09";
const HEAD: &str = "head.001.001.02";

/// What the answers need to know about one original transaction.
#[derive(Clone)]
struct Original {
    /// Decision key: the request's MsgId and the transaction's position.
    key: String,
    msg_id: MsgId,
    msg_nm_id: String,
    cre_dt_tm: Option<IsoDateTime>,
    instr_id: Option<InstrId>,
    end_to_end_id: Option<EndToEndId>,
    tx_id: Option<TxId>,
    uetr: Option<Uetr>,
    amount: Option<ActiveAmount>,
    account: AccountRef,
}

struct Ctx<'a> {
    profile: &'a Profile,
    cfg: &'a SimConfig,
    /// The request's `AppHdr`, if any: its version is reused and its `Fr` becomes our `To`.
    request_header: Option<&'a Header>,
    versions: Versions,
}

fn xml(profile: &Profile, request: &[u8], cfg: &SimConfig) -> Result<Response, SimError> {
    let text = std::str::from_utf8(request).map_err(|e| SimError::NotUtf8(e.valid_up_to()))?;
    let msg = iso20022::read(text).map_err(|e| SimError::Iso20022(e.to_string()))?;
    let ctx = Ctx {
        profile,
        cfg,
        request_header: msg.header.as_ref(),
        versions: Versions::of(profile)?,
    };
    let version = msg.document.version.id();
    match &msg.document.body {
        Body::FiCreditTransfer(ct) => Ok(credit_transfers(&ctx, fi_originals(&ctx, version, ct))),
        Body::CustomerCreditTransferInitiation(ct) => Ok(credit_transfers(
            &ctx,
            initiation_originals(&ctx, version, ct),
        )),
        Body::CancellationRequest(req) => Ok(cancellations(&ctx, req)),
        Body::PaymentReturn(ret) => Ok(returns_received(&ctx, version, ret)),
        _ => Err(SimError::Unanswered(version.to_owned())),
    }
}

/// The account a transaction debits at this bank: the debtor's, or the profile's own.
fn account_of(ctx: &Ctx<'_>, account: Option<&Account>) -> AccountRef {
    match account.map(|a| &a.id) {
        Some(AccountId {
            iban: Some(iban), ..
        }) => AccountRef::Iban(iban.0.clone()),
        Some(AccountId {
            othr: Some(other), ..
        }) => AccountRef::Other(other.id.clone()),
        _ => AccountRef::Other(format!("{}-settlement", ctx.profile.id)),
    }
}

fn fi_originals(ctx: &Ctx<'_>, version: &str, ct: &FiCreditTransfer) -> Vec<Original> {
    let g = &ct.grp_hdr;
    ct.cdt_trf_tx_inf
        .iter()
        .enumerate()
        .map(|(i, tx)| Original {
            key: format!("{}/{i}", g.msg_id),
            msg_id: g.msg_id.clone(),
            msg_nm_id: version.to_owned(),
            cre_dt_tm: g.cre_dt_tm.clone(),
            instr_id: tx.pmt_id.instr_id.clone(),
            end_to_end_id: tx.pmt_id.end_to_end_id.clone(),
            tx_id: tx.pmt_id.tx_id.clone(),
            uetr: tx.pmt_id.uetr.clone(),
            amount: Some(tx.intr_bk_sttlm_amt.clone()),
            account: account_of(ctx, tx.dbtr_acct.as_ref()),
        })
        .collect()
}

fn initiation_originals(
    ctx: &Ctx<'_>,
    version: &str,
    ct: &CustomerCreditTransferInitiation,
) -> Vec<Original> {
    let g = &ct.grp_hdr;
    let mut out = Vec::new();
    for (p, pmt) in ct.pmt_inf.iter().enumerate() {
        for (i, tx) in pmt.cdt_trf_tx_inf.iter().enumerate() {
            out.push(Original {
                key: format!("{}/{p}/{i}", g.msg_id),
                msg_id: g.msg_id.clone(),
                msg_nm_id: version.to_owned(),
                cre_dt_tm: g.cre_dt_tm.clone(),
                instr_id: tx.pmt_id.instr_id.clone(),
                end_to_end_id: tx.pmt_id.end_to_end_id.clone(),
                tx_id: tx.pmt_id.tx_id.clone(),
                uetr: tx.pmt_id.uetr.clone(),
                amount: tx.amt.instd_amt.clone(),
                account: account_of(ctx, pmt.dbtr_acct.as_ref()),
            });
        }
    }
    out
}

/// pacs.008 / pain.001: status, settlement, notification, sometimes a return.
fn credit_transfers(ctx: &Ctx<'_>, originals: Vec<Original>) -> Response {
    let cfg = ctx.cfg;
    let mut answers = Vec::new();
    let mut bookings = Vec::new();
    for o in &originals {
        if cfg.reject_rate.hits(pick(cfg.seed, "reject", &o.key)) {
            let reason = ["AC04", "AM04", "RC01"]
                .get((pick(cfg.seed, "reject-reason", &o.key) % 3) as usize)
                .copied()
                .unwrap_or("AC04");
            answers.push(status(ctx, o, "RJCT", Some(reason), Stage::Immediate));
            continue;
        }
        answers.push(status(ctx, o, "ACCP", None, Stage::Immediate));
        answers.push(status(ctx, o, "ACSC", None, Stage::Later));
        // An amount-less pain.001 transaction cannot be booked; its status is all it gets.
        let Some(amount) = o.amount.clone() else {
            continue;
        };
        let debit = Booking {
            account: o.account.clone(),
            amount: amount.clone(),
            credit_debit: CreditDebit::Debit,
            batch: o.msg_id.0.clone(),
            refs: refs_of(o),
            booked_on: cfg.clock.date_naive(),
            reference: sim_id(cfg.seed, "booking", &o.key),
        };
        answers.push(notification(ctx, o, &debit));
        bookings.push(debit);
        if cfg.return_rate.hits(pick(cfg.seed, "return", &o.key)) {
            let reason = ["AC04", "AC06", "MD07"]
                .get((pick(cfg.seed, "return-reason", &o.key) % 3) as usize)
                .copied()
                .unwrap_or("AC04");
            let (ret, booking) = payment_return(ctx, o, &amount, reason, Stage::EndOfDay);
            answers.push(ret);
            bookings.push(booking);
        }
    }
    Response { answers, bookings }
}

/// camt.056: one camt.029 per transaction; a pacs.004 after each CNCL.
fn cancellations(ctx: &Ctx<'_>, req: &CancellationRequest) -> Response {
    let cfg = ctx.cfg;
    let mut answers = Vec::new();
    let mut bookings = Vec::new();
    for (u, und) in req.undrlyg.iter().enumerate() {
        // The group reference may sit at the transaction or once for the group
        // (`OrgnlGrpInfAndCxl`, which the model keeps untyped).
        let group = group_of_underlying(&und.rest);
        for (i, tx) in und.tx_inf.iter().enumerate() {
            let (msg_id, msg_nm_id, cre_dt_tm) = match (&tx.orgnl_grp_inf, &group) {
                (Some(g), _) => (
                    g.orgnl_msg_id.clone(),
                    g.orgnl_msg_nm_id.clone().unwrap_or_default(),
                    g.orgnl_cre_dt_tm.clone(),
                ),
                (None, Some((id, nm))) => (MsgId(id.clone()), nm.clone(), None),
                (None, None) => (MsgId::default(), String::new(), None),
            };
            let amount = tx.orgnl_intr_bk_sttlm_amt.clone().or_else(|| {
                tx.orgnl_tx_ref
                    .as_ref()
                    .and_then(|r| r.intr_bk_sttlm_amt.clone())
            });
            let o = Original {
                key: format!("{}/{u}/{i}", req.assgnmt.id),
                msg_id,
                msg_nm_id,
                cre_dt_tm,
                instr_id: tx.orgnl_instr_id.clone(),
                end_to_end_id: tx.orgnl_end_to_end_id.clone(),
                tx_id: tx.orgnl_tx_id.clone(),
                uetr: tx.orgnl_uetr.clone(),
                amount: amount.clone(),
                account: account_of(
                    ctx,
                    tx.orgnl_tx_ref.as_ref().and_then(|r| r.dbtr_acct.as_ref()),
                ),
            };
            let refused = cfg
                .cancel_reject_rate
                .hits(pick(cfg.seed, "cancel-reject", &o.key));
            match (&amount, refused) {
                (Some(amount), false) => {
                    answers.push(resolution(ctx, req, &o, "CNCL", None));
                    let (ret, booking) = payment_return(ctx, &o, amount, "FOCR", Stage::Later);
                    answers.push(ret);
                    bookings.push(booking);
                }
                (None, _) => answers.push(resolution(ctx, req, &o, "RJCR", Some("NOOR"))),
                (Some(_), true) => answers.push(resolution(ctx, req, &o, "RJCR", Some("CUST"))),
            }
        }
    }
    Response { answers, bookings }
}

/// A pacs.004 Clearway sends: acknowledged and settled.
fn returns_received(ctx: &Ctx<'_>, version: &str, ret: &PaymentReturn) -> Response {
    let g = &ret.grp_hdr;
    let mut answers = Vec::new();
    for (i, tx) in ret.tx_inf.iter().enumerate() {
        // The status of a return references the return itself; its own transaction ids are
        // the return's (RtrId as the instruction id).
        let o = Original {
            key: format!("{}/{i}", g.msg_id),
            msg_id: g.msg_id.clone(),
            msg_nm_id: version.to_owned(),
            cre_dt_tm: g.cre_dt_tm.clone(),
            instr_id: tx.rtr_id.as_deref().map(InstrId::from),
            end_to_end_id: tx.orgnl_end_to_end_id.clone(),
            tx_id: tx.orgnl_tx_id.clone(),
            uetr: tx.orgnl_uetr.clone(),
            amount: Some(tx.rtrd_intr_bk_sttlm_amt.clone()),
            account: account_of(ctx, None),
        };
        answers.push(status(ctx, &o, "ACCP", None, Stage::Immediate));
        answers.push(status(ctx, &o, "ACSC", None, Stage::Later));
    }
    Response {
        answers,
        bookings: Vec::new(),
    }
}

/// The `OrgnlMsgId` and `OrgnlMsgNmId` of a camt.056 `OrgnlGrpInfAndCxl`, if present.
fn group_of_underlying(rest: &Rest) -> Option<(String, String)> {
    let el = rest
        .0
        .iter()
        .find(|x| x.element.name == "OrgnlGrpInfAndCxl")?;
    let text = |name: &str| {
        el.element
            .children
            .iter()
            .find(|c| c.name == name)
            .and_then(|c| c.text.clone())
    };
    Some((
        text("OrgnlMsgId")?,
        text("OrgnlMsgNmId").unwrap_or_default(),
    ))
}

fn refs_of(o: &Original) -> References {
    References {
        msg_id: Some(o.msg_id.clone()),
        acct_svcr_ref: None,
        pmt_inf_id: None,
        instr_id: o.instr_id.clone(),
        end_to_end_id: o.end_to_end_id.clone(),
        uetr: o.uetr.clone(),
        tx_id: o.tx_id.clone(),
        rest: Rest::default(),
    }
}

// --- the answers ------------------------------------------------------------------------------

/// The stamp of an answer: the simulated clock, one minute later for what settles later, one
/// hour later at the end of the day.
fn created(cfg: &SimConfig, stage: Stage) -> IsoDateTime {
    let offset = match stage {
        Stage::Immediate => chrono::Duration::zero(),
        Stage::Later => chrono::Duration::minutes(1),
        Stage::EndOfDay => chrono::Duration::hours(1),
    };
    IsoDateTime(
        (cfg.clock + offset)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
    )
}

fn today(cfg: &SimConfig) -> IsoDate {
    IsoDate(cfg.clock.format("%Y-%m-%d").to_string())
}

fn agent(bic: &str) -> Agent {
    Agent {
        fin_instn_id: FinancialInstitution {
            bic: None,
            bicfi: Some(Bic::from(bic)),
            clr_sys_mmb_id: None,
            lei: None,
            nm: None,
            pstl_adr: None,
            rest: Rest::default(),
        },
        rest: Rest::default(),
    }
}

fn group_header(msg_id: &str, created: IsoDateTime) -> GroupHeader {
    GroupHeader {
        msg_id: MsgId::from(msg_id),
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
    }
}

fn original_group(o: &Original) -> OriginalGroup {
    OriginalGroup {
        orgnl_msg_id: o.msg_id.clone(),
        orgnl_msg_nm_id: Some(o.msg_nm_id.clone()),
        orgnl_cre_dt_tm: o.cre_dt_tm.clone(),
        orgnl_nb_of_txs: None,
        orgnl_ctrl_sum: None,
        rest: Rest::default(),
    }
}

fn reason(code: &str) -> ReasonInfo {
    ReasonInfo {
        orgtr: None,
        rsn: Some(CodeOrProprietary {
            cd: Some(Code::from(code)),
            prtry: None,
            rest: Rest::default(),
        }),
        addtl_inf: Vec::new(),
        rest: Rest::default(),
    }
}

/// A pacs.002 for one original transaction.
fn status(ctx: &Ctx<'_>, o: &Original, sts: &str, why: Option<&str>, stage: Stage) -> Answer {
    let id = sim_id(ctx.cfg.seed, sts, &o.key);
    let report = PaymentStatusReport {
        grp_hdr: group_header(&id, created(ctx.cfg, stage)),
        orgnl_grp_inf_and_sts: vec![OriginalGroupStatus {
            orgnl_msg_id: o.msg_id.clone(),
            orgnl_msg_nm_id: Some(o.msg_nm_id.clone()),
            orgnl_cre_dt_tm: o.cre_dt_tm.clone(),
            grp_sts: None,
            sts_rsn_inf: Vec::new(),
            rest: Rest::default(),
        }],
        tx_inf_and_sts: vec![TransactionStatus {
            sts_id: None,
            orgnl_grp_inf: None,
            orgnl_instr_id: o.instr_id.clone(),
            orgnl_end_to_end_id: o.end_to_end_id.clone(),
            orgnl_tx_id: o.tx_id.clone(),
            orgnl_uetr: o.uetr.clone(),
            tx_sts: Some(Code::from(sts)),
            sts_rsn_inf: why.map(reason).into_iter().collect(),
            accptnc_dt_tm: None,
            acct_svcr_ref: None,
            clr_sys_ref: None,
            instg_agt: None,
            instd_agt: None,
            orgnl_tx_ref: None,
            rest: Rest::default(),
        }],
        rest: Rest::default(),
    };
    let version = ctx.versions.status;
    finish(ctx, id, version, Body::PaymentStatusReport(report), stage)
}

/// The `BkTxCd` of a booking: payments, issued credit transfers, SEPA credit transfer or the
/// reversal of one after a return.
fn bank_tx_code(ns: &str, credit_debit: CreditDebit) -> Extra {
    let leaf = |name: &str, text: &str| {
        let mut el = Element::new(ns, name);
        el.text = Some(text.to_owned());
        el
    };
    let mut fmly = Element::new(ns, "Fmly");
    fmly.children.push(leaf("Cd", "ICDT"));
    let sub = match credit_debit {
        CreditDebit::Debit => "ESCT",
        CreditDebit::Credit => "RRTN",
    };
    fmly.children.push(leaf("SubFmlyCd", sub));
    let mut domn = Element::new(ns, "Domn");
    domn.children.push(leaf("Cd", "PMNT"));
    domn.children.push(fmly);
    let mut code = Element::new(ns, "BkTxCd");
    code.children.push(domn);
    Extra {
        after: "AcctSvcrRef".into(),
        element: code,
        same_ns: true,
    }
}

/// An entry with its transactions, as a camt.053 or camt.054 carries it.
pub(crate) fn entry(
    version: &str,
    bookings: &[&Booking],
    reference: &str,
    day: &IsoDate,
) -> Option<Entry> {
    let first = bookings.first()?;
    let total: Decimal = bookings.iter().map(|b| b.amount.value).sum();
    let amount = ActiveAmount {
        value: total,
        ccy: first.amount.ccy.clone(),
    };
    let batch = (bookings.len() > 1).then(|| iso20022::model::statement::Batch {
        msg_id: Some(MsgId(first.batch.clone())),
        pmt_inf_id: None,
        nb_of_txs: Some(bookings.len().to_string()),
        ttl_amt: Some(amount.clone()),
        cdt_dbt_ind: Some(first.credit_debit),
        rest: Rest::default(),
    });
    let date = || DateAndDateTime {
        dt: Some(day.clone()),
        dt_tm: None,
        rest: Rest::default(),
    };
    Some(Entry {
        ntry_ref: None,
        amt: amount,
        cdt_dbt_ind: first.credit_debit,
        rvsl_ind: None,
        sts: Some(EntryStatus::Choice(CodeOrProprietary {
            cd: Some(Code::from("BOOK")),
            prtry: None,
            rest: Rest::default(),
        })),
        bookg_dt: Some(date()),
        val_dt: Some(date()),
        acct_svcr_ref: Some(reference.to_owned()),
        ntry_dtls: vec![EntryDetails {
            btch: batch,
            tx_dtls: bookings
                .iter()
                .map(|b| TransactionDetails {
                    refs: Some(b.refs.clone()),
                    amt: Some(b.amount.clone()),
                    cdt_dbt_ind: Some(b.credit_debit),
                    rest: Rest::default(),
                })
                .collect(),
            rest: Rest::default(),
        }],
        addtl_ntry_inf: None,
        rest: Rest(vec![bank_tx_code(
            &format!("{ISO_NS_PREFIX}{version}"),
            first.credit_debit,
        )]),
    })
}

/// The cash account element of a booking's account.
pub(crate) fn cash_account(account: &AccountRef, ccy: &CurrencyCode) -> Account {
    let (iban, othr) = match account {
        AccountRef::Iban(iban) => (Some(Iban(iban.clone())), None),
        AccountRef::Other(id) => (
            None,
            Some(OtherAccountId {
                id: id.clone(),
                rest: Rest::default(),
            }),
        ),
    };
    Account {
        id: AccountId {
            iban,
            othr,
            rest: Rest::default(),
        },
        ccy: Some(ccy.clone()),
        nm: None,
        rest: Rest::default(),
    }
}

/// A camt.054 for one booking.
fn notification(ctx: &Ctx<'_>, o: &Original, booking: &Booking) -> Answer {
    let id = sim_id(ctx.cfg.seed, "camt.054", &o.key);
    let version = ctx.versions.notification;
    let stage = Stage::Later;
    let day = today(ctx.cfg);
    let report = AccountReport {
        id: id.clone(),
        elctrnc_seq_nb: None,
        lgl_seq_nb: None,
        cre_dt_tm: Some(created(ctx.cfg, stage)),
        acct: cash_account(&booking.account, &booking.amount.ccy),
        bal: Vec::new(),
        ntry: entry(version.id(), &[booking], &booking.reference, &day)
            .into_iter()
            .collect(),
        rest: Rest::default(),
    };
    let body = Notification {
        grp_hdr: group_header(&id, created(ctx.cfg, stage)),
        ntfctn: vec![report],
        rest: Rest::default(),
    };
    finish(ctx, id, version, Body::Notification(body), stage)
}

fn settlement_method(profile: &Profile) -> &'static str {
    match profile.settlement {
        SettlementMethod::Inda => "INDA",
        SettlementMethod::Inga => "INGA",
        SettlementMethod::Cove => "COVE",
        SettlementMethod::Clrg | SettlementMethod::SchemeNet => "CLRG",
    }
}

/// A pacs.004 returning `amount` of `o`, and the credit it books.
fn payment_return(
    ctx: &Ctx<'_>,
    o: &Original,
    amount: &ActiveAmount,
    why: &str,
    stage: Stage,
) -> (Answer, Booking) {
    let cfg = ctx.cfg;
    let id = sim_id(cfg.seed, "pacs.004", &o.key);
    let mut grp_hdr = group_header(&id, created(cfg, stage));
    grp_hdr.nb_of_txs = Some("1".into());
    grp_hdr.sttlm_inf = Some(SettlementInfo {
        sttlm_mtd: Code::from(settlement_method(ctx.profile)),
        sttlm_acct: None,
        clr_sys: None,
        rest: Rest::default(),
    });
    let tx = ReturnTx {
        rtr_id: Some(id.clone()),
        orgnl_grp_inf: Some(OriginalGroup {
            orgnl_cre_dt_tm: None,
            ..original_group(o)
        }),
        orgnl_instr_id: o.instr_id.clone(),
        orgnl_end_to_end_id: o.end_to_end_id.clone(),
        orgnl_tx_id: o.tx_id.clone(),
        orgnl_uetr: o.uetr.clone(),
        orgnl_clr_sys_ref: None,
        orgnl_intr_bk_sttlm_amt: Some(amount.clone()),
        orgnl_intr_bk_sttlm_dt: None,
        rtrd_intr_bk_sttlm_amt: amount.clone(),
        intr_bk_sttlm_dt: Some(today(cfg)),
        rtrd_instd_amt: None,
        chrg_br: None,
        instg_agt: None,
        instd_agt: None,
        rtr_rsn_inf: vec![reason(why)],
        orgnl_tx_ref: None,
        rest: Rest::default(),
    };
    let body = PaymentReturn {
        grp_hdr,
        orgnl_grp_inf: None,
        tx_inf: vec![tx],
        rest: Rest::default(),
    };
    let version = ctx.versions.ret;
    let booking = Booking {
        account: o.account.clone(),
        amount: amount.clone(),
        credit_debit: CreditDebit::Credit,
        batch: id.clone(),
        refs: refs_of(o),
        booked_on: cfg.clock.date_naive(),
        reference: sim_id(cfg.seed, "return-booking", &o.key),
    };
    (
        finish(ctx, id, version, Body::PaymentReturn(body), stage),
        booking,
    )
}

fn party_or_agent_of_bank(ctx: &Ctx<'_>) -> PartyOrAgent {
    PartyOrAgent {
        pty: None,
        agt: Some(agent(&ctx.profile.bic)),
        org_id: None,
        fi_id: None,
        rest: Rest::default(),
    }
}

/// A camt.029 for one cancelled (or not) transaction.
fn resolution(
    ctx: &Ctx<'_>,
    req: &CancellationRequest,
    o: &Original,
    conf: &str,
    why: Option<&str>,
) -> Answer {
    let cfg = ctx.cfg;
    let stage = Stage::Immediate;
    let id = sim_id(cfg.seed, "camt.029", &o.key);
    // The assigner of the request becomes the assignee of the answer (Party40Choice: Pty|Agt).
    let assignee = req
        .assgnmt
        .assgnr
        .clone()
        .filter(|p| p.pty.is_some() || p.agt.is_some())
        .unwrap_or_else(|| PartyOrAgent {
            pty: Some(Party {
                nm: Some("Clearway".into()),
                pstl_adr: None,
                ctry_of_res: None,
                rest: Rest::default(),
            }),
            agt: None,
            org_id: None,
            fi_id: None,
            rest: Rest::default(),
        });
    let body = InvestigationResolution {
        assgnmt: Assignment {
            id: id.clone(),
            assgnr: Some(party_or_agent_of_bank(ctx)),
            assgne: Some(assignee),
            cre_dt_tm: Some(created(cfg, stage)),
            rest: Rest::default(),
        },
        sts: Some(InvestigationStatus {
            conf: Some(Code::from(conf)),
            rest: Rest::default(),
        }),
        cxl_dtls: vec![CancellationDetails {
            tx_inf_and_sts: vec![CancellationTxStatus {
                cxl_sts_id: None,
                orgnl_grp_inf: (!o.msg_id.0.is_empty()).then(|| original_group(o)),
                orgnl_instr_id: o.instr_id.clone(),
                orgnl_end_to_end_id: o.end_to_end_id.clone(),
                orgnl_tx_id: o.tx_id.clone(),
                orgnl_clr_sys_ref: None,
                orgnl_uetr: o.uetr.clone(),
                // Per transaction the code set is ACCR / RJCR / PDCR; CNCL is the case status.
                tx_cxl_sts: Some(Code::from(if conf == "CNCL" { "ACCR" } else { conf })),
                cxl_sts_rsn_inf: why.map(reason).into_iter().collect(),
                orgnl_tx_ref: None,
                rest: Rest::default(),
            }],
            rest: Rest::default(),
        }],
        rest: Rest::default(),
    };
    let version = ctx.versions.resolution;
    finish(ctx, id, version, Body::InvestigationResolution(body), stage)
}

// --- versions and envelopes -------------------------------------------------------------------

/// The profile's version for `family` when Clearway ships it, else `fallback`.
fn version_of(
    profile: &Profile,
    family: &str,
    fallback: &str,
    prefix: &str,
) -> Result<Version, SimError> {
    profile
        .messages
        .get(family)
        .filter(|v| v.starts_with(prefix))
        .and_then(|v| Version::from_id(v))
        .or_else(|| Version::from_id(fallback))
        .ok_or_else(|| SimError::Build {
            message_type: fallback.to_owned(),
            problem: "not a version Clearway ships".into(),
        })
}

/// The answer versions for a profile.
#[derive(Clone, Copy)]
struct Versions {
    status: Version,
    notification: Version,
    ret: Version,
    resolution: Version,
}

impl Versions {
    fn of(profile: &Profile) -> Result<Versions, SimError> {
        Ok(Versions {
            status: version_of(profile, "payment_status", PACS002, "pacs.002")?,
            notification: version_of(profile, "notification", CAMT054, "camt.054")?,
            ret: version_of(profile, "payment_return", PACS004, "pacs.004")?,
            resolution: version_of(profile, "cancellation_answer", CAMT029, "camt.029")?,
        })
    }
}

fn header_version(ctx: &Ctx<'_>) -> Option<Version> {
    ctx.request_header
        .map(|h| h.version)
        .or_else(|| {
            ctx.profile
                .messages
                .get("business_header")
                .and_then(|v| Version::from_id(v))
                .filter(|v| v.family() == Family::Header)
        })
        .or_else(|| Version::from_id(HEAD))
}

fn envelope(profile: &Profile, with_header: bool) -> Envelope {
    let mut parts = Vec::new();
    if with_header {
        parts.push(Element::new(ISO_NS_PREFIX, "AppHdr"));
    }
    parts.push(Element::new(ISO_NS_PREFIX, "Document"));
    match profile.envelope {
        ProfileEnvelope::None => Envelope {
            kind: if with_header {
                EnvelopeKind::AppHdrDocument
            } else {
                EnvelopeKind::Bare
            },
            roots: parts,
        },
        ProfileEnvelope::Message => {
            let mut wrapper = Element::new("urn:fednow", "Message");
            wrapper.children = parts;
            Envelope {
                kind: EnvelopeKind::Message,
                roots: vec![wrapper],
            }
        }
        ProfileEnvelope::DataPdu => {
            let ns = "urn:swift:saa:xsd:saa.2.0";
            let mut body = Element::new(ns, "Body");
            body.children = parts;
            let mut wrapper = Element::new(ns, "DataPDU");
            wrapper.children.push(body);
            Envelope {
                kind: EnvelopeKind::Other,
                roots: vec![wrapper],
            }
        }
    }
}

/// Wraps the document as the profile says and writes it.
fn finish(ctx: &Ctx<'_>, id: String, version: Version, body: Body, stage: Stage) -> Answer {
    let bah = ctx.profile.header.as_ref().filter(|h| h.bah);
    let header = match (bah, header_version(ctx)) {
        (Some(h), Some(hv)) => Some(Header {
            version: hv,
            app_hdr: AppHeader {
                fr: PartyOrAgent {
                    fi_id: Some(agent(&ctx.profile.bic)),
                    pty: None,
                    agt: None,
                    org_id: None,
                    rest: Rest::default(),
                },
                to: ctx
                    .request_header
                    .map(|r| r.app_hdr.fr.clone())
                    .unwrap_or_else(|| PartyOrAgent {
                        org_id: Some(Party {
                            nm: Some("Clearway".into()),
                            pstl_adr: None,
                            ctry_of_res: None,
                            rest: Rest::default(),
                        }),
                        pty: None,
                        agt: None,
                        fi_id: None,
                        rest: Rest::default(),
                    }),
                biz_msg_idr: id.clone(),
                msg_def_idr: version.id().to_owned(),
                biz_svc: h.business_service.clone(),
                cre_dt: created(ctx.cfg, stage),
                cpy_dplct: None,
                pssbl_dplct: None,
                prty: None,
                rest: Rest::default(),
            },
            attrs: Vec::new(),
        }),
        _ => None,
    };
    let message = iso20022::Message {
        envelope: envelope(ctx.profile, header.is_some()),
        header,
        document: Document {
            version,
            body,
            attrs: Vec::new(),
        },
    };
    Answer {
        message_id: id,
        message_type: version.id().to_owned(),
        bytes: iso20022::write(&message).into_bytes(),
        stage,
    }
}
