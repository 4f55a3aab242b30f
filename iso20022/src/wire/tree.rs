//! The lossless XML layer under the typed models: a borrowed arena ([`Doc`], [`Node`]) that
//! the mapper reads, and a small owned tree ([`Element`]) for what the model keeps whole (the
//! envelope and the children it does not type).
//!
//! Reading is one pass of a small tokenizer over the `&str` input into an arena ([`Doc`]): it
//! knows the subset of XML 1.0 messages use (elements, attributes, text, CDATA, comments,
//! processing instructions, the five predefined entities and character references) and cuts
//! the input only at ASCII delimiters, so names and most text stay slices of the input with no
//! second UTF-8 check (quick-xml re-validated every event, a sixth of the parse). Children are
//! sibling links in one `Vec`, and namespace prefixes are resolved with a small binding stack.
//! Names are resolved to (namespace, local name); prefixes are not kept, because Clearway
//! writes every element prefix-free with a default namespace declared where it changes.
//! Comments, processing instructions and whitespace-only text between elements are dropped
//! (they carry no content); text inside a leaf element is kept exactly (line ends normalised
//! as XML 1.0 says). A `DOCTYPE` is refused (no DTD, no entity expansion), as are unknown
//! entity references, depth over [`MAX_DEPTH`], text over [`MAX_TEXT`] bytes, more than
//! [`MAX_ATTRIBUTES`] attributes on a tag, [`MAX_NAMESPACES`] namespaces in a document or
//! [`MAX_BINDINGS`] declarations in scope, repeated attributes, names XML does not allow and
//! `<` in an attribute value. Every error names the element path and the byte offset.
//!
//! Writing is canonical: attributes in the order read, `<a/>` for an empty element, escapes
//! `&`, `<`, `>` (and `"` in attributes), namespaced attributes under a fixed prefix (`xsi` for
//! XML Schema instance, `xml` for the XML namespace, `n1`, `n2`, … otherwise).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

/// Deepest element nesting accepted (ISO 20022 messages stay under 20).
pub const MAX_DEPTH: usize = 64;
/// Longest text accepted in one element, in bytes.
pub const MAX_TEXT: usize = 1 << 20;

/// The XML Schema instance namespace (`xsi:` attributes).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// One element: resolved name, attributes, text and children.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Element {
    /// Namespace URI ("" when the element is in no namespace); shared between the elements
    /// of one namespace, so reading allocates it once.
    #[serde(skip_serializing_if = "ns_is_empty")]
    pub ns: Arc<str>,
    /// Local name.
    pub name: String,
    /// Attributes other than namespace declarations, in document order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<Attribute>,
    /// Text content; `None` when absent or whitespace-only beside child elements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Child elements in document order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Element>,
    /// Byte offset of the start tag in the input (0 for built elements); not part of equality.
    #[serde(skip)]
    pub offset: usize,
}

fn ns_is_empty(ns: &Arc<str>) -> bool {
    ns.is_empty()
}

impl PartialEq for Element {
    fn eq(&self, other: &Self) -> bool {
        self.ns == other.ns
            && self.name == other.name
            && self.attrs == other.attrs
            && self.text == other.text
            && self.children == other.children
    }
}

/// One attribute with its resolved name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribute {
    /// Namespace URI ("" for an unprefixed attribute).
    #[serde(skip_serializing_if = "str::is_empty")]
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Unescaped value.
    pub value: String,
}

impl Element {
    /// A new element with no attributes, text or children.
    pub fn new(ns: &str, name: &str) -> Self {
        Element {
            ns: Arc::from(ns),
            name: name.to_owned(),
            ..Element::default()
        }
    }

    /// The value of the unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// Depth-first search for the first element with this local name in a namespace for which
    /// `ns_ok` holds (the element itself included).
    pub fn find(&self, name: &str, ns_ok: &dyn Fn(&str) -> bool) -> Option<&Element> {
        if self.name == name && ns_ok(&self.ns) {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name, ns_ok))
    }
}

/// Why the XML could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: at byte {offset}: {problem}")]
pub struct XmlError {
    /// Element path where the problem is (`/` for the document level).
    pub path: String,
    /// Byte offset in the input.
    pub offset: usize,
    /// What is wrong.
    pub problem: String,
}

/// Marks "no node" in the arena links.
pub(crate) const NONE: u32 = u32::MAX;

/// A document read into one arena: every element, attribute and namespace of the input,
/// borrowed from it (only text with references or normalised line ends, and attribute values
/// with references, are copied). The mapper reads typed fields from it; the parts it keeps
/// whole become owned [`Element`]s with [`Node::to_element`].
#[derive(Debug)]
pub struct Doc<'a> {
    nodes: Vec<NodeData<'a>>,
    attrs: Vec<AttrData<'a>>,
    /// Namespace URIs seen, each once; index 0 is "" (no namespace).
    namespaces: Vec<Cow<'a, str>>,
    first_root: u32,
}

#[derive(Debug)]
struct NodeData<'a> {
    name: &'a str,
    ns: u32,
    attrs: (u32, u32),
    text: Option<Cow<'a, str>>,
    first_child: u32,
    next_sibling: u32,
    offset: usize,
}

#[derive(Debug)]
struct AttrData<'a> {
    ns: u32,
    name: &'a str,
    value: Cow<'a, str>,
}

/// One element of a [`Doc`]: a cheap copyable handle.
#[derive(Debug, Clone, Copy)]
pub struct Node<'d> {
    doc: &'d Doc<'d>,
    id: u32,
}

impl<'a> Doc<'a> {
    /// Reads `input` (see the module documentation for what is kept and what is refused).
    pub fn read(input: &'a str) -> Result<Doc<'a>, XmlError> {
        Builder::new(input).run()
    }

    /// The top-level elements, in order.
    pub fn roots(&self) -> Children<'_> {
        Children {
            doc: self.shrink(),
            next: self.first_root,
        }
    }

    fn shrink(&self) -> &Doc<'_> {
        self
    }

    fn node(&self, id: u32) -> Option<&NodeData<'a>> {
        self.nodes.get(id as usize)
    }
}

