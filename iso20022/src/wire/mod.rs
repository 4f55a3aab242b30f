//! Wire versions: detecting the message and its envelope, and mapping XML <-> model.
//!
//! Reading: [`read`] parses the bytes into a [`tree`], finds the ISO 20022 parts (the `Document`
//! and an optional `AppHdr`) whatever their prefix, names the envelope around them, picks the
//! wire version from the `Document` namespace ([`versions::VERSIONS`]) and maps the part into its
//! family model. Writing: [`write()`] emits the same envelope with every ISO part written
//! canonically (prefix-free default namespace, typed fields in XSD order, kept extras in
//! place, amounts with the currency's minor units), UTF-8 with an XML declaration.
//!
//! Adding a wire version is a schema file plus a row in [`versions::VERSIONS`] (and, when the
//! version renames or reshapes a typed element, a mapping function for that difference).

pub mod map;
pub mod tree;
pub mod versions;

use serde::Serialize;

use crate::model::credit_transfer::{CustomerCreditTransferInitiation, FiCreditTransfer};
use crate::model::header::AppHeader;
use crate::model::{
    cancellation_request::CancellationRequest, investigation_resolution::InvestigationResolution,
    payment_return::PaymentReturn, payment_status::PaymentStatusReport, statement::Notification,
    statement::Statement,
};
use map::{MapError, Path, Xml};
use tree::{Element, Node};
pub use versions::{Family, Version};

/// Every ISO 20022 message namespace starts with this.
pub const ISO_NS_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// The envelope a message came in (and is written back in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvelopeKind {
    /// A bare `Document`.
    Bare,
    /// A Swift-style `Envelope` holding `AppHdr` and `Document`.
    Swift,
    /// An `AppHdr` followed by a `Document`, with no wrapper.
    AppHdrDocument,
    /// A `Message`-style wrapper (FedNow) holding `AppHdr` and `Document`.
    Message,
    /// Another wrapper element around the ISO parts.
    Other,
}

impl EnvelopeKind {
    /// A short name for output.
    pub fn name(self) -> &'static str {
        match self {
            EnvelopeKind::Bare => "bare Document",
            EnvelopeKind::Swift => "Swift Envelope",
            EnvelopeKind::AppHdrDocument => "AppHdr + Document",
            EnvelopeKind::Message => "Message wrapper",
            EnvelopeKind::Other => "other wrapper",
        }
    }
}

/// The envelope: its kind and the non-ISO elements around the ISO parts, kept whole. The ISO
/// parts are left in it as empty placeholders (`AppHdr`, `Document`) that [`write()`] fills.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope {
    /// What was seen.
    pub kind: EnvelopeKind,
    /// The top-level elements with placeholders.
    #[serde(skip)]
    pub roots: Vec<Element>,
}

impl Envelope {
    /// A bare document.
    pub fn bare() -> Self {
        Envelope {
            kind: EnvelopeKind::Bare,
            roots: vec![Element::new(ISO_NS_PREFIX, "Document")],
        }
    }

    /// A Swift envelope with `AppHdr` and `Document`.
    pub fn swift() -> Self {
        let mut env = Element::new("urn:swift:xsd:envelope", "Envelope");
        env.children.push(Element::new(ISO_NS_PREFIX, "AppHdr"));
        env.children.push(Element::new(ISO_NS_PREFIX, "Document"));
        Envelope {
            kind: EnvelopeKind::Swift,
            roots: vec![env],
        }
    }
}

/// The message body, one variant per family model.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Body {
    /// pacs.008.
    FiCreditTransfer(FiCreditTransfer),
    /// pain.001.
    CustomerCreditTransferInitiation(CustomerCreditTransferInitiation),
    /// pacs.002.
    PaymentStatusReport(PaymentStatusReport),
    /// pacs.004.
    PaymentReturn(PaymentReturn),
    /// camt.056.
    CancellationRequest(CancellationRequest),
    /// camt.029.
    InvestigationResolution(InvestigationResolution),
    /// camt.053.
    Statement(Statement),
    /// camt.054.
    Notification(Notification),
}

/// The ISO `Document`: wire version and typed body; `rest` keeps anything beside the message
/// element (there is normally nothing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// Wire version the document was read from / will be written as.
    pub version: Version,
    /// The typed message.
    pub body: Body,
    /// Attributes of the `Document` element (e.g. `xsi:schemaLocation`), kept.
    #[serde(skip)]
    pub attrs: Vec<tree::Attribute>,
}

