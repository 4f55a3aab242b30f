//! An event to its plan: the items it creates or the item it is an input on, the message
//! `adapters::adapt_wire` made for it, the references its answers will quote, and the card token.

use adapters::event::{Event, EventData};
use adapters::profile::{Channel, Profile};
use adapters::{Outbound, Refusal};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::Ingest;
use crate::flow::DeadReason;
use crate::lifecycle::Input;
use crate::store;

impl Ingest {
    pub(super) fn plan(&self, event: &Event) -> Result<EventPlan, (DeadReason, String)> {
        let Some(profile) = self.profiles.get(&event.bank) else {
            return Err((
                DeadReason::Unmapped,
                format!("{}: no profile {:?}", event.event_id, event.bank),
            ));
        };
        let outbound =
            adapters::adapt_wire(event, profile).map_err(|r| refusal(event, profile, r))?;
        let invalid = |e: String| (DeadReason::Invalid, format!("{}: {e}", event.event_id));
        let event_id = event.event_id.as_str();
        let bank = event.bank.as_str();
        let leg = |id: String, payment: &str, kind: &str, money: (i64, String)| Leg {
            id,
            payment_id: payment.to_owned(),
            kind: kind.to_owned(),
            amount_minor: money.0,
            currency: money.1,
            end_to_end_id: None,
        };
        let card = |c: &adapters::event::card::Card| Some(self.token(&c.pan.0));
        let (legs, existing, ordering_key, card_token) = match &event.data {
            EventData::TransferRequested(d) => {
                let mut l = leg(
                    d.payment_id.clone(),
                    &d.payment_id,
                    "transfer",
                    money(&d.amount).map_err(invalid)?,
                );
                l.end_to_end_id = Some(d.end_to_end_id.clone());
                (vec![l], None, d.payment_id.clone(), None)
            }
            EventData::PayoutBatchRequested(d) => {
                let mut legs = Vec::with_capacity(d.payouts.len());
                for p in &d.payouts {
                    let mut l = leg(
                        p.payment_id.clone(),
                        &p.payment_id,
                        "payout",
                        money(&p.amount).map_err(invalid)?,
                    );
                    l.end_to_end_id = Some(p.end_to_end_id.clone());
                    legs.push(l);
                }
                (legs, None, d.batch_id.clone(), None)
            }
            EventData::TransferReturnRequested(d) => {
                let id = format!("{}:return", d.payment_id);
                let mut l = leg(
                    id,
                    &d.payment_id,
                    "return",
                    money(&d.amount).map_err(invalid)?,
                );
                // the bank's status report on our pacs.004 quotes the returned payment's
                // EndToEndId: that is the reference the answer resolves by
                l.end_to_end_id = Some(d.original_end_to_end_id.clone());
                (vec![l], None, d.payment_id.clone(), None)
            }
            EventData::TransferCancelRequested(d) => (
                Vec::new(),
                Some((d.payment_id.clone(), Input::CancelRequested)),
                d.payment_id.clone(),
                None,
            ),
            EventData::CardAuthorizationRequested(d) => {
                let l = leg(
                    d.payment_id.clone(),
                    &d.payment_id,
                    "card",
                    money(&d.amount).map_err(invalid)?,
                );
                (vec![l], None, d.payment_id.clone(), card(&d.card))
            }
            // A capture is an input on the payment its authorization created. Every capture
            // names its `card.authorization_requested` event (`authorization.event_id`), on a
            // single-message profile as on a dual one, so with no item yet it waits (parks) for
            // that authorization, which a redelivery or another instance may bring later.
            // Creating the item from the capture would turn the late authorization into a
            // conflict and lose its message.
            EventData::CardCapture(d) => (
                Vec::new(),
                Some((d.payment_id.clone(), Input::Capture)),
                d.payment_id.clone(),
                card(&d.card),
            ),
            EventData::CardAuthorizationReversed(d) => (
                Vec::new(),
                Some((d.payment_id.clone(), Input::ReversalRequested)),
                d.payment_id.clone(),
                card(&d.card),
            ),
            EventData::CardRefund(d) => {
                let id = format!("{}:refund:{event_id}", d.payment_id);
                let l = leg(
                    id,
                    &d.payment_id,
                    "refund",
                    money(&d.amount).map_err(invalid)?,
                );
                (vec![l], None, d.payment_id.clone(), card(&d.card))
            }
            EventData::CardBatchClosed(d) => {
                let net = signed_minor(&d.net, &d.currency).map_err(invalid)?;
                let l = leg(
                    d.batch_id.clone(),
                    &d.batch_id,
                    "batch",
                    (net, d.currency.clone()),
                );
                (vec![l], None, d.batch_id.clone(), None)
            }
            _ => {
                return Err((
                    DeadReason::Unmapped,
                    format!("{}: {} has no clearing item", event_id, event.event_type),
                ));
            }
        };
        let message_id = if outbound.message_key.starts_with(&outbound.message_type) {
            outbound.message_key.clone()
        } else {
            format!("{}-{}", outbound.message_type, outbound.message_key)
        };
        let mut message_refs = Vec::new();
        let mut stan_rrn = None;
        if profile.channel == Channel::Iso8583 {
            // message_key is MTI-STAN-RRN-acquirer: the answer quotes the same STAN and RRN.
            let parts: Vec<&str> = outbound.message_key.split('-').collect();
            if let [_, stan, rrn, _] = parts.as_slice() {
                message_refs.push(format!("card/{bank}/{stan}/{rrn}"));
                stan_rrn = Some(((*stan).to_owned(), (*rrn).to_owned()));
            }
        } else {
            // the message's own id; each leg's EndToEndId points at that leg, added when the
            // leg's item is created (a payout batch's answers name each transaction)
            message_refs.push(format!("msg/{bank}/{}", outbound.message_key));
        }
        Ok(EventPlan {
            event_id: event_id.to_owned(),
            occurred_at: event
                .occurred_at
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            bank: bank.to_owned(),
            legs,
            existing,
            message_id,
            message_refs,
            stan_rrn,
            ordering_key,
            card_token,
            outbound,
        })
    }