/// Iterator over sibling elements.
#[derive(Debug, Clone)]
pub struct Children<'d> {
    doc: &'d Doc<'d>,
    next: u32,
}

impl<'d> Iterator for Children<'d> {
    type Item = Node<'d>;
    fn next(&mut self) -> Option<Node<'d>> {
        let data = self.doc.node(self.next)?;
        let node = Node {
            doc: self.doc,
            id: self.next,
        };
        self.next = data.next_sibling;
        Some(node)
    }
}

impl<'d> Node<'d> {
    /// The element's index in its document (for compact references inside this crate).
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// The element with index `id` in the same document.
    pub(crate) fn at(&self, id: u32) -> Node<'d> {
        Node { doc: self.doc, id }
    }

    fn data(&self) -> Option<&'d NodeData<'d>> {
        self.doc.node(self.id)
    }

    /// Local name.
    pub fn name(&self) -> &'d str {
        self.data().map_or("", |d| d.name)
    }

    /// Namespace URI ("" for none).
    pub fn ns(&self) -> &'d str {
        self.data().map_or("", |d| self.doc.ns_text(d.ns))
    }

    /// The namespace's index in its document (equal indexes, equal namespaces); `NONE` for a
    /// handle outside the document.
    #[inline]
    pub(crate) fn ns_id(&self) -> u32 {
        self.data().map_or(NONE, |d| d.ns)
    }

    /// The local name and namespace index in one arena look-up (for the mapper's child loop).
    #[inline]
    pub(crate) fn name_and_ns_id(&self) -> (&'d str, u32) {
        self.data().map_or(("", NONE), |d| (d.name, d.ns))
    }

    /// True when `other` is in the same namespace (an index compare).
    pub fn same_ns(&self, other: &Node<'_>) -> bool {
        self.data().map(|d| d.ns) == other.data().map(|d| d.ns)
    }

    /// Byte offset of the start tag.
    pub fn offset(&self) -> usize {
        self.data().map_or(0, |d| d.offset)
    }

    /// Text content (see [`Element::text`]).
    pub fn text(&self) -> Option<&'d str> {
        self.data().and_then(|d| d.text.as_deref())
    }

    /// True when the element has child elements.
    pub fn has_children(&self) -> bool {
        self.data().is_some_and(|d| d.first_child != NONE)
    }

    /// Child elements in document order.
    pub fn children(&self) -> Children<'d> {
        Children {
            doc: self.doc,
            next: self.data().map_or(NONE, |d| d.first_child),
        }
    }

    fn attr_data(&self) -> &'d [AttrData<'d>] {
        self.data()
            .and_then(|d| self.doc.attrs.get(d.attrs.0 as usize..d.attrs.1 as usize))
            .unwrap_or(&[])
    }

    /// Number of attributes (namespace declarations not counted).
    pub fn attr_count(&self) -> usize {
        self.attr_data().len()
    }

    /// The value of the unprefixed attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&'d str> {
        self.attr_data()
            .iter()
            .find(|a| a.ns == 0 && a.name == name)
            .map(|a| &*a.value)
    }

    /// The attributes as owned values.
    pub fn owned_attrs(&self) -> Vec<Attribute> {
        self.attr_data()
            .iter()
            .map(|a| Attribute {
                ns: self.doc.ns_text(a.ns).to_owned(),
                name: a.name.to_owned(),
                value: a.value.clone().into_owned(),
            })
            .collect()
    }

    /// The element and its subtree as an owned [`Element`].
    pub fn to_element(&self) -> Element {
        self.to_element_with(&|_| None)
    }

    /// Like [`Node::to_element`], but an element for which `replace` gives a value is replaced
    /// by it (used to leave placeholders where the ISO parts were).
    pub fn to_element_with(&self, replace: &dyn Fn(Node<'d>) -> Option<Element>) -> Element {
        self.build(None, replace)
    }

    /// `parent_ns` is the parent's namespace, shared (one `Arc`, no allocation) when equal.
    fn build(
        &self,
        parent_ns: Option<&Arc<str>>,
        replace: &dyn Fn(Node<'d>) -> Option<Element>,
    ) -> Element {
        if let Some(r) = replace(*self) {
            return r;
        }
        let ns = match parent_ns {
            Some(p) if **p == *self.ns() => Arc::clone(p),
            _ => Arc::from(self.ns()),
        };
        let children = self
            .children()
            .map(|c| c.build(Some(&ns), replace))
            .collect();
        Element {
            name: self.name().to_owned(),
            attrs: self.owned_attrs(),
            text: self.text().map(str::to_owned),
            children,
            offset: self.offset(),
            ns,
        }
    }
}

impl Doc<'_> {
    fn ns_text(&self, id: u32) -> &str {
        self.namespaces.get(id as usize).map_or("", |n| &**n)
    }
}

struct Open<'a> {
    id: u32,
    last_child: u32,
    /// Length of `Builder::bindings` before this element's declarations.
    scope: usize,
    /// The name as written in the start tag, which the end tag must repeat.
    qname: &'a str,
}

struct Builder<'a> {
    input: &'a str,
    doc: Doc<'a>,
    stack: Vec<Open<'a>>,
    last_root: u32,
    /// In-scope prefix bindings, innermost last ("" is the default namespace).
    bindings: Vec<(&'a str, u32)>,
    /// Prefixed attributes of the current start tag, resolved after its declarations.
    attr_prefixes: Vec<Option<&'a str>>,
    /// Attribute names of the current start tag as written (for the duplicate check).
    attr_keys: Vec<&'a str>,
    /// Whitespace-only text of the innermost open element, kept until we know whether it is
    /// the content of a leaf (kept) or indentation between children (dropped).
    pending: Option<Cow<'a, str>>,
    /// Byte offset of the construct being read (a tag, a text run, a reference).
    offset: usize,
}

const XML_NS_ID: u32 = 1;

