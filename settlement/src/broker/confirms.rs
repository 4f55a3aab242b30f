//! Publishing with publisher confirms, pipelined: up to `in_flight_max` publishes wait for their
//! confirm at once, each with its own deadline. A confirm that does not come in time is an error
//! for the whole channel (lapin #245/#251: late or lost confirms), never a hang; a basic.return
//! (mandatory, unroutable) or a nack is a failure of that one message, reported with its token.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use lapin::{
    BasicProperties, Channel, Confirmation, PublisherConfirm,
    options::{BasicPublishOptions, ConfirmSelectOptions},
    types::{AMQPValue, FieldTable},
};
use tokio::time::Instant;

use super::BrokerError;

/// AMQP delivery mode 2: the broker writes the message to disk (quorum queues always do).
pub(crate) const PERSISTENT: u8 = 2;

/// What the broker said about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Settled {
    Confirmed,
    /// Refused: returned as unroutable (reply code and text) or nacked.
    Refused(String),
}

pub(crate) struct Confirms<T> {
    channel: Channel,
    in_flight: VecDeque<(T, Instant, PublisherConfirm)>,
    settled: Vec<(T, Settled)>,
    in_flight_max: usize,
    timeout: Duration,
}

impl<T> Confirms<T> {
    /// Puts `channel` in confirm mode.
    pub(crate) async fn new(
        channel: Channel,
        in_flight_max: usize,
        timeout: Duration,
    ) -> Result<Confirms<T>, BrokerError> {
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(BrokerError::amqp(
                "confirm.select on channel",
                channel.id().to_string(),
            ))?;
        Ok(Confirms {
            channel,
            in_flight: VecDeque::new(),
            settled: Vec::new(),
            in_flight_max: in_flight_max.max(1),
            timeout,
        })
    }

    /// Publishes one message (mandatory, so an unroutable one comes back as a failure). Waits for
    /// the oldest confirm first when `in_flight_max` are already waiting.
    pub(crate) async fn publish(
        &mut self,
        token: T,
        exchange: &str,
        routing_key: &str,
        properties: BasicProperties,
        body: &[u8],
    ) -> Result<(), BrokerError> {
        while self.in_flight.len() >= self.in_flight_max {
            self.settle_oldest().await?;
        }
        let confirm = self
            .channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                body,
                properties,
            )
            .await
            .map_err(BrokerError::amqp(
                "basic.publish to",
                target(exchange, routing_key),
            ))?;
        self.in_flight
            .push_back((token, Instant::now() + self.timeout, confirm));
        Ok(())
    }

    async fn settle_oldest(&mut self) -> Result<(), BrokerError> {
        let Some((token, deadline, confirm)) = self.in_flight.pop_front() else {
            return Ok(());
        };
        let settled = match tokio::time::timeout_at(deadline, confirm).await {
            Err(_elapsed) => {
                return Err(BrokerError::ConfirmTimeout {
                    target: format!("channel {}", self.channel.id()),
                    timeout: self.timeout,
                });
            }
            Ok(Err(source)) => {
                return Err(BrokerError::Amqp {
                    operation: "publisher confirm on",
                    target: format!("channel {}", self.channel.id()),
                    source,
                });
            }
            Ok(Ok(Confirmation::Ack(None))) => Settled::Confirmed,
            Ok(Ok(Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)))) => {
                Settled::Refused(format!("{} {}", returned.reply_code, returned.reply_text))
            }
            Ok(Ok(Confirmation::Nack(None))) => Settled::Refused("nack".to_owned()),
            Ok(Ok(Confirmation::NotRequested)) => Settled::Refused("no confirm".to_owned()),
        };
        self.settled.push((token, settled));
        Ok(())
    }

    /// Waits for every confirm still in flight.
    pub(crate) async fn drain(&mut self) -> Result<(), BrokerError> {
        while !self.in_flight.is_empty() {
            self.settle_oldest().await?;
        }
        Ok(())
    }

    /// The messages the broker has answered for so far (also after an error: those are known).
    pub(crate) fn take_settled(&mut self) -> Vec<(T, Settled)> {
        std::mem::take(&mut self.settled)
    }

    /// Forgets the publishes still waiting (after an error they count as unsent).
    pub(crate) fn abandon(&mut self) {
        self.in_flight.clear();
    }
}

pub(crate) fn target(exchange: &str, routing_key: &str) -> String {
    if exchange.is_empty() {
        routing_key.to_owned()
    } else {
        format!("{exchange}/{routing_key}")
    }
}

/// String headers as an AMQP table of long strings.
pub(crate) fn field_table(headers: &BTreeMap<String, String>) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in headers {
        table.insert(
            key.as_str().into(),
            AMQPValue::LongString(value.as_str().into()),
        );
    }
    table
}

/// Persistent properties with a message id and headers.
pub(crate) fn properties(message_id: &str, headers: FieldTable) -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_message_id(message_id.into())
        .with_headers(headers)
}
