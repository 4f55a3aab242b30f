//! Wallet events to ISO 20022 / ISO 8583 messages per bank profile, and bank answers back to
//! status events. Not yet built: see the adapters issue. It will depend on the two codec crates
//! and serde only, never on the broker or the store.
