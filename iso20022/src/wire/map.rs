//! The typed <-> tree mapping machinery shared by every message family.
//!
//! A typed struct lists its child elements in XSD sequence order (see `iso_struct!` in
//! `model`). Reading classifies the children of an element: those whose local name the struct
//! types (in the element's own namespace) are read into fields; every other child is kept whole
//! in [`Rest`] together with the name of the typed sibling it followed. Writing emits the typed
//! fields in sequence order and puts each kept child back right after the typed sibling it
//! followed, so a message the model only partly types still roundtrips element for element.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

use super::tree::{self, Element, Node};

/// A child element the model does not type, with its position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extra {
    /// Local name of the typed sibling this element followed ("" when it came first).
    pub after: String,
    /// The element, kept whole.
    pub element: Element,
    /// True when the element is in its parent's namespace (then it is written prefix-free in
    /// the default namespace in scope; otherwise it declares its own).
    #[serde(skip)]
    pub same_ns: bool,
}

/// Everything under an element that its typed struct does not model.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Rest(pub Vec<Extra>);

impl Rest {
    /// True when nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where a value was read from: the element path (rendered only on error) and the byte offset.
#[derive(Debug, Clone, Copy)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
}

impl<'a> Path<'a> {
    /// The path of a top-level element.
    pub fn root(name: &'a str) -> Self {
        Path { parent: None, name }
    }

    /// The path of a child element.
    pub fn child(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            name,
        }
    }

    fn render(&self, out: &mut String) {
        if let Some(p) = self.parent {
            p.render(out);
        }
        out.push('/');
        out.push_str(self.name);
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.render(&mut s);
        f.write_str(&s)
    }
}

/// Why a message could not be mapped to its model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: at byte {offset}: {problem}")]
pub struct MapError {
    /// Element path.
    pub path: String,
    /// Byte offset of the element's start tag.
    pub offset: usize,
    /// What is wrong.
    pub problem: String,
}

impl MapError {
    /// An error about `el` at `path`.
    pub fn at(path: &Path<'_>, el: Node<'_>, problem: impl Into<String>) -> Self {
        MapError {
            path: path.to_string(),
            offset: el.offset(),
            problem: problem.into(),
        }
    }
}

/// A type that maps to one XML element.
pub trait Xml: Sized {
    /// Reads the value from `el`, found at `path`.
    fn read(el: Node<'_>, path: &Path<'_>) -> Result<Self, MapError>;
    /// Writes the value as an element called `tag` (in the default namespace in scope).
    fn write(&self, tag: &str, out: &mut String);
}

/// Most typed children one struct may declare (the model's widest has 15).
pub const KNOWN_MAX: usize = 32;

/// The children of one element, split into typed candidates and kept extras.
pub struct In<'a> {
    el: Node<'a>,
    path: &'a Path<'a>,
    known: &'static [&'static str],
    /// For each name in `known`: its first child, and how many there are (saturating). Kept in
    /// arrays so that splitting the children allocates nothing.
    first: [u32; KNOWN_MAX],
    count: [u8; KNOWN_MAX],
    /// Children the struct does not type.
    pub rest: Rest,
}

