//! ISO 20022 bank messages → `clearway.status.v1`: one module per message (pacs.002, pacs.004,
//! camt.029, camt.054, an incoming pacs.008). Each reads the family model `iso20022::read` gives
//! and returns one status event per transaction (or per group / entry where the message has no
//! transactions), in message order.
//!
//! A status id is `{bank}-{message type}-{MsgId}-{place}`, where the place counts the
//! transaction inside the message (`tx1`, `grp1`, `n1e2t1`): the same message always gives the
//! same ids, so a redelivery is recognised. What the model cannot say (a missing status, a code
//! not in `adapters/data/iso20022_status.toml`, a negative amount) is an error naming the element
//! path and its byte offset.

mod camt029;
mod camt054;
mod pacs002;
mod pacs004;
mod pacs008;

use iso20022::model::common::{Account, ActiveAmount, ReasonInfo};
use iso20022::wire::tree::{Doc, Node};
use iso20022::wire::{Body, ISO_NS_PREFIX};

use super::InboundError;
use super::codes::Codes;
use crate::money::AmountField;
use crate::profile::Profile;
use crate::status::{Reason, Status, StatusEvent};

/// `Reference::message_type` when the answer does not name the original message.
pub(crate) const UNSPECIFIED: &str = "unspecified";

/// Reads one ISO 20022 message (any envelope the reader knows) into its status events.
pub(super) fn read(profile: &Profile, text: &str) -> Result<Vec<StatusEvent>, InboundError> {
    let message = iso20022::read(text).map_err(InboundError::Read)?;
    let version = message.document.version;
    let ctx = |msg_id: &str| Ctx {
        bank: &profile.id,
        version_id: version.id(),
        message_type: version.message_type(),
        root: version.root_element(),
        msg_id: msg_id.to_owned(),
        input: text,
    };
    match &message.document.body {
        Body::PaymentStatusReport(m) => pacs002::events(&ctx(m.grp_hdr.msg_id.as_str()), m),
        Body::PaymentReturn(m) => pacs004::events(&ctx(m.grp_hdr.msg_id.as_str()), m),
        Body::InvestigationResolution(m) => camt029::events(&ctx(&m.assgnmt.id), m),
        Body::Notification(m) => camt054::events(&ctx(m.grp_hdr.msg_id.as_str()), m),
        Body::FiCreditTransfer(m) => pacs008::events(&ctx(m.grp_hdr.msg_id.as_str()), m),
        Body::CustomerCreditTransferInitiation(_)
        | Body::CancellationRequest(_)
        | Body::Statement(_) => Err(InboundError::NotInbound(version.id().to_owned())),
    }
}

/// One step of an element path below the message element: the tag and, for a repeated
/// element, which one (0-based; shown 1-based).
pub(crate) type Step = (&'static str, Option<usize>);

/// What every mapper needs to know about the message it reads.
pub(crate) struct Ctx<'a> {
    bank: &'a str,
    /// `pacs.002.001.10`.
    version_id: &'static str,
    /// `pacs.002`.
    message_type: &'static str,
    /// `FIToFIPmtStsRpt`.
    root: &'static str,
    /// The message's own id (`GrpHdr/MsgId`, camt.029 `Assgnmt/Id`).
    msg_id: String,
    /// The message text, to find byte offsets for errors.
    input: &'a str,
}