/// Most attributes (namespace declarations included) on one start tag; bounds the duplicate
/// check, which compares each attribute with the ones before it.
pub const MAX_ATTRIBUTES: usize = 256;
/// Most distinct namespace URIs in one input; bounds the interning scan.
pub const MAX_NAMESPACES: usize = 1024;
/// Most namespace declarations in scope at once; bounds the prefix look-up scan.
pub const MAX_BINDINGS: usize = 1024;

/// Bytes allowed in an XML name: the ASCII part of XML 1.0's `NameChar` (letters, digits,
/// `_ - . :`), and every byte of a non-ASCII character (names may hold any letter; the input
/// is `&str`, so those bytes always form whole characters).
const NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':') || c >= 0x80;
        b += 1;
    }
    t
};

/// The offset of the first `<`, `&` or `\r` at or after `from` (the input length when none):
/// where a text run ends or needs a closer look. Eight bytes at a time: a byte equal to `b` is a zero byte of `word ^ b`,
/// and `(x - 0x01…) & !x & 0x80…` marks the lowest zero byte of `x` exactly (bits above it may
/// be false marks, so only the lowest mark is used).
fn text_end(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const LT: u64 = u64::from_le_bytes([b'<'; 8]);
    const AMP: u64 = u64::from_le_bytes([b'&'; 8]);
    const CR: u64 = u64::from_le_bytes([b'\r'; 8]);
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..).and_then(|r| r.first_chunk::<8>()) {
        let word = u64::from_le_bytes(*chunk);
        let marks = zero(word ^ LT) | zero(word ^ AMP) | zero(word ^ CR);
        if marks != 0 {
            return i + (marks.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    scan(bytes, i, |b| !matches!(b, b'<' | b'&' | b'\r'))
}

/// A text run: where it ends, whether it holds a `\r`, and whether it is blank (`None`: it
/// has non-ASCII characters, for [`blank`] to decide).
struct TextRun {
    end: usize,
    cr: bool,
    blank: Option<bool>,
}

/// Reads the text run at `from` in one pass: the leading XML whitespace byte by byte (between
/// elements that is the whole run), the rest with [`text_end`], stopping again at each `\r`.
#[inline(always)]
fn text_run(bytes: &[u8], from: usize) -> TextRun {
    let mut i = from;
    let mut cr = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\n' => {}
            b'\r' => cr = true,
            _ => break,
        }
        i += 1;
    }
    let blank = match bytes.get(i) {
        None | Some(b'<' | b'&') => {
            return TextRun {
                end: i,
                cr,
                blank: Some(true),
            };
        }
        Some(&b) if b >= 0x80 => None,
        Some(_) => Some(false),
    };
    loop {
        i = text_end(bytes, i);
        if bytes.get(i) != Some(&b'\r') {
            return TextRun { end: i, cr, blank };
        }
        cr = true;
        i += 1;
    }
}

#[inline(always)]
fn is_name_byte(b: u8) -> bool {
    NAME_BYTE.get(usize::from(b)).copied().unwrap_or(false)
}

#[inline(always)]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The end of the name at `from`: eight table look-ups per step while eight bytes remain (no
/// bounds check between them), then byte by byte.
#[inline(always)]
fn name_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..).and_then(|r| r.first_chunk::<8>()) {
        match chunk.iter().position(|&b| !is_name_byte(b)) {
            Some(k) => return i + k,
            None => i += 8,
        }
    }
    scan(bytes, i, is_name_byte)
}

/// The first offset at or after `from` whose byte fails `keep` (the input length when none).
#[inline(always)]
fn scan(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let rest = bytes.get(from..).unwrap_or(&[]);
    from + rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len())
}

/// Where `needle` (2 or 3 ASCII bytes) starts at or after `from`: a loop on its first
/// byte, cheaper than the general string search for these short needles.
fn find(input: &str, from: usize, needle: &str) -> Option<usize> {
    let bytes = input.as_bytes();
    let needle = needle.as_bytes();
    let &first = needle.first()?;
    let mut i = from;
    loop {
        i += bytes.get(i..)?.iter().position(|&b| b == first)?;
        if bytes.get(i..i + needle.len())? == needle {
            return Some(i);
        }
        i += 1;
    }
}

/// A name is at least one name byte, does not start with a digit, `-` or `.`, and has at most
/// one `:` with something on both sides (namespace well-formedness). Gives the name split at
/// its colon (prefix "" when there is none).
#[inline]
fn split_name(name: &str) -> Option<(&str, &str)> {
    let bytes = name.as_bytes();
    let &first = bytes.first()?;
    if first.is_ascii_digit() || matches!(first, b'-' | b'.' | b':') {
        return None;
    }
    let mut colon = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            if colon.is_some() {
                return None;
            }
            colon = Some(i);
        }
    }
    match colon {
        None => Some(("", name)),
        Some(i) if i + 1 < bytes.len() => Some((name.get(..i)?, name.get(i + 1..)?)),
        Some(_) => None,
    }
}

/// The character at `at`, for an error message (one character only: never a run of the
/// input, which could hold a card number).
fn shown(input: &str, at: usize) -> String {
    match input.get(at..).and_then(|r| r.chars().next()) {
        Some(c) if c.is_ascii_graphic() => c.to_string(),
        Some(c) => c.escape_default().to_string(),
        None => "end of input".to_owned(),
    }
}

/// A reference starting at the `&` at `at`: its character and the offset after its `;`.
fn reference(input: &str, at: usize) -> Result<(char, usize), String> {
    // The longest reference we accept is `&#x10FFFF;` or `&#1114111;` (10 bytes).
    const LONGEST: usize = 12;
    let bytes = input.as_bytes();
    let body_from = at + 1;
    let semi = bytes
        .get(body_from..)
        .unwrap_or(&[])
        .iter()
        .take(LONGEST)
        .position(|&b| b == b';')
        .map(|i| body_from + i);
    let Some(semi) = semi else {
        return Err("`&` that does not start a reference ending in `;`".to_owned());
    };
    let name = input.get(body_from..semi).unwrap_or("");
    let ch = if let Some(num) = name.strip_prefix('#') {
        char_ref(num)
            .ok_or_else(|| format!("character reference `&{name};` is not an XML character"))?
    } else {
        predefined(name).ok_or_else(|| format!("unknown entity `&{name};` (no DTD is read)"))?
    };
    Ok((ch, semi + 1))
}

