//! Hardening for reading untrusted XML: the limits every reader in this crate applies. DOCTYPE is
//! refused outright (ISO 20022 messages never need one), so there is no entity expansion and no
//! external fetch; the limits bound depth, element count, text size and attribute count.

/// Limits applied while reading; exceeding one is an [`crate::Error::Xml`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum element nesting depth.
    pub depth_max: usize,
    /// Maximum number of elements in one input.
    pub elements_max: u64,
    /// Maximum bytes of text in one element (after entity resolution).
    pub text_bytes_max: usize,
    /// Maximum attributes on one element.
    pub attributes_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            depth_max: 64,
            elements_max: 200_000_000,
            text_bytes_max: 1 << 20,
            attributes_max: 64,
        }
    }
}

/// Resolves a predefined entity name (`amp`, `lt`, …) to its character.
pub fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}