impl Ctx<'_> {
    /// A status event for the transaction at `place`.
    pub(crate) fn event(
        &self,
        place: &str,
        in_reply_to: crate::status::Reference,
        status: Status,
    ) -> StatusEvent {
        StatusEvent::new(
            format!(
                "{}-{}-{}-{place}",
                self.bank, self.message_type, self.msg_id
            ),
            self.bank,
            self.version_id,
            in_reply_to,
            status,
        )
    }

    /// The status `code` (read at `steps`) means, per the shipped table.
    pub(crate) fn status_of(&self, code: &str, steps: &[Step]) -> Result<Status, InboundError> {
        Codes::shipped()
            .lookup(self.message_type, code)
            .map(|r| r.status)
            .ok_or_else(|| {
                self.error(
                    steps,
                    format!(
                        "status code `{code}` is not mapped for {} (mapped: {})",
                        self.message_type,
                        Codes::shipped().codes_of(self.message_type).join(", ")
                    ),
                )
            })
    }

    /// An error about the element at `steps` (or, when it is absent, the nearest parent that
    /// is there: its offset is where the missing element belongs).
    pub(crate) fn error(&self, steps: &[Step], problem: impl Into<String>) -> InboundError {
        let mut path = format!("Document/{}", self.root);
        for (tag, nth) in steps {
            path.push('/');
            path.push_str(tag);
            if let Some(n) = nth {
                path.push_str(&format!("[{}]", n + 1));
            }
        }
        InboundError::Content {
            path,
            offset: offset_of(self.input, self.root, steps),
            problem: problem.into(),
        }
    }

    /// An amount as status events carry it: no sign, and a currency of three capital letters
    /// (any ISO 4217 code, including those the outbound side does not send; the value is kept
    /// with all its digits, never rounded).
    pub(crate) fn amount(
        &self,
        amount: &ActiveAmount,
        steps: &[Step],
    ) -> Result<AmountField, InboundError> {
        let ccy = amount.ccy.as_str();
        if ccy.len() != 3 || !ccy.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(self.error(
                steps,
                format!("currency {ccy:?} is not three capital letters"),
            ));
        }
        if amount.value.is_sign_negative() {
            return Err(self.error(steps, "negative amount"));
        }
        Ok(AmountField {
            value: amount.canonical_text(),
            currency: ccy.to_owned(),
        })
    }

    /// A date (`2026-01-15`) or date-time whose date part is a real calendar date, as given.
    pub(crate) fn date(&self, text: &str, steps: &[Step]) -> Result<String, InboundError> {
        let day = text.get(..10).unwrap_or(text);
        let rest = text.get(10..).unwrap_or("");
        match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(_) if rest.is_empty() || rest.starts_with(['T', 'Z', '+', '-']) => {
                Ok(text.to_owned())
            }
            _ => Err(self.error(steps, format!("{text:?} is not an ISO date"))),
        }
    }

    /// A UETR: a UUID in its 8-4-4-4-12 hexadecimal form.
    pub(crate) fn uetr(
        &self,
        uetr: Option<&iso20022::model::common::Uetr>,
        steps: &[Step],
    ) -> Result<Option<String>, InboundError> {
        let Some(uetr) = uetr else {
            return Ok(None);
        };
        let text = uetr.as_str();
        let groups: Vec<&str> = text.split('-').collect();
        let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups
                .iter()
                .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
        if shaped {
            Ok(Some(text.to_owned()))
        } else {
            Err(self.error(steps, format!("UETR {text:?} is not a UUID")))
        }
    }
}

/// The reasons of a status, return or cancellation answer.
pub(crate) fn reasons(infos: &[ReasonInfo]) -> Vec<Reason> {
    infos
        .iter()
        .map(|info| Reason {
            code: info
                .rsn
                .as_ref()
                .and_then(|r| r.cd.as_ref())
                .map(|c| c.as_str().to_owned()),
            proprietary: info.rsn.as_ref().and_then(|r| r.prtry.clone()),
            additional_info: info.addtl_inf.clone(),
        })
        .collect()
}

/// An account as one string: the IBAN, or the other identification.
pub(crate) fn account_id(account: &Account) -> Option<String> {
    account
        .id
        .iban
        .as_ref()
        .map(|i| i.as_str().to_owned())
        .or_else(|| account.id.othr.as_ref().map(|o| o.id.clone()))
}

/// The byte offset of the element at `steps` below the message element, found again in the
/// text (only on the error path, so reading costs nothing when all is well). Falls back to the
/// deepest element that exists, or 0 when the text cannot be read again.
fn offset_of(input: &str, root: &str, steps: &[Step]) -> usize {
    let Ok(doc) = Doc::read(input) else {
        return 0;
    };
    let Some(document) = doc.roots().find_map(find_document) else {
        return 0;
    };
    let Some(mut node) = document.children().find(|c| c.name() == root) else {
        return document.offset();
    };
    for (tag, nth) in steps {
        match node
            .children()
            .filter(|c| c.name() == *tag)
            .nth(nth.unwrap_or(0))
        {
            Some(child) => node = child,
            None => break,
        }
    }
    node.offset()
}

fn find_document(node: Node<'_>) -> Option<Node<'_>> {
    if node.name() == "Document" && node.ns().starts_with(ISO_NS_PREFIX) {
        return Some(node);
    }
    node.children().find_map(find_document)
}