/// `#x41` / `#65` after the `#`: a character XML 1.0 allows (`Char`, section 2.2).
fn char_ref(num: &str) -> Option<char> {
    let (digits, radix) = match num.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (num, 10),
    };
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let mut code: u32 = 0;
    for b in digits.bytes() {
        let d = char::from(b).to_digit(radix)?;
        code = code.checked_mul(radix)?.checked_add(d)?;
    }
    let ok =
        matches!(code, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF);
    if ok { char::from_u32(code) } else { None }
}

/// An attribute value as XML 1.0 section 3.3.3 normalises it (references resolved, `\t`,
/// `\n`, `\r` and `\r\n` read as one space); borrowed when there is nothing to do.
/// `at` is the value's offset in `input`; an error gives the offset of the bad reference.
fn attr_value<'a>(
    input: &'a str,
    at: usize,
    raw: &'a str,
) -> Result<Cow<'a, str>, (usize, String)> {
    if !raw
        .bytes()
        .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
    {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'&' => {
                out.push_str(raw.get(run..i).unwrap_or(""));
                let (ch, next) = reference(input, at + i).map_err(|e| (at + i, e))?;
                out.push(ch);
                i = next - at;
                run = i;
            }
            b'\t' | b'\n' | b'\r' => {
                out.push_str(raw.get(run..i).unwrap_or(""));
                out.push(' ');
                i += if b == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                run = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(raw.get(run..).unwrap_or(""));
    Ok(Cow::Owned(out))
}

impl<'a> Builder<'a> {
    fn new(input: &'a str) -> Self {
        // Roughly one element per 40 bytes of pretty-printed ISO 20022.
        let guess = input.len() / 40 + 4;
        Builder {
            input,
            doc: Doc {
                nodes: Vec::with_capacity(guess),
                attrs: Vec::with_capacity(8),
                namespaces: vec![Cow::Borrowed(""), Cow::Borrowed(XML_NS)],
                first_root: NONE,
            },
            // The binding and attribute buffers allocate on first use: most elements have none.
            stack: Vec::with_capacity(16),
            last_root: NONE,
            bindings: Vec::new(),
            attr_prefixes: Vec::new(),
            attr_keys: Vec::new(),
            pending: None,
            offset: 0,
        }
    }

    fn path(&self) -> String {
        if self.stack.is_empty() {
            return "/".to_owned();
        }
        let mut p = String::new();
        for o in &self.stack {
            p.push('/');
            p.push_str(self.doc.node(o.id).map_or("", |d| d.name));
        }
        p
    }

    #[cold]
    fn err(&self, problem: String) -> XmlError {
        self.err_at(self.offset, problem)
    }

    #[cold]
    fn err_at(&self, offset: usize, problem: String) -> XmlError {
        XmlError {
            path: self.path(),
            offset,
            problem,
        }
    }

    fn intern(&mut self, ns: Cow<'a, str>) -> Result<u32, XmlError> {
        if let Some(i) = self.doc.namespaces.iter().position(|k| *k == ns) {
            return Ok(u32::try_from(i).unwrap_or(0));
        }
        if self.doc.namespaces.len() >= MAX_NAMESPACES {
            return Err(self.err(format!("more than {MAX_NAMESPACES} namespaces")));
        }
        self.doc.namespaces.push(ns);
        Ok(u32::try_from(self.doc.namespaces.len() - 1).unwrap_or(0))
    }

    #[inline(always)]
    fn lookup(&self, prefix: &str) -> Result<u32, String> {
        // Most elements of a message share the prefix of their parent: try the innermost
        // binding first without a loop (inlined into the start-tag path).
        if let Some((p, ns)) = self.bindings.last()
            && same_short(p, prefix)
        {
            return Ok(*ns);
        }
        self.lookup_scan(prefix)
    }

    /// [`Builder::lookup`] past the innermost binding.
    #[inline(never)]
    fn lookup_scan(&self, prefix: &str) -> Result<u32, String> {
        if prefix == "xml" {
            return Ok(XML_NS_ID);
        }
        match self.bindings.iter().rev().find(|(p, _)| *p == prefix) {
            Some((_, ns)) => Ok(*ns),
            None if prefix.is_empty() => Ok(0),
            None => Err(prefix.to_owned()),
        }
    }

    /// One pass over the input: each construct is recognised by its first bytes and read by
    /// its own method, which returns the offset after it. Every slice taken is between ASCII
    /// delimiters of the `&str` input, so names and text stay borrowed with no UTF-8 check.
    fn run(mut self) -> Result<Doc<'a>, XmlError> {
        let bytes = self.input.as_bytes();
        let mut pos = if self.input.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        while let Some(&b) = bytes.get(pos) {
            self.offset = pos;
            pos = match b {
                b'<' => match bytes.get(pos + 1) {
                    Some(b'/') => self.end_tag(pos)?,
                    Some(b'!') => self.bang(pos)?,
                    Some(b'?') => self.processing_instruction(pos)?,
                    _ => self.start_tag(pos)?,
                },
                b'&' => self.general_ref(pos)?,
                _ => self.text(pos)?,
            };
        }
        if !self.stack.is_empty() {
            self.offset = self.input.len();
            return Err(self.err("input ends inside an element".to_owned()));
        }
        if self.doc.first_root == NONE {
            return Err(XmlError {
                path: "/".to_owned(),
                offset: 0,
                problem: "no element in the input".to_owned(),
            });
        }
        Ok(self.doc)
    }

    /// A run of character data up to the next `<` or `&`.
    fn text(&mut self, pos: usize) -> Result<usize, XmlError> {
        let run = text_run(self.input.as_bytes(), pos);
        let end = run.end;
        let text: Cow<'a, str> = Cow::Borrowed(self.input.get(pos..end).unwrap_or(""));
        let eols = |t: Cow<'a, str>| if run.cr { xml10_eols(t) } else { t };
        let open_without_text = self
            .stack
            .last()
            .and_then(|o| self.doc.node(o.id))
            .is_some_and(|top| top.text.is_none());
        let blank = match run.blank {
            Some(b) => b,
            None => blank(&text),
        };
        if open_without_text && blank {
            // Indentation, most likely: held as read, normalised only if it turns out to be
            // the content of a leaf.
            let held = self.pending.as_ref().map_or(0, |p| p.len());
            if text.len() + held > MAX_TEXT {
                return Err(self.err(format!("text longer than {MAX_TEXT} bytes")));
            }
            self.pending = Some(match self.pending.take() {
                None => text,
                // Each piece on its own: a `\r` and a `\n` that a comment separated are two
                // line ends.
                Some(p) => Cow::Owned(format!("{}{}", xml10_eols(p), xml10_eols(text))),
            });
        } else {
            self.flush_pending()?;
            self.push_text(eols(text))?;
        }
        Ok(end)
    }

    /// `&name;` or `&#…;` in text: one character.
    fn general_ref(&mut self, pos: usize) -> Result<usize, XmlError> {
        self.flush_pending()?;
        let (ch, next) = reference(self.input, pos).map_err(|e| self.err(e))?;
        let mut buf = [0u8; 4];
        self.push_text(Cow::Owned(ch.encode_utf8(&mut buf).to_owned()))?;
        Ok(next)
    }

    /// `<!--…-->`, `<![CDATA[…]]>`; a `<!DOCTYPE` and any other declaration are refused.
    fn bang(&mut self, pos: usize) -> Result<usize, XmlError> {
        let rest = self.input.get(pos..).unwrap_or("");
        if rest.starts_with("<!--") {
            let end = find(self.input, pos + 4, "-->")
                .ok_or_else(|| self.err("comment not closed (`-->` missing)".to_owned()))?;
            return Ok(end + 3);
        }
        if rest.starts_with("<![CDATA[") {
            let from = pos + 9;
            let end = find(self.input, from, "]]>")
                .ok_or_else(|| self.err("CDATA section not closed (`]]>` missing)".to_owned()))?;
            self.flush_pending()?;
            let content = Cow::Borrowed(self.input.get(from..end).unwrap_or(""));
            self.push_text(xml10_eols(content))?;
            return Ok(end + 3);
        }
        let doctype = rest
            .get(2..9)
            .is_some_and(|w| w.eq_ignore_ascii_case("DOCTYPE"));
        if doctype {
            return Err(self.err("DOCTYPE refused: no DTD or entity expansion".to_owned()));
        }
        Err(self.err("`<!` starts neither a comment nor a CDATA section".to_owned()))
    }

    /// `<?…?>` (the XML declaration included): skipped.
    fn processing_instruction(&mut self, pos: usize) -> Result<usize, XmlError> {
        let end = find(self.input, pos + 2, "?>").ok_or_else(|| {
            self.err("processing instruction not closed (`?>` missing)".to_owned())
        })?;
        Ok(end + 2)
    }

    /// `<name attr="v" …>` or `…/>`.
    fn start_tag(&mut self, pos: usize) -> Result<usize, XmlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.err(format!("elements nested deeper than {MAX_DEPTH}")));
        }
        let bytes = self.input.as_bytes();
        let name_end = name_end(bytes, pos + 1);
        let qname = self.input.get(pos + 1..name_end).unwrap_or("");
        let Some((prefix, local)) = split_name(qname) else {
            return Err(self.err(format!(
                "`<` not followed by an element name (`{}`)",
                shown(self.input, pos + 1)
            )));
        };
        let scope = self.bindings.len();
        let attrs_from = self.doc.attrs.len();
        self.attr_prefixes.clear();
        self.attr_keys.clear();
        let mut p = name_end;
        let empty = loop {
            let ws_from = p;
            p = scan(bytes, p, is_ws);
            match bytes.get(p) {
                Some(b'>') => break false,
                Some(b'/') if bytes.get(p + 1) == Some(&b'>') => {
                    p += 1;
                    break true;
                }
                // An attribute, after the whitespace that must separate it.
                Some(_) if p > ws_from => p = self.attribute(p)?,
                Some(_) => {
                    return Err(self.err_at(
                        p,
                        format!("`{}` in the start tag of `{qname}`", shown(self.input, p)),
                    ));
                }
                None => return Err(self.err(format!("start tag of `{qname}` not closed"))),
            }
        };
        if !self.attr_prefixes.is_empty() {
            self.resolve_attr_prefixes(attrs_from)?;
        }
        self.finish_start(qname, prefix, local, empty, scope, attrs_from)?;
        Ok(p + 1)
    }

    /// One `name="value"` (or `'value'`) at `pos`; returns the offset after the closing quote.
    fn attribute(&mut self, pos: usize) -> Result<usize, XmlError> {
        let bytes = self.input.as_bytes();
        let key_end = name_end(bytes, pos);
        let key = self.input.get(pos..key_end).unwrap_or("");
        let Some((prefix, local)) = split_name(key) else {
            return Err(self.err_at(
                pos,
                format!(
                    "`{}` where an attribute name should be",
                    shown(self.input, pos)
                ),
            ));
        };
        if self.attr_keys.len() >= MAX_ATTRIBUTES {
            return Err(self.err_at(pos, format!("more than {MAX_ATTRIBUTES} attributes")));
        }
        if self.attr_keys.contains(&key) {
            return Err(self.err_at(pos, format!("attribute `{key}` repeated")));
        }
        self.attr_keys.push(key);
        let eq = scan(bytes, key_end, is_ws);
        if bytes.get(eq) != Some(&b'=') {
            return Err(self.err_at(eq, format!("attribute `{key}` without `=`")));
        }
        let open = scan(bytes, eq + 1, is_ws);
        let quote = match bytes.get(open) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(self.err_at(open, format!("value of `{key}` not quoted"))),
        };
        let from = open + 1;
        let close = scan(bytes, from, |b| b != quote && b != b'<');
        match bytes.get(close) {
            Some(&b) if b == quote => {}
            Some(_) => return Err(self.err_at(close, format!("`<` in the value of `{key}`"))),
            None => return Err(self.err_at(open, format!("value of `{key}` not closed"))),
        }
        let raw = self.input.get(from..close).unwrap_or("");
        let value = attr_value(self.input, from, raw).map_err(|(at, e)| self.err_at(at, e))?;
        let declares = (prefix.is_empty() && local == "xmlns") || prefix == "xmlns";
        if declares && self.bindings.len() >= MAX_BINDINGS {
            return Err(self.err_at(
                pos,
                format!("more than {MAX_BINDINGS} namespace declarations in scope"),
            ));
        }
        if prefix.is_empty() && local == "xmlns" {
            let ns = self.intern(value)?;
            self.bindings.push(("", ns));
        } else if prefix == "xmlns" {
            let ns = self.intern(value)?;
            self.bindings.push((local, ns));
        } else {
            self.attr_prefixes
                .push((!prefix.is_empty()).then_some(prefix));
            self.doc.attrs.push(AttrData {
                ns: 0,
                name: local,
                value,
            });
        }
        Ok(close + 1)
    }

    /// Resolves the prefixed attributes of the start tag just read (after all its
    /// declarations, which may follow them).
    fn resolve_attr_prefixes(&mut self, attrs_from: usize) -> Result<(), XmlError> {
        for i in 0..self.attr_prefixes.len() {
            if let Some(Some(prefix)) = self.attr_prefixes.get(i).copied() {
                let ns = self
                    .lookup(prefix)
                    .map_err(|p| self.err(format!("undeclared namespace prefix `{p}`")))?;
                if let Some(a) = self.doc.attrs.get_mut(attrs_from + i) {
                    a.ns = ns;
                }
            }
        }
        Ok(())
    }

    /// The element itself: its resolved name, its place in the tree and its scope.
    fn finish_start(
        &mut self,
        qname: &'a str,
        prefix: &str,
        name: &'a str,
        empty: bool,
        scope: usize,
        attrs_from: usize,
    ) -> Result<(), XmlError> {
        let ns = self
            .lookup(prefix)
            .map_err(|p| self.err(format!("undeclared namespace prefix `{p}`")))?;
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(NONE);
        let id = to_u32(self.doc.nodes.len());
        self.doc.nodes.push(NodeData {
            name,
            ns,
            attrs: (to_u32(attrs_from), to_u32(self.doc.attrs.len())),
            text: None,
            first_child: NONE,
            next_sibling: NONE,
            offset: self.offset,
        });
        match self.stack.last_mut() {
            Some(parent) => {
                if parent.last_child == NONE {
                    if let Some(p) = self.doc.nodes.get_mut(parent.id as usize) {
                        p.first_child = id;
                    }
                } else if let Some(prev) = self.doc.nodes.get_mut(parent.last_child as usize) {
                    prev.next_sibling = id;
                }
                parent.last_child = id;
            }
            None => {
                if self.last_root == NONE {
                    self.doc.first_root = id;
                } else if let Some(prev) = self.doc.nodes.get_mut(self.last_root as usize) {
                    prev.next_sibling = id;
                }
                self.last_root = id;
            }
        }
        self.pending = None;
        if empty {
            self.bindings.truncate(scope);
        } else {
            self.stack.push(Open {
                id,
                last_child: NONE,
                scope,
                qname,
            });
        }
        Ok(())
    }

    /// `</name>`: must close the innermost open element, by the same name.
    fn end_tag(&mut self, pos: usize) -> Result<usize, XmlError> {
        let bytes = self.input.as_bytes();
        let Some(open) = self.stack.last() else {
            return Err(self.err("end tag without a start tag".to_owned()));
        };
        // Compared in place: the name must be the open element's, then end.
        let name_end = pos + 2 + open.qname.len();
        let same = bytes
            .get(pos + 2..name_end)
            .is_some_and(|n| same_bytes(n, open.qname.as_bytes()))
            && !bytes.get(name_end).copied().is_some_and(is_name_byte);
        if !same {
            // The name found is not echoed: it is not a checked name and could be anything.
            return Err(self.err(format!("end tag where `</{}>` was expected", open.qname)));
        }
        let close = scan(bytes, name_end, is_ws);
        if bytes.get(close) != Some(&b'>') {
            return Err(self.err_at(close, "end tag not closed by `>`".to_owned()));
        }
        self.end()?;
        Ok(close + 1)
    }

    fn end(&mut self) -> Result<(), XmlError> {
        let Some(open) = self.stack.pop() else {
            return Err(self.err("end tag without a start tag".to_owned()));
        };
        self.bindings.truncate(open.scope);
        let pending = self.pending.take();
        if let Some(el) = self.doc.nodes.get_mut(open.id as usize) {
            let has_children = el.first_child != NONE;
            if let Some(ws) = pending
                && !has_children
            {
                append(&mut el.text, xml10_eols(ws));
            }
            if has_children && el.text.as_deref().is_some_and(blank) {
                el.text = None;
            }
        }
        Ok(())
    }

    fn flush_pending(&mut self) -> Result<(), XmlError> {
        match self.pending.take() {
            Some(ws) => self.push_text(xml10_eols(ws)),
            None => Ok(()),
        }
    }

    fn push_text(&mut self, text: Cow<'a, str>) -> Result<(), XmlError> {
        let top = self.stack.last().map(|o| o.id);
        let Some(el) = top.and_then(|id| self.doc.nodes.get_mut(id as usize)) else {
            if blank(&text) {
                return Ok(());
            }
            return Err(self.err("text outside the root element".to_owned()));
        };
        if el.text.as_ref().map_or(0, |t| t.len()) + text.len() > MAX_TEXT {
            return Err(self.err(format!("text longer than {MAX_TEXT} bytes")));
        }
        append(&mut el.text, text);
        Ok(())
    }
}