    /// HMAC-SHA256 of the PAN under the store's key, hex, and the masked PAN.
    pub(super) fn token(&self, pan: &emv::card::Pan) -> (String, String) {
        let token = match hmac::Hmac::<Sha256>::new_from_slice(&self.pan_key) {
            Ok(mut mac) => {
                mac.update(pan.expose().as_bytes());
                store::to_hex(&mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length; this arm is unreachable in practice and still
            // never stores the PAN.
            Err(_) => store::to_hex(&Sha256::digest(pan.expose().as_bytes())),
        };
        (token, pan.masked())
    }
}

/// An item an event creates.
#[derive(Debug, Clone)]
pub(super) struct Leg {
    pub(super) id: String,
    pub(super) payment_id: String,
    pub(super) kind: String,
    pub(super) amount_minor: i64,
    pub(super) currency: String,
    pub(super) end_to_end_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct EventPlan {
    pub(super) event_id: String,
    /// `occurred_at` in UTC with nanoseconds: parked follow-ups apply in this order.
    pub(super) occurred_at: String,
    pub(super) bank: String,
    pub(super) legs: Vec<Leg>,
    /// The item this event is an input on, when it exists; with no `legs`, the event parks
    /// until it does.
    pub(super) existing: Option<(String, Input)>,
    pub(super) message_id: String,
    pub(super) message_refs: Vec<String>,
    pub(super) stan_rrn: Option<(String, String)>,
    pub(super) ordering_key: String,
    pub(super) card_token: Option<(String, String)>,
    pub(super) outbound: Outbound,
}

/// Why `adapt` refused: `unmapped` when nothing maps this type for this bank (yet), else
/// `invalid` with every reason.
pub(super) fn refusal(event: &Event, profile: &Profile, r: Refusal) -> (DeadReason, String) {
    let reason =
        if event.bank != profile.id || !adapters::outbound::is_built(event.event_type, profile) {
            DeadReason::Unmapped
        } else {
            DeadReason::Invalid
        };
    (
        reason,
        format!("{}: {}", event.event_id, r.reasons.join("; ")),
    )
}

pub(super) fn money(amount: &adapters::money::AmountField) -> Result<(i64, String), String> {
    let m = amount.check().map_err(|e| e.to_string())?;
    let minor =
        i64::try_from(m.minor).map_err(|_| format!("amount {} is too large", amount.value))?;
    Ok((minor, m.currency.as_str().to_owned()))
}

/// A signed decimal string (a batch net) in minor units of `currency`.
pub(super) fn signed_minor(value: &str, currency: &str) -> Result<i64, String> {
    let currency = iso20022::money::Currency::parse(currency)
        .ok_or_else(|| format!("currency {currency:?} is not ISO 4217"))?;
    let mut d: rust_decimal::Decimal = value
        .parse()
        .map_err(|_| format!("net {value:?} is not a decimal"))?;
    let exponent = u32::from(currency.exponent());
    if d.normalize().scale() > exponent {
        return Err(format!(
            "net {value} has more decimals than {} allows",
            currency.as_str()
        ));
    }
    d.rescale(exponent);
    i64::try_from(d.mantissa()).map_err(|_| format!("net {value} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_nets_keep_their_sign() {
        assert_eq!(signed_minor("2423.41", "EUR"), Ok(242_341));
        assert_eq!(signed_minor("-12.5", "EUR"), Ok(-1250));
        assert!(signed_minor("1.234", "EUR").is_err());
    }
}