impl<'a> In<'a> {
    /// Splits the children of `el`: `known` are the local names the struct types (at most
    /// [`KNOWN_MAX`], which `iso_struct!` checks when it compiles). One pass: each child is
    /// matched against `known` once; fields then take their children by index.
    pub fn new(el: Node<'a>, path: &'a Path<'a>, known: &'static [&'static str]) -> Self {
        let mut rest = Vec::new();
        let mut first = [tree::NONE; KNOWN_MAX];
        let mut count = [0u8; KNOWN_MAX];
        let mut after: &str = "";
        // Children nearly always come in sequence order: look for each name from the slot
        // after the previous match first, so a typical child costs one or two compares.
        let mut hint = 0usize;
        let el_ns = el.ns_id();
        for c in el.children() {
            let (name, ns) = c.name_and_ns_id();
            let same_ns = ns == el_ns;
            let slot = if same_ns {
                find_known(known, hint, name).filter(|k| *k < KNOWN_MAX)
            } else {
                None
            };
            match slot {
                Some(k) => {
                    hint = k;
                    after = name;
                    if let Some(n) = count.get_mut(k) {
                        *n = n.saturating_add(1);
                    }
                    if let Some(f) = first.get_mut(k)
                        && *f == tree::NONE
                    {
                        *f = c.id();
                    }
                }
                None => rest.push(Extra {
                    after: after.to_owned(),
                    element: c.to_element(),
                    same_ns,
                }),
            }
        }
        In {
            el,
            path,
            known,
            first,
            count,
            rest: Rest(rest),
        }
    }

    /// The first child with the name `known[k]` and how many there are.
    #[inline(always)]
    fn slot_at(&self, k: usize) -> (Option<Node<'a>>, u8) {
        match self.first.get(k) {
            Some(&id) if id != tree::NONE => (
                Some(self.el.at(id)),
                self.count.get(k).copied().unwrap_or(0),
            ),
            _ => (None, 0),
        }
    }

    /// Every child `tag` (in the element's namespace), in order.
    fn named(&self, tag: &'a str) -> impl Iterator<Item = Node<'a>> + 'a {
        let el = self.el;
        el.children()
            .filter(move |c| c.name() == tag && c.same_ns(&el))
    }

    /// The child `tag` when there is one, its path, or an error when it is repeated.
    #[inline(always)]
    fn single(&self, k: usize, tag: &'a str) -> Result<Option<Node<'a>>, MapError> {
        let (first, count) = self.slot_at(k);
        if count > 1 {
            return self.repeated(first, tag);
        }
        Ok(first)
    }

    /// The error for a `tag` that may appear once but is repeated (kept out of line so that
    /// [`In::single`], called for every field of every struct, stays small and inlined).
    #[cold]
    #[inline(never)]
    fn repeated(
        &self,
        first: Option<Node<'a>>,
        tag: &'a str,
    ) -> Result<Option<Node<'a>>, MapError> {
        match self.named(tag).nth(1) {
            Some(second) => Err(MapError::at(
                &self.path.child(tag),
                second,
                format!("`{tag}` may appear once here"),
            )),
            None => Ok(first),
        }
    }

    /// At most one child `tag`.
    pub fn opt<T: Xml>(&self, tag: &'a str) -> Result<Option<T>, MapError> {
        self.opt_at(self.index(tag), tag)
    }

    /// Exactly one child `tag`.
    pub fn one<T: Xml>(&self, tag: &'a str) -> Result<T, MapError> {
        self.one_at(self.index(tag), tag)
    }

    /// Every child `tag`, in order.
    pub fn many<T: Xml>(&self, tag: &'a str) -> Result<Vec<T>, MapError> {
        self.many_at(self.index(tag), tag)
    }

    fn index(&self, tag: &str) -> usize {
        self.known
            .iter()
            .position(|t| *t == tag)
            .unwrap_or(usize::MAX)
    }

    /// [`In::opt`] for `tag == known[k]` (`iso_struct!` computes `k` when it compiles).
    #[inline]
    pub fn opt_at<T: Xml>(&self, k: usize, tag: &'a str) -> Result<Option<T>, MapError> {
        match self.single(k, tag)? {
            Some(first) => Ok(Some(T::read(first, &self.path.child(tag))?)),
            None => Ok(None),
        }
    }

    /// [`In::one`] for `tag == known[k]`.
    #[inline]
    pub fn one_at<T: Xml>(&self, k: usize, tag: &'a str) -> Result<T, MapError> {
        match self.single(k, tag)? {
            Some(first) => T::read(first, &self.path.child(tag)),
            None => Err(MapError::at(self.path, self.el, format!("missing `{tag}`"))),
        }
    }

    /// [`In::many`] for `tag == known[k]`.
    pub fn many_at<T: Xml>(&self, k: usize, tag: &'a str) -> Result<Vec<T>, MapError> {
        let path = self.path.child(tag);
        match self.slot_at(k) {
            (None, _) => Ok(Vec::new()),
            (Some(only), 1) => Ok(vec![T::read(only, &path)?]),
            _ => self.named(tag).map(|c| T::read(c, &path)).collect(),
        }
    }
}

/// The index of `name` in `known`, searching from `from` to the end, then from the start.
#[inline]
fn find_known(known: &[&str], from: usize, name: &str) -> Option<usize> {
    let (head, tail) = known.split_at(from.min(known.len()));
    let same = |k: &&str| tree::same_bytes(k.as_bytes(), name.as_bytes());
    match tail.iter().position(same) {
        Some(i) => Some(from.min(known.len()) + i),
        None => head.iter().position(same),
    }
}

/// The index of `tag` in `known` (`usize::MAX` when absent), at compile time.
pub const fn index_of(known: &[&str], tag: &str) -> usize {
    let mut rest = known;
    let mut i = 0;
    while let [first, tail @ ..] = rest {
        if const_eq(first.as_bytes(), tag.as_bytes()) {
            return i;
        }
        rest = tail;
        i += 1;
    }
    usize::MAX
}

const fn const_eq(a: &[u8], b: &[u8]) -> bool {
    let (mut a, mut b) = (a, b);
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, xs @ ..], [y, ys @ ..]) if *x == *y => {
                a = xs;
                b = ys;
            }
            _ => return false,
        }
    }
}