/// XML 1.0 line ends (section 2.11): `\r\n` and a lone `\r` read as `\n`. Text without a
/// `\r`, nearly all of it, stays borrowed.
fn xml10_eols(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.bytes().any(|b| b == b'\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        text
    }
}

/// `a == b` for names, without a `memcmp` call: whole words, the last one overlapping the one
/// before (a name of 11 bytes is compared as bytes 0..8 and 3..11).
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    fn word8(s: &[u8], at: usize) -> Option<u64> {
        s.get(at..)?
            .first_chunk::<8>()
            .map(|c| u64::from_le_bytes(*c))
    }
    fn word4(s: &[u8], at: usize) -> Option<u32> {
        s.get(at..)?
            .first_chunk::<4>()
            .map(|c| u32::from_le_bytes(*c))
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word8(a, i) != word8(b, i) {
                return false;
            }
            i += 8;
        }
        word8(a, n - 8) == word8(b, n - 8)
    } else if n >= 4 {
        word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

/// `a == b` compared inline: prefixes are a few bytes, a call to `memcmp` costs more.
#[inline]
pub(crate) fn same_short(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// `text.trim().is_empty()`, without the Unicode tables for the usual ASCII indentation.
fn blank(text: &str) -> bool {
    if text.bytes().all(|b| matches!(b, b'\t'..=b'\r' | b' ')) {
        true
    } else if text.is_ascii() {
        false
    } else {
        text.trim().is_empty()
    }
}

fn append<'a>(slot: &mut Option<Cow<'a, str>>, text: Cow<'a, str>) {
    match slot {
        None => *slot = Some(text),
        Some(t) => t.to_mut().push_str(&text),
    }
}

/// Reads every top-level element of `input` (normally one; an `AppHdr` followed by a
/// `Document` gives two) as owned elements.
pub fn read(input: &str) -> Result<Vec<Element>, XmlError> {
    let doc = Doc::read(input)?;
    Ok(doc.roots().map(|r| r.to_element()).collect())
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Appends `text` escaped for element content.
pub fn escape_text(out: &mut String, text: &str) {
    escape_with(out, text, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'\r' => Some("&#13;"),
        _ => None,
    });
}

/// Appends `text` escaped for a double-quoted attribute value.
pub fn escape_attr(out: &mut String, text: &str) {
    escape_with(out, text, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\n' => Some("&#10;"),
        b'\r' => Some("&#13;"),
        b'\t' => Some("&#9;"),
        _ => None,
    });
}

