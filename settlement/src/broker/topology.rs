//! Exchanges and queues, declared idempotently: a topic exchange for wallet events and its quorum
//! queue, one `.out` and one `.in` quorum queue per bank profile, and a fanout dead-letter
//! exchange with its queue. Every quorum queue dead-letters to the DLX and has a delivery limit
//! (RabbitMQ 3.10 has no default one), so a message that keeps failing ends in the dead queue
//! instead of looping. Declaring runs on a channel of its own, opened and closed here.

use std::fmt;

use lapin::{
    ExchangeKind,
    options::{
        ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
        QueueDeleteOptions,
    },
    types::{AMQPValue, FieldTable},
};

use super::{BrokerError, Connection};

/// A bank profile id as it appears in queue names: 1 to 100 of `a-z 0-9 - _ .`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BankId(String);

impl BankId {
    pub fn parse(id: &str) -> Result<BankId, BrokerError> {
        let problem = if id.is_empty() || id.len() > 100 {
            Some("must be 1 to 100 characters")
        } else if !id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        }) {
            Some("only a-z, 0-9, '-', '_' and '.' may appear in a queue name")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(BrokerError::BankId {
                id: id.to_owned(),
                problem,
            }),
            None => Ok(BankId(id.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BankId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The names of everything Clearway declares on the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Topic exchange wallet events are published to (routing key = event type).
    pub events_exchange: String,
    /// Quorum queue bound to `events_exchange` with `#`.
    pub events_queue: String,
    /// Bank queues are `<bank_prefix><id>.out` and `<bank_prefix><id>.in`.
    pub bank_prefix: String,
    /// Fanout exchange every quorum queue dead-letters to, and our own dead letters go to.
    pub dead_letter_exchange: String,
    /// Queue bound to `dead_letter_exchange`.
    pub dead_queue: String,
    /// `x-delivery-limit`: deliveries of one message before the broker dead-letters it.
    pub delivery_limit: u32,
}

impl Default for Topology {
    fn default() -> Self {
        Topology::with_prefix("clearway")
    }
}

impl Topology {
    /// The default names with `prefix` instead of `clearway` (tests use a unique prefix).
    pub fn with_prefix(prefix: &str) -> Topology {
        Topology {
            events_exchange: format!("{prefix}.events"),
            events_queue: format!("{prefix}.events"),
            bank_prefix: format!("{prefix}.bank."),
            dead_letter_exchange: format!("{prefix}.dlx"),
            dead_queue: format!("{prefix}.dead"),
            delivery_limit: 20,
        }
    }

    /// `clearway.bank.<id>.out`: what we send to the bank.
    pub fn bank_out(&self, bank: &BankId) -> String {
        format!("{}{bank}.out", self.bank_prefix)
    }

    /// `clearway.bank.<id>.in`: what the bank answers.
    pub fn bank_in(&self, bank: &BankId) -> String {
        format!("{}{bank}.in", self.bank_prefix)
    }

    /// The queues `clearway run` consumes: the events queue and every bank's `.in`.
    pub fn consumed_queues(&self, banks: &[BankId]) -> Vec<String> {
        let mut queues = vec![self.events_queue.clone()];
        queues.extend(banks.iter().map(|b| self.bank_in(b)));
        queues
    }

    /// Every queue of this topology for these banks, for `clearway status`.
    pub fn all_queues(&self, banks: &[BankId]) -> Vec<String> {
        let mut queues = vec![self.events_queue.clone()];
        for bank in banks {
            queues.push(self.bank_out(bank));
            queues.push(self.bank_in(bank));
        }
        queues.push(self.dead_queue.clone());
        queues
    }

    fn quorum_arguments(&self, dead_letter: bool) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert(
            "x-queue-type".into(),
            AMQPValue::LongString("quorum".into()),
        );
        if dead_letter {
            args.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(self.dead_letter_exchange.as_str().into()),
            );
            args.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(self.delivery_limit)),
            );
        }
        args
    }

    /// Declares everything (idempotent: the same arguments as before are a no-op). A queue that
    /// exists with other arguments is an error naming it (`PRECONDITION_FAILED`).
    pub async fn declare(&self, conn: &Connection, banks: &[BankId]) -> Result<(), BrokerError> {
        let channel = conn.channel().await?;
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let queue_options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        // The dead-letter side first: the other queues name its exchange.
        channel
            .exchange_declare(
                self.dead_letter_exchange.as_str().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await
            .map_err(BrokerError::amqp(
                "exchange.declare",
                &self.dead_letter_exchange,
            ))?;
        let dead_queue_args = self.quorum_arguments(false); // a dead letter is not dead-lettered again
        channel
            .queue_declare(
                self.dead_queue.as_str().into(),
                queue_options,
                dead_queue_args,
            )
            .await
            .map_err(BrokerError::amqp("queue.declare", &self.dead_queue))?;
        channel
            .queue_bind(
                self.dead_queue.as_str().into(),
                self.dead_letter_exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(BrokerError::amqp("queue.bind", &self.dead_queue))?;

        channel
            .exchange_declare(
                self.events_exchange.as_str().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await
            .map_err(BrokerError::amqp("exchange.declare", &self.events_exchange))?;
        let mut queues = vec![self.events_queue.clone()];
        for bank in banks {
            queues.push(self.bank_out(bank));
            queues.push(self.bank_in(bank));
        }
        for queue in &queues {
            channel
                .queue_declare(
                    queue.as_str().into(),
                    queue_options,
                    self.quorum_arguments(true),
                )
                .await
                .map_err(BrokerError::amqp("queue.declare", queue))?;
        }
        channel
            .queue_bind(
                self.events_queue.as_str().into(),
                self.events_exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(BrokerError::amqp("queue.bind", &self.events_queue))?;
        let _ = channel.close(200, "declared".into()).await;
        Ok(())
    }

    /// Deletes everything `declare` made for these banks (tests clean up with it).
    pub async fn delete(&self, conn: &Connection, banks: &[BankId]) -> Result<(), BrokerError> {
        let channel = conn.channel().await?;
        for queue in self.all_queues(banks) {
            channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(BrokerError::amqp("queue.delete", &queue))?;
        }
        for exchange in [&self.events_exchange, &self.dead_letter_exchange] {
            channel
                .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .map_err(BrokerError::amqp("exchange.delete", exchange))?;
        }
        let _ = channel.close(200, "deleted".into()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let topology = Topology::default();
        let bank = BankId::parse("sepa-bank").unwrap();
        assert_eq!(topology.bank_out(&bank), "clearway.bank.sepa-bank.out");
        assert_eq!(topology.bank_in(&bank), "clearway.bank.sepa-bank.in");
        assert_eq!(
            topology.consumed_queues(std::slice::from_ref(&bank)),
            ["clearway.events", "clearway.bank.sepa-bank.in"]
        );
        assert_eq!(topology.dead_letter_exchange, "clearway.dlx");
        assert_eq!(topology.dead_queue, "clearway.dead");
    }

    #[test]
    fn bank_ids() {
        assert!(BankId::parse("card-acquirer_2.eu").is_ok());
        for bad in ["", "Sepa", "a b", "a/b", "é"] {
            assert!(BankId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(BankId::parse(&"a".repeat(101)).is_err());
    }
}
