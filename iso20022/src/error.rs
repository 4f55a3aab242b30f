//! The one error type of `iso20022`: input we cannot read (with a byte offset), schemas or rule
//! packs that do not compile. Validation findings are not errors: see `validate::Violation`.

/// Why a message (or a shipped data file) could not be processed at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The XML is not well formed, or breaks a hardening limit. `path` is the element path
    /// reached so far.
    #[error("{path}: {kind} at byte {offset}")]
    Xml {
        /// Element path where reading stopped (`/` before the first element).
        path: String,
        /// Byte offset in the input.
        offset: u64,
        /// What went wrong.
        kind: XmlErrorKind,
    },
    /// The root or ISO part has a namespace we have no schema for.
    #[error("{path}: unsupported namespace `{namespace}` at byte {offset}; supported: {supported}")]
    UnsupportedNamespace {
        /// Element path of the part.
        path: String,
        /// Byte offset of its start tag.
        offset: u64,
        /// The namespace found.
        namespace: String,
        /// The supported namespaces, comma separated.
        supported: String,
    },
    /// No ISO 20022 `Document` was found anywhere in the input.
    #[error("no ISO 20022 Document element found")]
    NoDocument,
    /// A shipped XSD uses a construct the schema compiler does not know.
    #[error("schema {schema}: {problem}")]
    Schema {
        /// Schema file name.
        schema: String,
        /// What is unsupported or inconsistent.
        problem: String,
    },
    /// A rule pack (TOML) is malformed or unknown.
    #[error("rule pack {pack}: {problem}")]
    RulePack {
        /// Pack name or path.
        pack: String,
        /// What is wrong.
        problem: String,
    },
}

/// What is wrong with the XML itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlErrorKind {
    /// quick-xml reported a syntax error.
    #[error("malformed XML: {0}")]
    Syntax(String),
    /// A `<!DOCTYPE …>`: refused, so no entity expansion and no external fetch can happen.
    #[error("DOCTYPE declarations are refused (no DTDs, entities or external references)")]
    Doctype,
    /// An entity reference other than the five predefined ones or a character reference.
    #[error("undeclared entity reference `&{0};`")]
    UnknownEntity(String),
    /// Elements nested deeper than the limit.
    #[error("element nesting deeper than {0}")]
    TooDeep(usize),
    /// More elements than the limit.
    #[error("more than {0} elements")]
    TooManyElements(u64),
    /// A text node longer than the limit.
    #[error("text node longer than {0} bytes")]
    TextTooLong(usize),
    /// An element with more attributes than the limit.
    #[error("more than {0} attributes on one element")]
    TooManyAttributes(usize),
    /// A prefix without a namespace declaration.
    #[error("unbound namespace prefix `{0}`")]
    UnboundPrefix(String),
    /// The input ended inside an element.
    #[error("input ends inside an element")]
    Truncated,
    /// Nothing but whitespace, comments or a declaration.
    #[error("no root element")]
    Empty,
}

impl Error {
    /// A stable rule id for reports that list this error beside violations.
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Xml {
                kind: XmlErrorKind::Doctype | XmlErrorKind::UnknownEntity(_),
                ..
            } => "XML-REFUSED",
            Self::Xml {
                kind:
                    XmlErrorKind::TooDeep(_)
                    | XmlErrorKind::TooManyElements(_)
                    | XmlErrorKind::TextTooLong(_)
                    | XmlErrorKind::TooManyAttributes(_),
                ..
            } => "XML-LIMIT",
            Self::Xml { .. } => "XML-MALFORMED",
            Self::UnsupportedNamespace { .. } => "NS-UNSUPPORTED",
            Self::NoDocument => "NO-DOCUMENT",
            Self::Schema { .. } => "SCHEMA-COMPILE",
            Self::RulePack { .. } => "RULE-PACK",
        }
    }

    /// The element path the error refers to (`/` when none).
    pub fn path(&self) -> &str {
        match self {
            Self::Xml { path, .. } | Self::UnsupportedNamespace { path, .. } => path,
            _ => "/",
        }
    }
}