/// Appends `text` with each byte `escape` names replaced, copying the runs between them whole.
/// Only ASCII bytes are escaped, and an ASCII byte is never part of a longer UTF-8 sequence,
/// so every run boundary is a character boundary.
#[inline]
fn escape_with(out: &mut String, text: &str, escape: impl Fn(u8) -> Option<&'static str>) {
    let mut from = 0;
    for (i, b) in text.bytes().enumerate() {
        if let Some(replacement) = escape(b) {
            out.push_str(text.get(from..i).unwrap_or_default());
            out.push_str(replacement);
            from = i + 1;
        }
    }
    out.push_str(text.get(from..).unwrap_or_default());
}

/// Writes the start tag of `el` (name, default namespace when it differs from `parent_ns`, then
/// the attributes), without closing `>`.
pub fn write_start(out: &mut String, ns: &str, name: &str, attrs: &[Attribute], parent_ns: &str) {
    out.push('<');
    out.push_str(name);
    if ns != parent_ns {
        out.push_str(" xmlns=\"");
        escape_attr(out, ns);
        out.push('"');
    }
    let mut declared: Vec<(&str, String)> = Vec::new();
    for a in attrs {
        out.push(' ');
        if !a.ns.is_empty() {
            let prefix = if a.ns == XML_NS {
                "xml".to_owned()
            } else if let Some((_, p)) = declared.iter().find(|(n, _)| *n == a.ns) {
                p.clone()
            } else {
                let p = if a.ns == XSI_NS {
                    "xsi".to_owned()
                } else {
                    format!("n{}", declared.len() + 1)
                };
                out.push_str("xmlns:");
                out.push_str(&p);
                out.push_str("=\"");
                escape_attr(out, &a.ns);
                out.push_str("\" ");
                declared.push((&a.ns, p.clone()));
                p
            };
            out.push_str(&prefix);
            out.push(':');
        }
        out.push_str(&a.name);
        out.push_str("=\"");
        escape_attr(out, &a.value);
        out.push('"');
    }
}

