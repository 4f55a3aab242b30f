//! How the ISO parts of a file are wrapped: a bare `Document`, a Swift `Envelope` with `AppHdr`
//! and `Document`, an `AppHdr` followed by a `Document`, a FedNow-style `Message`, or some other
//! wrapper. Detection happens while validating (one pass); this module only names the results.

use std::fmt;

use serde::Serialize;

use crate::schema::ISO_NAMESPACE_PREFIX;

/// The wrapper the ISO parts came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Envelope {
    /// The root element is the `Document`.
    Bare,
    /// A root `Envelope` (Swift CBPR+ sample convention) holding `AppHdr` and `Document`.
    SwiftEnvelope,
    /// An `AppHdr` root followed by a `Document` root.
    AppHdrThenDocument,
    /// A root `Message` (FedNow) holding `AppHdr` and `Document`.
    Message,
    /// Any other root holding the ISO parts (e.g. SAA `DataPDU`): its local name.
    Other(String),
}

impl Envelope {
    /// Classifies a non-ISO root element by its local name.
    pub fn for_wrapper(local_name: &str) -> Self {
        match local_name {
            "Envelope" => Self::SwiftEnvelope,
            "Message" => Self::Message,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bare => f.write_str("bare Document"),
            Self::SwiftEnvelope => f.write_str("Swift Envelope"),
            Self::AppHdrThenDocument => f.write_str("AppHdr then Document"),
            Self::Message => f.write_str("Message wrapper"),
            Self::Other(name) => write!(f, "{name} wrapper"),
        }
    }
}

/// Which ISO part an element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PartKind {
    /// The business application header.
    AppHdr,
    /// The message itself.
    Document,
}

/// One ISO part seen in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// `AppHdr` or `Document`.
    pub kind: PartKind,
    /// The message identifier from the namespace, e.g. `pacs.008.001.08`.
    pub message: MessageId,
    /// Element path of the part.
    pub path: String,
}

/// A message identifier `area.number.variant.version`, e.g. `pacs.008.001.08`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// From an ISO namespace (`urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08`).
    pub fn from_namespace(namespace: &str) -> Option<Self> {
        let id = namespace.strip_prefix(ISO_NAMESPACE_PREFIX)?;
        let parts: Vec<&str> = id.split('.').collect();
        let ok = parts.len() == 4
            && parts
                .first()
                .is_some_and(|a| a.len() == 4 && a.bytes().all(|b| b.is_ascii_lowercase()))
            && parts.iter().skip(1).all(|p| p.len() == 3 || p.len() == 2)
            && parts
                .iter()
                .skip(1)
                .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        ok.then(|| Self(id.to_owned()))
    }

    /// The message type without version, e.g. `pacs.008`.
    pub fn kind(&self) -> &str {
        self.0.get(..8).unwrap_or(&self.0)
    }

    /// The whole identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