/// A full message: envelope, optional business application header, document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The envelope seen (or to write).
    pub envelope: Envelope,
    /// The BAH with its version, if any.
    pub header: Option<Header>,
    /// The document.
    pub document: Document,
}

/// A business application header with its wire version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    /// Wire version (`head.001.001.02`).
    pub version: Version,
    /// The typed header.
    pub app_hdr: AppHeader,
    /// Attributes of the `AppHdr` element, kept.
    #[serde(skip)]
    pub attrs: Vec<tree::Attribute>,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Not well-formed, refused construct, or over a limit.
    #[error("XML: {0}")]
    Xml(#[from] tree::XmlError),
    /// No ISO 20022 `Document` found.
    #[error("no ISO 20022 Document element (namespace {ISO_NS_PREFIX}…) found")]
    NoDocument,
    /// A namespace Clearway does not support.
    #[error(
        "{path}: at byte {offset}: unsupported namespace `{ns}`; supported: {}",
        versions::supported_list()
    )]
    Unsupported {
        /// The namespace seen.
        ns: String,
        /// Element path.
        path: String,
        /// Byte offset.
        offset: usize,
    },
    /// The content does not map to the model.
    #[error("{0}")]
    Map(#[from] MapError),
}

fn is_iso_part(el: &Element) -> bool {
    (el.name == "Document" || el.name == "AppHdr") && el.ns.starts_with(ISO_NS_PREFIX)
}

fn is_iso_node(el: Node<'_>) -> bool {
    (el.name() == "Document" || el.name() == "AppHdr") && el.ns().starts_with(ISO_NS_PREFIX)
}

/// Reads a message from bytes (UTF-8).
pub fn read(input: &str) -> Result<Message, ReadError> {
    let tree = tree::Doc::read(input)?;
    let mut doc: Option<Node<'_>> = None;
    let mut hdr: Option<Node<'_>> = None;
    for r in tree.roots() {
        find_parts(r, &mut doc, &mut hdr)?;
    }
    let Some(doc) = doc else {
        return Err(ReadError::NoDocument);
    };
    let roots: Vec<Node<'_>> = tree.roots().collect();
    let kind = match roots.as_slice() {
        [one] if is_iso_node(*one) => EnvelopeKind::Bare,
        [a, b] if is_iso_node(*a) && is_iso_node(*b) => EnvelopeKind::AppHdrDocument,
        [one] if one.name() == "Envelope" => EnvelopeKind::Swift,
        [one] if one.name() == "Message" => EnvelopeKind::Message,
        _ => EnvelopeKind::Other,
    };
    let header = match hdr {
        Some(h) => Some(read_header(h)?),
        None => None,
    };
    let document = read_document(doc)?;
    // The envelope keeps everything but the ISO parts, which become empty placeholders.
    let placeholder = |n: Node<'_>| is_iso_node(n).then(|| Element::new(ISO_NS_PREFIX, n.name()));
    let roots = roots
        .iter()
        .map(|r| r.to_element_with(&placeholder))
        .collect();
    Ok(Message {
        envelope: Envelope { kind, roots },
        header,
        document,
    })
}

/// Finds the first `Document` and `AppHdr` in the tree (not looking inside them). A second
/// `Document` or `AppHdr` is refused: one message per input, nothing dropped.
fn find_parts<'d>(
    el: Node<'d>,
    doc: &mut Option<Node<'d>>,
    hdr: &mut Option<Node<'d>>,
) -> Result<(), ReadError> {
    if is_iso_node(el) {
        let slot = if el.name() == "Document" { doc } else { hdr };
        if slot.is_some() {
            return Err(tree::XmlError {
                path: format!("/{}", el.name()),
                offset: el.offset(),
                problem: format!("a second `{}`: one message per input", el.name()),
            }
            .into());
        }
        *slot = Some(el);
        return Ok(());
    }
    for c in el.children() {
        find_parts(c, doc, hdr)?;
    }
    Ok(())
}

fn version_of(el: Node<'_>) -> Result<Version, ReadError> {
    Version::from_namespace(el.ns()).ok_or_else(|| ReadError::Unsupported {
        ns: el.ns().to_string(),
        path: format!("/{}", el.name()),
        offset: el.offset(),
    })
}

