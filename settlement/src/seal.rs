//! Outbox payloads at rest: the wire bytes of an ISO 8583 message hold the PAN in the clear
//! (the one place they must), and ISO 20022 messages hold names and account numbers, so the
//! store never keeps them as plain bytes. Each payload is sealed with ChaCha20-Poly1305 under a
//! key derived from the store's card key (`CLEARWAY_PAN_KEY`, or the secret the store made
//! once) and opened by the relay just before it publishes.
//!
//! The nonce is derived from the row's `message_id`, which the outbox keeps unique, and a
//! `message_id` always carries the same bytes (they derive from the event), so a nonce never
//! seals two different plaintexts. The `message_id` is also the associated data: a sealed
//! payload copied onto another row does not open.

use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, KeyInit as _, Payload};
use hmac::{KeyInit as _, Mac};
use sha2::{Digest, Sha256};

/// Marks a sealed payload (version 1) ahead of the ciphertext.
const MAGIC: &[u8] = b"CWSEAL1:";

/// Seals and opens outbox payloads.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// A payload that does not open: wrong key, another row's payload, or damaged bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("outbox payload of {message_id}: {reason}")]
pub struct SealError {
    /// The row's message id.
    pub message_id: String,
    /// What failed.
    pub reason: &'static str,
}

impl Sealer {
    /// A sealer whose key is HMAC-SHA256(card key, "clearway outbox seal v1").
    pub fn new(card_key: &[u8]) -> Sealer {
        let derived: [u8; 32] = match hmac::Hmac::<Sha256>::new_from_slice(card_key) {
            Ok(mut mac) => {
                mac.update(b"clearway outbox seal v1");
                mac.finalize().into_bytes().into()
            }
            // HMAC takes keys of any length: unreachable, and still key-dependent
            Err(_) => Sha256::new()
                .chain_update(b"clearway outbox seal v1\0")
                .chain_update(card_key)
                .finalize()
                .into(),
        };
        Sealer {
            cipher: ChaCha20Poly1305::new(&derived.into()),
        }
    }

    /// `MAGIC || ciphertext+tag`.
    pub fn seal(&self, message_id: &str, plain: &[u8]) -> Vec<u8> {
        let nonce = nonce(message_id);
        let sealed = self
            .cipher
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain,
                    aad: message_id.as_bytes(),
                },
            )
            // encryption fails only past 256 GiB per message
            .unwrap_or_default();
        let mut out = Vec::with_capacity(MAGIC.len() + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&sealed);
        out
    }

    /// The plain bytes of a sealed payload; a payload without the mark is returned as it is
    /// (rows written before sealing existed).
    pub fn open(&self, message_id: &str, stored: Vec<u8>) -> Result<Vec<u8>, SealError> {
        let Some(sealed) = stored.strip_prefix(MAGIC) else {
            return Ok(stored);
        };
        self.cipher
            .decrypt(
                &nonce(message_id).into(),
                Payload {
                    msg: sealed,
                    aad: message_id.as_bytes(),
                },
            )
            .map_err(|_| SealError {
                message_id: message_id.to_owned(),
                reason: "does not open with this store's key (wrong CLEARWAY_PAN_KEY, or damaged)",
            })
    }
}

fn nonce(message_id: &str) -> [u8; 12] {
    let digest = Sha256::new()
        .chain_update(b"clearway outbox nonce v1\0")
        .chain_update(message_id.as_bytes())
        .finalize();
    let mut n = [0u8; 12];
    n.copy_from_slice(&digest[..12]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_hides_the_pan() {
        let s = Sealer::new(b"test key");
        let plain = b"0100...4761739001010010...".to_vec();
        let sealed = s.seal("0100-000001-123456789012-1234", &plain);
        assert!(sealed.starts_with(MAGIC));
        assert!(!sealed.windows(16).any(|w| w == b"4761739001010010"));
        assert_eq!(
            s.open("0100-000001-123456789012-1234", sealed.clone()),
            Ok(plain.clone())
        );
        // deterministic: the same row seals to the same bytes
        assert_eq!(s.seal("0100-000001-123456789012-1234", &plain), sealed);
        // another row's id, or another key, does not open it
        assert!(s.open("other", sealed.clone()).is_err());
        assert!(
            Sealer::new(b"other key")
                .open("0100-000001-123456789012-1234", sealed)
                .is_err()
        );
        // unsealed rows pass through
        assert_eq!(s.open("x", b"plain".to_vec()), Ok(b"plain".to_vec()));
    }
}