/// Writes `el` and its subtree; `parent_ns` is the default namespace in scope.
pub fn write(out: &mut String, el: &Element, parent_ns: &str) {
    write_start(out, &el.ns, &el.name, &el.attrs, parent_ns);
    if el.text.is_none() && el.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(t) = &el.text {
        escape_text(out, t);
    }
    for c in &el.children {
        write(out, c, &el.ns);
    }
    let _ = write!(out, "</{}>", el.name);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prefixed_and_default_namespaces_alike() {
        let a = read(r#"<p:A xmlns:p="urn:x"><p:B>1 &amp; 2</p:B></p:A>"#).unwrap();
        let b = read(r#"<A xmlns="urn:x">  <B>1 &amp; 2</B> <!-- c --></A>"#).unwrap();
        assert_eq!(a, b);
        let mut out = String::new();
        write(&mut out, &a[0], "");
        assert_eq!(out, r#"<A xmlns="urn:x"><B>1 &amp; 2</B></A>"#);
    }

    #[test]
    fn whitespace_is_kept_in_leaves_only() {
        let r = read("<a>\n  <b>  </b>\n  <c> x &amp; <![CDATA[<y>]]></c><d>\t</d>\n</a>").unwrap();
        let a = &r[0];
        assert_eq!(a.text, None);
        let texts: Vec<_> = a.children.iter().map(|c| c.text.as_deref()).collect();
        assert_eq!(texts, [Some("  "), Some(" x & <y>"), Some("\t")]);
    }

    #[test]
    fn refuses_doctype_depth_and_bad_input() {
        let e = read("<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>").unwrap_err();
        assert!(e.problem.contains("DOCTYPE"), "{e}");
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(read(&deep).unwrap_err().problem.contains("deeper"));
        assert!(read("<a><b></a>").is_err());
        assert!(read("<a>").is_err());
        assert!(read("").is_err());
        assert!(read("<x:a/>").is_err());
        assert!(read("<a>&unknown;</a>").is_err());
    }

    #[test]
    fn namespace_bindings_are_scoped_to_their_element() {
        let src = r#"<a xmlns="urn:a"><p:b xmlns:p="urn:p" xml:lang="en" p:x="1" y="2"><c/></p:b><d xmlns=""/></a>"#;
        let a = &read(src).unwrap()[0];
        assert_eq!(&*a.ns, "urn:a");
        let [b, d] = &a.children[..] else {
            panic!("two children: {a:?}")
        };
        assert_eq!((&*b.ns, &*b.children[0].ns, &*d.ns), ("urn:p", "urn:a", ""));
        let attrs: Vec<_> = b
            .attrs
            .iter()
            .map(|x| (x.ns.as_str(), x.name.as_str()))
            .collect();
        assert_eq!(attrs, [(XML_NS, "lang"), ("urn:p", "x"), ("", "y")]);
        let e = read(r#"<a><p:b xmlns:p="urn:p"/><p:c/></a>"#).unwrap_err();
        assert_eq!((e.path.as_str(), e.offset), ("/a", 25), "{e}");
        assert!(e.problem.contains("undeclared namespace prefix `p`"), "{e}");
    }

    #[test]
    fn text_with_carriage_returns_and_references_is_normalised() {
        let r = read("<a><b>x\r\ny\rz &amp; &#65;</b><c>\r\n</c><d> \r<!---->\n</d></a>").unwrap();
        let texts: Vec<_> = r[0].children.iter().map(|c| c.text.as_deref()).collect();
        assert_eq!(texts, [Some("x\ny\nz & A"), Some("\n"), Some(" \n\n")]);
    }

    #[test]
    fn attribute_values_are_normalised_and_quotes_either_kind() {
        let r = read("<a x='1 \"2\"' y=\"a\tb\r\nc&#10;d &lt;&amp;\" z = 'q'/>").unwrap();
        let values: Vec<_> = r[0].attrs.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(values, ["1 \"2\"", "a b c\nd <&", "q"]);
    }

    #[test]
    fn bom_declaration_comments_and_pis_are_skipped() {
        let r =
            read("\u{feff}<?xml version=\"1.0\"?>\n<!-- c --><?pi x?><a><?p?>x<!-- - -->y</a>\n")
                .unwrap();
        assert_eq!(r[0].text.as_deref(), Some("xy"));
    }

    #[test]
    fn malformed_markup_names_the_byte() {
        for (src, offset, words) in [
            ("<a><b></a>", 6, "`</b>` was expected"),
            ("<a x='1' x='2'/>", 9, "attribute `x` repeated"),
            ("<a x='1'y='2'/>", 8, "`y` in the start tag"),
            ("<a x='<'/>", 6, "`<` in the value"),
            ("<a x='1/>", 5, "not closed"),
            ("<a x/>", 4, "without `=`"),
            ("<a x=1/>", 5, "not quoted"),
            ("<a>&#0;</a>", 3, "not an XML character"),
            ("<a>&#xD800;</a>", 3, "not an XML character"),
            ("<a>& b;</a>", 3, "unknown entity"),
            ("<a>&amp</a>", 3, "does not start a reference"),
            ("<a x='&bad;'/>", 6, "unknown entity"),
            ("<a><!-- x</a>", 3, "comment not closed"),
            ("<a><![CDATA[x</a>", 3, "CDATA section not closed"),
            ("<a><? x</a>", 3, "processing instruction not closed"),
            ("<a><!ELEMENT x></a>", 3, "neither a comment"),
            ("<!doctype a><a/>", 0, "DOCTYPE refused"),
            ("<a>< b/></a>", 3, "element name"),
            ("<1a/>", 0, "element name"),
            ("<p:/>", 0, "element name"),
            ("<a:b:c xmlns:a='u'/>", 0, "element name"),
            ("<a", 0, "not closed"),
            ("<a></a", 6, "not closed by `>`"),
            ("</a>", 0, "without a start tag"),
            ("x<a/>", 0, "outside the root"),
        ] {
            let e = read(src).unwrap_err();
            assert!(e.problem.contains(words), "{src}: {e}");
            assert_eq!(e.offset, offset, "{src}: {e}");
        }
        let many: String = (0..=MAX_ATTRIBUTES).map(|i| format!(" a{i}='v'")).collect();
        let e = read(&format!("<a{many}/>")).unwrap_err();
        assert!(e.problem.contains("attributes"), "{e}");
        let ns: String = (0..MAX_NAMESPACES)
            .map(|i| format!("<a xmlns='u{i}'/>"))
            .collect();
        let e = read(&format!("<r>{ns}</r>")).unwrap_err();
        assert!(e.problem.contains("namespaces"), "{e}");
        let decls: String = (0..200).map(|i| format!(" xmlns:p{i}='u'")).collect();
        let deep = format!("<a{decls}>").repeat(6);
        let e = read(&deep).unwrap_err();
        assert!(e.problem.contains("declarations in scope"), "{e}");
    }

    #[test]
    fn end_tags_may_carry_whitespace_and_names_any_letter() {
        let r = read("<é:Ünï xmlns:é='urn:x'><b\n>t</b\t></é:Ünï >").unwrap();
        assert_eq!((&*r[0].ns, r[0].name.as_str()), ("urn:x", "Ünï"));
        assert_eq!(r[0].children[0].text.as_deref(), Some("t"));
    }

    #[test]
    fn name_compare_agrees_with_slice_equality() {
        let a: Vec<u8> = (b'a'..=b'z').collect();
        for n in 0..a.len() {
            let x = &a[..n];
            assert!(same_bytes(x, x), "{n}");
            assert!(!same_bytes(x, &a[..n + 1]), "{n}");
            for k in 0..n {
                let mut y = x.to_vec();
                y[k] = b'!';
                assert!(!same_bytes(x, &y), "{n} {k}");
            }
        }
    }
}
