//! Queue depths for `clearway status`, by passive declare: the number of ready messages and of
//! consumers, or `None` for a queue that does not exist. A failed passive declare closes its
//! channel, so each missing queue costs a new channel, never the connection.

use lapin::{options::QueueDeclareOptions, protocol::AMQPErrorKind, types::FieldTable};

use super::{BrokerError, Connection};

/// One queue as the broker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueDepth {
    pub queue: String,
    /// Ready messages (not counting those delivered and not yet acked); `None`: no such queue.
    pub messages: Option<u32>,
    pub consumers: Option<u32>,
}

/// Passive-declares each queue in turn.
pub async fn queue_depths(
    conn: &Connection,
    queues: &[String],
) -> Result<Vec<QueueDepth>, BrokerError> {
    let mut channel = conn.channel().await?;
    let mut depths = Vec::with_capacity(queues.len());
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    for queue in queues {
        match channel
            .queue_declare(queue.as_str().into(), passive, FieldTable::default())
            .await
        {
            Ok(state) => depths.push(QueueDepth {
                queue: queue.clone(),
                messages: Some(state.message_count()),
                consumers: Some(state.consumer_count()),
            }),
            Err(error) if is_not_found(&error) => {
                depths.push(QueueDepth {
                    queue: queue.clone(),
                    messages: None,
                    consumers: None,
                });
                channel = conn.channel().await?;
            }
            Err(source) => {
                return Err(BrokerError::Amqp {
                    operation: "queue.declare (passive)",
                    target: queue.clone(),
                    source,
                });
            }
        }
    }
    let _ = channel.close(200, "depths read".into()).await;
    Ok(depths)
}

fn is_not_found(error: &lapin::Error) -> bool {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) => matches!(
            amqp.kind(),
            AMQPErrorKind::Soft(lapin::protocol::AMQPSoftError::NOTFOUND)
        ),
        _ => false,
    }
}