fn read_header(el: Node<'_>) -> Result<Header, ReadError> {
    let version = version_of(el)?;
    if version.family() != Family::Header {
        return Err(ReadError::Unsupported {
            ns: el.ns().to_string(),
            path: "/AppHdr".into(),
            offset: el.offset(),
        });
    }
    let app_hdr = AppHeader::read(el, &Path::root("AppHdr"))?;
    Ok(Header {
        version,
        app_hdr,
        attrs: el.owned_attrs(),
    })
}

fn read_document(el: Node<'_>) -> Result<Document, ReadError> {
    let version = version_of(el)?;
    let root = Path::root("Document");
    let tag = version.root_element();
    let mut found = None;
    for c in el.children() {
        if c.same_ns(&el) && c.name() == tag && found.is_none() {
            found = Some(c);
        } else {
            return Err(MapError::at(
                &root,
                c,
                format!("expected one `{tag}` in the Document, found `{}`", c.name()),
            )
            .into());
        }
    }
    let Some(m) = found else {
        return Err(MapError::at(&root, el, format!("missing `{tag}`")).into());
    };
    let path = root.child(tag);
    let body = match version.family() {
        Family::FiCreditTransfer => Body::FiCreditTransfer(Xml::read(m, &path)?),
        Family::CustomerCreditTransferInitiation => {
            Body::CustomerCreditTransferInitiation(Xml::read(m, &path)?)
        }
        Family::PaymentStatusReport => Body::PaymentStatusReport(Xml::read(m, &path)?),
        Family::PaymentReturn => Body::PaymentReturn(Xml::read(m, &path)?),
        Family::CancellationRequest => Body::CancellationRequest(Xml::read(m, &path)?),
        Family::InvestigationResolution => Body::InvestigationResolution(Xml::read(m, &path)?),
        Family::Statement => Body::Statement(Xml::read(m, &path)?),
        Family::Notification => Body::Notification(Xml::read(m, &path)?),
        Family::Header => {
            return Err(MapError::at(&root, el, "a head.001 namespace on a Document").into());
        }
    };
    Ok(Document {
        version,
        body,
        attrs: el.owned_attrs(),
    })
}

/// Writes the ISO `Document` alone (no XML declaration).
pub fn write_document(doc: &Document, out: &mut String) {
    let ns = doc.version.namespace();
    tree::write_start(out, &ns, "Document", &doc.attrs, "");
    out.push('>');
    let tag = doc.version.root_element();
    match &doc.body {
        Body::FiCreditTransfer(b) => b.write(tag, out),
        Body::CustomerCreditTransferInitiation(b) => b.write(tag, out),
        Body::PaymentStatusReport(b) => b.write(tag, out),
        Body::PaymentReturn(b) => b.write(tag, out),
        Body::CancellationRequest(b) => b.write(tag, out),
        Body::InvestigationResolution(b) => b.write(tag, out),
        Body::Statement(b) => b.write(tag, out),
        Body::Notification(b) => b.write(tag, out),
    }
    out.push_str("</Document>");
}

/// Writes the `AppHdr` alone.
pub fn write_header(h: &Header, out: &mut String) {
    let ns = h.version.namespace();
    tree::write_start(out, &ns, "AppHdr", &h.attrs, "");
    out.push('>');
    h.app_hdr.write_content(out);
    out.push_str("</AppHdr>");
}

/// Writes the whole message canonically: XML declaration, the envelope with the ISO parts in
/// their places. A message without envelope placeholders for its header gets none written.
pub fn write(msg: &Message) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    for (i, r) in msg.envelope.roots.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        write_enveloped(&mut out, r, "", msg);
    }
    out.push('\n');
    out
}

fn write_enveloped(out: &mut String, el: &Element, parent_ns: &str, msg: &Message) {
    if is_iso_part(el) {
        if el.name == "Document" {
            write_document(&msg.document, out);
        } else if let Some(h) = &msg.header {
            write_header(h, out);
        }
        return;
    }
    tree::write_start(out, &el.ns, &el.name, &el.attrs, parent_ns);
    if el.text.is_none() && el.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(t) = &el.text {
        tree::escape_text(out, t);
    }
    for c in &el.children {
        write_enveloped(out, c, &el.ns, msg);
    }
    map::close(out, &el.name);
}
