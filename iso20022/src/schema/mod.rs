//! A small XSD compiler for the subset the ISO 20022 message schemas use: one global element,
//! named complex types (a `sequence` of elements, `choice`s of elements and `any`; a `choice` of
//! elements; or `simpleContent` extending a simple type with attributes) and named simple types
//! (restrictions of `xs:string`, `xs:decimal`, dates and a few more, with the usual facets).
//! Anything else is a compile error naming the construct, so a new schema that needs more fails
//! the test that compiles every shipped schema rather than validating wrongly.
//!
//! It does not read instance documents: see `validate`.

mod compile;
mod simple;

use std::sync::OnceLock;

pub use simple::{Builtin, Facets, SimpleProblem, SimpleType};

use crate::Error;

/// Index of a type in [`Schema::types`].
pub type TypeId = u32;

/// One compiled message schema.
#[derive(Debug)]
pub struct Schema {
    /// File name of the XSD, e.g. `pacs.008.001.08.xsd`.
    pub file: &'static str,
    /// The target namespace.
    pub namespace: String,
    /// The global element's local name (`Document` or `AppHdr`).
    pub root: String,
    /// The global element's type.
    pub root_type: TypeId,
    /// Every type, by id.
    pub types: Vec<Type>,
}

/// A compiled type.
#[derive(Debug)]
pub enum Type {
    /// Text only.
    Simple(SimpleType),
    /// Element-only content: an ordered list of slots.
    Elements(Vec<Slot>),
    /// Text of a simple type plus attributes (`Amt Ccy="EUR"`).
    SimpleContent {
        /// Type of the text.
        value: TypeId,
        /// Attributes allowed.
        attributes: Vec<Attribute>,
    },
}

/// An attribute declaration.
#[derive(Debug)]
pub struct Attribute {
    /// Local name (unqualified).
    pub name: String,
    /// Its simple type.
    pub ty: TypeId,
    /// `use="required"`.
    pub required: bool,
}

/// One position of a content model: a sequence element, a choice of elements, or a wildcard.
#[derive(Debug)]
pub struct Slot {
    /// The alternatives (one for a sequence element).
    pub alternatives: Vec<Particle>,
    /// Whether at least one occurrence is needed.
    pub required: bool,
}

/// An element (or wildcard) that may fill a slot.
#[derive(Debug)]
pub struct Particle {
    /// What matches.
    pub term: Term,
    /// `minOccurs`.
    pub min: u32,
    /// `maxOccurs` (`u32::MAX` for unbounded).
    pub max: u32,
}

/// What a particle matches.
#[derive(Debug)]
pub enum Term {
    /// An element of the target namespace.
    Element {
        /// Local name.
        name: String,
        /// Its type.
        ty: TypeId,
    },
    /// `xs:any`: content is not validated (no schema for it is loaded).
    Any(Wildcard),
}

/// The namespace constraint of an `xs:any`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wildcard {
    /// `##any`.
    AnyNamespace,
    /// `##other`: any namespace but the target one (and not unqualified).
    Other,
    /// One explicit namespace.
    Namespace(String),
}

impl Particle {
    /// Whether an element with this namespace and local name matches.
    pub fn matches(&self, target: &str, ns: &str, local: &str) -> bool {
        self.matches_fast(ns == target, target, ns, local)
    }

    /// As [`Particle::matches`], with `in_target` (`ns == target`) computed once per element by
    /// the caller, so trying several slots does not compare the long namespace each time.
    #[inline]
    pub fn matches_fast(&self, in_target: bool, target: &str, ns: &str, local: &str) -> bool {
        match &self.term {
            Term::Element { name, .. } => in_target && same_name(name, local),
            Term::Any(Wildcard::AnyNamespace) => true,
            Term::Any(Wildcard::Other) => !in_target && !ns.is_empty(),
            Term::Any(Wildcard::Namespace(n)) => {
                n == ns && n != target || (in_target && n == target)
            }
        }
    }

    /// A short name for messages: the element name, or `any element`.
    pub fn describe(&self) -> String {
        match &self.term {
            Term::Element { name, .. } => name.clone(),
            Term::Any(Wildcard::Namespace(ns)) => format!("any element of {ns}"),
            Term::Any(_) => "any element".to_owned(),
        }
    }
}

/// `a == b`, testing the length and the first byte before comparing the rest: sibling element
/// names are short and mostly differ early, so this avoids most `memcmp` calls.
#[inline]
pub fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// The shipped schemas: (file name, XSD text). Adding a version is one line here plus the file.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "head.001.001.02.xsd",
        include_str!("../../schemas/head.001.001.02.xsd"),
    ),
    (
        "pain.001.001.09.xsd",
        include_str!("../../schemas/pain.001.001.09.xsd"),
    ),
    (
        "pacs.008.001.08.xsd",
        include_str!("../../schemas/pacs.008.001.08.xsd"),
    ),
    (
        "pacs.002.001.10.xsd",
        include_str!("../../schemas/pacs.002.001.10.xsd"),
    ),
    (
        "pacs.004.001.09.xsd",
        include_str!("../../schemas/pacs.004.001.09.xsd"),
    ),
    (
        "pacs.004.001.10.xsd",
        include_str!("../../schemas/pacs.004.001.10.xsd"),
    ),
    (
        "camt.056.001.08.xsd",
        include_str!("../../schemas/camt.056.001.08.xsd"),
    ),
    (
        "camt.029.001.09.xsd",
        include_str!("../../schemas/camt.029.001.09.xsd"),
    ),
    (
        "camt.053.001.02.xsd",
        include_str!("../../schemas/camt.053.001.02.xsd"),
    ),
    (
        "camt.053.001.08.xsd",
        include_str!("../../schemas/camt.053.001.08.xsd"),
    ),
    (
        "camt.054.001.08.xsd",
        include_str!("../../schemas/camt.054.001.08.xsd"),
    ),
];

/// The ISO 20022 namespace prefix; a message id follows it (`pacs.008.001.08`).
pub const ISO_NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// The namespaces of the shipped schemas, in [`SHIPPED`] order.
pub fn supported_namespaces() -> Vec<String> {
    SHIPPED
        .iter()
        .map(|(file, _)| format!("{ISO_NAMESPACE_PREFIX}{}", file.trim_end_matches(".xsd")))
        .collect()
}

type Compiled = Result<Schema, String>;

fn cache() -> &'static [OnceLock<Compiled>] {
    static CELLS: OnceLock<Vec<OnceLock<Compiled>>> = OnceLock::new();
    CELLS.get_or_init(|| SHIPPED.iter().map(|_| OnceLock::new()).collect())
}

/// The compiled schema for a namespace, compiled at first use; `None` when unsupported.
pub fn for_namespace(namespace: &str) -> Option<Result<&'static Schema, Error>> {
    let id = namespace.strip_prefix(ISO_NAMESPACE_PREFIX)?;
    let index = SHIPPED
        .iter()
        .position(|(file, _)| file.strip_suffix(".xsd") == Some(id))?;
    let (file, text) = SHIPPED.get(index)?;
    let cell = cache().get(index)?;
    let compiled = cell.get_or_init(|| compile::compile(file, text));
    Some(compiled.as_ref().map_err(|problem| Error::Schema {
        schema: (*file).to_owned(),
        problem: problem.clone(),
    }))
}

/// Compiles every shipped schema (for tests and start-up checks).
pub fn compile_all() -> Result<Vec<&'static Schema>, Error> {
    supported_namespaces()
        .iter()
        .map(|ns| for_namespace(ns).unwrap_or(Err(Error::NoDocument)))
        .collect()
}