/// Writes the children of one element: typed fields in order, extras re-inserted.
pub struct Out<'a> {
    out: &'a mut String,
    rest: &'a Rest,
    done: Vec<bool>,
}

impl<'a> Out<'a> {
    /// Starts the content of an element whose extras are `rest`.
    pub fn new(out: &'a mut String, rest: &'a Rest) -> Self {
        let mut o = Out {
            out,
            rest,
            done: vec![false; rest.0.len()],
        };
        o.flush("");
        o
    }

    fn flush(&mut self, after: &str) {
        for (i, x) in self.rest.0.iter().enumerate() {
            if x.after == after && !self.done.get(i).copied().unwrap_or(true) {
                tree::write(self.out, &x.element, x.parent_ns());
                if let Some(d) = self.done.get_mut(i) {
                    *d = true;
                }
            }
        }
    }

    /// Writes one field (absent, single or repeated) called `tag`, then the extras after it.
    pub fn field<F: Field>(&mut self, tag: &str, value: &F) {
        value.write_all(tag, self.out);
        self.flush(tag);
    }

    /// Writes any extras not yet placed.
    pub fn finish(mut self) {
        for (i, x) in self.rest.0.iter().enumerate() {
            if !self.done.get(i).copied().unwrap_or(true) {
                tree::write(self.out, &x.element, x.parent_ns());
                if let Some(d) = self.done.get_mut(i) {
                    *d = true;
                }
            }
        }
    }
}

impl Extra {
    /// The default namespace to write the extra against: its own when it shares its parent's
    /// (no declaration needed), else a value no namespace equals (so it declares its own,
    /// `xmlns=""` included).
    fn parent_ns(&self) -> &str {
        if self.same_ns {
            &self.element.ns
        } else {
            "\u{0}"
        }
    }
}

/// Absent, single or repeated fields.
pub trait Field {
    /// Writes every value as an element `tag`.
    fn write_all(&self, tag: &str, out: &mut String);
}

impl<T: Xml> Field for Option<&T> {
    fn write_all(&self, tag: &str, out: &mut String) {
        if let Some(v) = self {
            v.write(tag, out);
        }
    }
}

impl<T: Xml> Field for Vec<&T> {
    fn write_all(&self, tag: &str, out: &mut String) {
        for v in self {
            v.write(tag, out);
        }
    }
}

/// Opens `<tag>` in the default namespace in scope.
pub fn open(out: &mut String, tag: &str) {
    out.push('<');
    out.push_str(tag);
    out.push('>');
}

