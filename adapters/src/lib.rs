//! Wallet events to ISO 8583 / ISO 20022 messages per bank profile, and bank answers back to
//! status events.
//!
//! - [`event`]: the versioned event envelope `clearway.event.v1` and the data of each type;
//! - [`profile`]: bank profiles (TOML), checked when loaded;
//! - [`de39`]: the ISO 8583 DE 39 ↔ ISO 20022 `ExternalStatusReason1Code` table;
//! - [`outbound`]: event + profile → wire message, one module per message;
//! - [`inbound`]: bank message → `clearway.status.v1` status event.
//!
//! It depends on the two codec crates and serde only: no broker, no store, no clock. Every
//! derived id and time comes from the event (`event_id`, `occurred_at`).

pub mod de39;
pub mod event;
pub mod generate;
pub mod inbound;
pub mod money;
pub mod outbound;
pub mod profile;
pub mod status;

pub use event::{Event, EventData, EventError, EventType};
pub use outbound::{Outbound, Refusal, adapt, adapt_wire};
pub use profile::{Profile, ProfileError};