/// Closes `</tag>`.
pub fn close(out: &mut String, tag: &str) {
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

/// Text of a leaf element: an error if it has child elements.
pub fn leaf_text<'e>(el: Node<'e>, path: &Path<'_>) -> Result<&'e str, MapError> {
    if el.has_children() {
        return Err(MapError::at(
            path,
            el,
            "expected text, found child elements",
        ));
    }
    Ok(el.text().unwrap_or(""))
}

/// Writes `<tag>text</tag>`.
pub fn write_leaf(out: &mut String, tag: &str, text: &str) {
    open(out, tag);
    tree::escape_text(out, text);
    close(out, tag);
}

impl Xml for String {
    fn read(el: Node<'_>, path: &Path<'_>) -> Result<Self, MapError> {
        leaf_text(el, path).map(str::to_owned)
    }
    fn write(&self, tag: &str, out: &mut String) {
        write_leaf(out, tag, self);
    }
}

/// A boxed value maps like the value: the model boxes large, rarely present parts (postal
/// addresses, clearing-system member ids) so the structs around them stay small and cheap to
/// move while reading.
impl<T: Xml> Xml for Box<T> {
    #[inline]
    fn read(el: Node<'_>, path: &Path<'_>) -> Result<Self, MapError> {
        T::read(el, path).map(Box::new)
    }
    #[inline]
    fn write(&self, tag: &str, out: &mut String) {
        (**self).write(tag, out);
    }
}

/// Parses a decimal the way XSD writes one (no exponent, optional sign, optional point).
pub fn parse_decimal(el: Node<'_>, path: &Path<'_>) -> Result<Decimal, MapError> {
    let text = leaf_text(el, path)?.trim();
    let ok = !text.is_empty()
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+')));
    let value = if ok {
        Decimal::from_str(text.trim_start_matches('+')).ok()
    } else {
        None
    };
    value.ok_or_else(|| MapError::at(path, el, format!("`{text}` is not a decimal number")))
}

impl Xml for Decimal {
    fn read(el: Node<'_>, path: &Path<'_>) -> Result<Self, MapError> {
        parse_decimal(el, path)
    }
    fn write(&self, tag: &str, out: &mut String) {
        write_leaf(out, tag, &self.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::common::{ActiveAmount, GroupHeader, PaymentId};

    fn read<T: Xml>(xml: &str, name: &str) -> Result<T, MapError> {
        let doc = tree::Doc::read(xml).unwrap();
        T::read(doc.roots().next().unwrap(), &Path::root(name))
    }

    #[test]
    fn extras_go_back_after_the_typed_sibling_they_followed() {
        let src = r#"<PmtId xmlns="urn:x"><ClrSysRef>C</ClrSysRef><InstrId>I</InstrId><X xmlns="urn:other">o</X><EndToEndId>E</EndToEndId><Y xmlns="">n</Y></PmtId>"#;
        let id: PaymentId = read(src, "PmtId").unwrap();
        assert_eq!(id.instr_id.as_ref().unwrap().as_str(), "I");
        let mut out = String::new();
        id.write("PmtId", &mut out);
        // `ClrSysRef` is in the parent's namespace: written prefix-free; the others declare theirs.
        assert_eq!(
            out,
            r#"<PmtId><ClrSysRef>C</ClrSysRef><InstrId>I</InstrId><X xmlns="urn:other">o</X><EndToEndId>E</EndToEndId><Y xmlns="">n</Y></PmtId>"#
        );
    }

    #[test]
    fn duplicates_missing_and_bad_values_name_path_and_offset() {
        let dup = r#"<GrpHdr><MsgId>A</MsgId><MsgId>B</MsgId></GrpHdr>"#;
        let e = read::<GroupHeader>(dup, "GrpHdr").unwrap_err();
        assert_eq!((e.path.as_str(), e.offset), ("/GrpHdr/MsgId", 24), "{e}");
        let missing = r#"<GrpHdr><CreDtTm>2026-01-01T00:00:00Z</CreDtTm></GrpHdr>"#;
        let e = read::<GroupHeader>(missing, "GrpHdr").unwrap_err();
        assert!(e.problem.contains("MsgId"), "{e}");
        for bad in [
            r#"<A>1.0</A>"#,
            r#"<A Ccy="EUR">1,5</A>"#,
            r#"<A Ccy="EUR"><B/></A>"#,
            r#"<A Ccy="EUR">1e3</A>"#,
        ] {
            assert!(read::<ActiveAmount>(bad, "A").is_err(), "{bad}");
        }
    }

    #[test]
    fn currency_minor_units() {
        let amt = |v: &str, c: &str| {
            read::<ActiveAmount>(&format!(r#"<A Ccy="{c}">{v}</A>"#), "A").unwrap()
        };
        assert_eq!(amt("700", "EUR").canonical_text(), "700.00");
        assert_eq!(amt("700", "JPY").canonical_text(), "700");
        assert_eq!(amt("1.5", "BHD").canonical_text(), "1.500");
        assert_eq!(amt("1.23456", "EUR").canonical_text(), "1.23456");
    }

    #[test]
    fn known_names_are_indexed_at_compile_time() {
        const KNOWN: &[&str] = &["MsgId", "CreDtTm", "Msg"];
        const K: usize = index_of(KNOWN, "Msg");
        assert_eq!(K, 2);
        assert_eq!(index_of(KNOWN, "CreDtTm"), 1);
        assert_eq!(index_of(KNOWN, "Other"), usize::MAX);
    }
}
