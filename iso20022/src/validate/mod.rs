//! Streaming validation of ISO 20022 files: one pass over quick-xml `Reader` events, no DOM.
//! Level 1 checks each ISO part against its compiled schema (`schema`); level 2 (business rules)
//! and level 3 (a market rule pack) observe the same events (`rules`). Every violation is
//! reported, each with its element path, a stable rule id and a sentence; only input that cannot
//! be read at all (malformed XML, a hardening limit, an unknown namespace) is an `Error`.
//!
//! Speed: namespaces are resolved with quick-xml's `NamespaceResolver`, but a scope is pushed only
//! for the rare start tags that declare one (`NsReader` pushes one per element), and an element's
//! namespace is looked up again only when its prefix or the bindings changed. Whitespace between
//! elements is recognised on the raw bytes, without decoding.
//!
//! A message held in a string ([`validate_str`], used on every message the adapters send) is
//! read first by `canonical`, a scanner for the form `wire::write` produces, which makes the same
//! validator calls without quick-xml's general work; input outside that form is read by quick-xml
//! from the start, so the report is the same either way. Path and text buffers are reused from
//! one validation to the next on a thread.

mod canonical;
mod matcher;

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;
use quick_xml::name::{NamespaceResolver, ResolveResult};
use serde::Serialize;

use crate::envelope::{Envelope, MessageId, Part, PartKind};
use crate::rules::{Finding, Observer, RulePack};
use crate::schema::{self, ISO_NAMESPACE_PREFIX, Schema, Type, TypeId};
use crate::xml::{Limits, predefined_entity};
use crate::{Error, XmlErrorKind};

use matcher::{Matcher, Step};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// How much to check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Reading limits.
    pub limits: Limits,
    /// Level 1 only (no business rules): to compare with xmllint.
    pub schema_only: bool,
    /// A market rule pack (level 3).
    pub pack: Option<&'a RulePack>,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Element path, e.g. `/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[3]/IntrBkSttlmAmt`.
    pub path: String,
    /// Stable rule id, e.g. `XSD-PATTERN`, `STMT-BALANCE`.
    pub rule: String,
    /// What is wrong, in a sentence.
    pub message: String,
    /// Byte offset of the element's start tag (or of the end tag for end-of-element findings).
    pub offset: u64,
}

/// The result of validating one file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How the ISO parts were wrapped.
    pub envelope: Envelope,
    /// The ISO parts, in document order.
    pub parts: Vec<Part>,
    /// Every violation, in document order of detection.
    pub violations: Vec<Violation>,
}

impl Report {
    /// No violations.
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

/// Validates one file from a buffered reader (streamed: memory does not grow with the file).
pub fn validate<R: BufRead>(input: R, options: &Options<'_>) -> Result<Report, Error> {
    Validator::new(options).run(Buffered(Reader::from_reader(input)))
}

/// Validates a document held in a string, as [`validate_bytes`] does its bytes (the same
/// report: violations, paths, rule ids, sentences), reading events straight from the string
/// instead of copying each into a buffer. For a message just written, checked before it leaves.
pub fn validate_str(input: &str, options: &Options<'_>) -> Result<Report, Error> {
    // Most strings validated in memory are messages this crate just wrote: read those with the
    // canonical-form scanner, and anything it does not take on with quick-xml, from the start.
    if let Some(report) = Validator::new(options).run_canonical(input) {
        return report;
    }
    Validator::new(options).run(InMemory(Reader::from_str(input)))
}

/// Where [`Validator::run`] takes its events from. An event borrows `buf` or the input, never
/// the source itself, so positions can be asked for while the event is in use.
trait Source<'i> {
    fn next_event<'b>(&mut self, buf: &'b mut Vec<u8>) -> quick_xml::Result<Event<'b>>
    where
        'i: 'b;
    fn reader(&self) -> &Reader<impl Sized>;
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config;
}

/// A buffered reader: each event is copied into `buf`.
struct Buffered<R>(Reader<R>);

impl<'i, R: BufRead> Source<'i> for Buffered<R> {
    fn next_event<'b>(&mut self, buf: &'b mut Vec<u8>) -> quick_xml::Result<Event<'b>>
    where
        'i: 'b,
    {
        self.0.read_event_into(buf)
    }
    fn reader(&self) -> &Reader<impl Sized> {
        &self.0
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.0.config_mut()
    }
}

/// A string in memory: events borrow it.
struct InMemory<'i>(Reader<&'i [u8]>);

impl<'i> Source<'i> for InMemory<'i> {
    fn next_event<'b>(&mut self, _buf: &'b mut Vec<u8>) -> quick_xml::Result<Event<'b>>
    where
        'i: 'b,
    {
        self.0.read_event()
    }
    fn reader(&self) -> &Reader<impl Sized> {
        &self.0
    }
    fn config_mut(&mut self) -> &mut quick_xml::reader::Config {
        self.0.config_mut()
    }
}

/// Validates a file held in memory.
pub fn validate_bytes(input: &[u8], options: &Options<'_>) -> Result<Report, Error> {
    validate(input, options)
}

/// A path step: local name and 1-based index among same-named siblings.
struct Step0 {
    index: u32,
    show_index: bool,
    /// Same-named child counters, for the children's indexes.
    children: Counters,
}

/// Occurrence counters by element name, reusing their strings.
#[derive(Default)]
struct Counters {
    entries: Vec<(String, u32)>,
    len: usize,
}

impl Counters {
    fn clear(&mut self) {
        self.len = 0;
    }

    /// Counts one more `name`; returns its 1-based occurrence number.
    fn bump(&mut self, name: &str) -> u32 {
        if let Some((_, c)) = self
            .entries
            .iter_mut()
            .take(self.len)
            .find(|(n, _)| schema::same_name(n, name))
        {
            *c += 1;
            return *c;
        }
        match self.entries.get_mut(self.len) {
            Some((n, c)) => {
                n.clear();
                n.push_str(name);
                *c = 1;
            }
            None => self.entries.push((name.to_owned(), 1)),
        }
        self.len += 1;
        1
    }
}

/// The buffers one validation leaves for the next on the same thread (see `recycle`).
#[derive(Default)]
struct Scratch {
    steps: Vec<Step0>,
    names: Vec<String>,
    roots: Counters,
    spare_texts: Vec<String>,
}

/// Bounds on what `recycle` keeps: a few element texts, none of them large.
const SCRATCH_TEXTS_MAX: usize = 64;
const SCRATCH_TEXT_BYTES_MAX: usize = 4096;

thread_local! {
    static SCRATCH: std::cell::Cell<Option<Scratch>> = const { std::cell::Cell::new(None) };
}

/// Per-element validation state inside an ISO part.
struct Frame {
    /// `None`: content not validated (wildcard, or after an error).
    ty: Option<TypeId>,
    matcher: Matcher,
    text: String,
    ccy: Option<String>,
    text_reported: bool,
    offset: u64,
}

struct ActivePart<'o> {
    schema: &'static Schema,
    /// Depth (in `steps`) of the part's root element.
    depth: usize,
    frames: Vec<Frame>,
    observer: Observer<'o>,
}

struct Validator<'o> {
    options: &'o Options<'o>,
    /// `steps[..depth]` and `names[..depth]` are the open elements; entries beyond are kept
    /// for reuse, so a long file does not allocate per element.
    steps: Vec<Step0>,
    depth: usize,
    roots: Counters,
    names: Vec<String>,
    spare_texts: Vec<String>,
    part: Option<ActivePart<'o>>,
    parts: Vec<Part>,
    root_names: Vec<String>,
    violations: Vec<Violation>,
    elements: u64,
    /// `(ns_gen, ns == target namespace of the current part)`; cleared when a part starts.
    in_target: Option<(u64, bool)>,
}

/// How a text event is handled, by the type of the element it is in.
enum TextMode {
    /// Not validated (outside the ISO parts, a wildcard, or already reported).
    Ignore,
    /// Element-only content: only whitespace is allowed.
    ElementsOnly,
    /// Simple content: the text is decoded and kept for the check at the end tag.
    Collect,
}

/// Only XML whitespace (space, tab, carriage return, line feed).
fn is_xml_space(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

fn resolve<'a>(ns: &ResolveResult<'a>) -> Result<&'a str, XmlErrorKind> {
    match ns {
        ResolveResult::Bound(n) => Ok(n.0),
        ResolveResult::Unbound => Ok(""),
        ResolveResult::Unknown(p) => Err(XmlErrorKind::UnboundPrefix(p.clone())),
    }
}

impl<'o> Validator<'o> {
    fn new(options: &'o Options<'o>) -> Self {
        let scratch = SCRATCH.take().unwrap_or_default();
        let mut roots = scratch.roots;
        roots.clear();
        Self {
            options,
            steps: scratch.steps,
            depth: 0,
            roots,
            names: scratch.names,
            spare_texts: scratch.spare_texts,
            part: None,
            parts: Vec::new(),
            root_names: Vec::new(),
            violations: Vec::new(),
            elements: 0,
            in_target: None,
        }
    }

    fn path(&self) -> String {
        let mut out = String::new();
        for (s, name) in self.steps.iter().zip(&self.names).take(self.depth) {
            out.push('/');
            out.push_str(name);
            if s.show_index || s.index > 1 {
                out.push_str(&format!("[{}]", s.index));
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    fn xml_error(&self, offset: u64, kind: XmlErrorKind) -> Error {
        Error::Xml {
            path: self.path(),
            offset,
            kind,
        }
    }

    fn violate(&mut self, offset: u64, rule: &str, message: String) {
        let path = self.path();
        self.violations.push(Violation {
            path,
            rule: rule.to_owned(),
            message,
            offset,
        });
    }

    fn run<'i>(mut self, mut reader: impl Source<'i>) -> Result<Report, Error> {
        reader.config_mut().check_end_names = true;
        let limits = self.options.limits;
        let mut buf = Vec::new();
        let mut resolver = NamespaceResolver::default();
        // Per open element: whether it declared namespaces (and so opened a resolver scope).
        let mut scoped: Vec<bool> = Vec::new();
        // The namespace of the last element looked up, valid while `ns_for` names its prefix
        // (`Some(None)`: no prefix) and no scope was opened or closed since.
        let mut ns_buf = String::new();
        let mut ns_for: Option<Option<String>> = None;
        // Bumped whenever `ns_buf` changes, so that facts about it can be cached.
        let mut ns_gen: u64 = 0;
        // Attributes of the current start tag: `attrs[..attr_count]`, strings reused.
        let mut attrs: Vec<(String, String, String)> = Vec::new();
        loop {
            buf.clear();
            let offset = reader.reader().buffer_position();
            let event = match reader.next_event(&mut buf) {
                Ok(x) => x,
                Err(e) => {
                    let at = reader.reader().error_position();
                    return Err(self.xml_error(at, XmlErrorKind::Syntax(e.to_string())));
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    // Only a tag with an `xmlns` attribute can bind a prefix.
                    let raw = e.attributes_raw();
                    let declares = !raw.is_empty() && raw.contains("xmlns");
                    if declares {
                        if let Err(err) = resolver.push(e) {
                            let at = reader.reader().error_position();
                            let err = quick_xml::Error::from(err);
                            return Err(self.xml_error(at, XmlErrorKind::Syntax(err.to_string())));
                        }
                        ns_for = None;
                    }
                    scoped.push(declares);
                    // `QName::decompose`, with a byte loop instead of a `memchr` call: names are short.
                    let qname = e.name().into_inner();
                    let (local, prefix) = match qname.bytes().position(|b| b == b':') {
                        None => (qname, None),
                        Some(i) => (
                            qname.get(i + 1..).unwrap_or_default(),
                            Some(qname.get(..i).unwrap_or_default()),
                        ),
                    };
                    if ns_for.as_ref().map(Option::as_deref) != Some(prefix) {
                        let (ns, _) = resolver.resolve_element(e.name());
                        let resolved = resolve(&ns).map_err(|k| self.xml_error(offset, k))?;
                        ns_buf.clear();
                        ns_buf.push_str(resolved);
                        ns_gen += 1;
                        ns_for = Some(prefix.map(str::to_owned));
                    }
                    let ns = ns_buf.as_str();
                    self.elements += 1;
                    if self.elements > limits.elements_max {
                        return Err(self.xml_error(
                            offset,
                            XmlErrorKind::TooManyElements(limits.elements_max),
                        ));
                    }
                    if self.depth >= limits.depth_max {
                        return Err(self.xml_error(offset, XmlErrorKind::TooDeep(limits.depth_max)));
                    }
                    let mut attr_count = 0;
                    for a in e.attributes() {
                        let a = a.map_err(|err| {
                            self.xml_error(offset, XmlErrorKind::Syntax(err.to_string()))
                        })?;
                        if attr_count >= limits.attributes_max {
                            return Err(self.xml_error(
                                offset,
                                XmlErrorKind::TooManyAttributes(limits.attributes_max),
                            ));
                        }
                        let key = a.key.0;
                        if key == "xmlns" || key.starts_with("xmlns:") {
                            continue;
                        }
                        let (ans, alocal) = resolver.resolve_attribute(a.key);
                        let ans = resolve(&ans).map_err(|k| self.xml_error(offset, k))?;
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| {
                                self.xml_error(offset, XmlErrorKind::Syntax(err.to_string()))
                            })?;
                        if attrs.len() <= attr_count {
                            attrs.push(Default::default());
                        }
                        if let Some((n, l, v)) = attrs.get_mut(attr_count) {
                            n.clear();
                            n.push_str(ans);
                            l.clear();
                            l.push_str(alocal.as_ref());
                            v.clear();
                            v.push_str(&value);
                        }
                        attr_count += 1;
                    }
                    let these = attrs.get(..attr_count).unwrap_or_default();
                    self.start(offset, ns, ns_gen, local, these)?;
                    if empty {
                        self.end(offset);
                        if scoped.pop() == Some(true) {
                            resolver.pop();
                            ns_for = None;
                        }
                    }
                }
                Event::End(_) => {
                    self.end(offset);
                    if scoped.pop() == Some(true) {
                        resolver.pop();
                        ns_for = None;
                    }
                }
                Event::Text(t) => match self.text_mode() {
                    TextMode::Ignore => {}
                    // Whitespace is whitespace before and after decoding (references come as
                    // their own events), so the raw bytes decide.
                    TextMode::ElementsOnly => {
                        if !is_xml_space(&t) {
                            self.unexpected_text(offset);
                        }
                    }
                    // XML 1.0 end-of-line handling only rewrites `\r`: without one, the raw
                    // text is the content and needs no copy.
                    TextMode::Collect if !t.as_bytes().contains(&b'\r') => {
                        self.text(offset, &t, limits)?;
                    }
                    TextMode::Collect => {
                        let text = t.xml10_content();
                        self.text(offset, &text, limits)?;
                    }
                },
                Event::CData(c) => {
                    let text = c.xml10_content();
                    self.text(offset, &text, limits)?;
                }
                Event::GeneralRef(r) => {
                    let ch = if r.is_char_ref() {
                        r.resolve_char_ref().map_err(|err| {
                            self.xml_error(offset, XmlErrorKind::Syntax(err.to_string()))
                        })?
                    } else {
                        predefined_entity(&r)
                    };
                    let ch = ch.ok_or_else(|| {
                        self.xml_error(offset, XmlErrorKind::UnknownEntity(r.to_string()))
                    })?;
                    let mut tmp = [0u8; 4];
                    self.text(offset, ch.encode_utf8(&mut tmp), limits)?;
                }
                Event::DocType(_) => return Err(self.xml_error(offset, XmlErrorKind::Doctype)),
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
        if self.depth > 0 {
            return Err(self.xml_error(reader.reader().buffer_position(), XmlErrorKind::Truncated));
        }
        self.report()
    }

    /// Leaves the path and text buffers to the next validation on this thread: entries beyond
    /// `depth` are reused exactly as within one input (see `push_step`), so a validation per
    /// message does not allocate them again each time.
    fn recycle(&mut self) {
        let spare_texts = std::mem::take(&mut self.spare_texts)
            .into_iter()
            .filter(|t| t.capacity() <= SCRATCH_TEXT_BYTES_MAX)
            .take(SCRATCH_TEXTS_MAX)
            .collect();
        SCRATCH.set(Some(Scratch {
            steps: std::mem::take(&mut self.steps),
            names: std::mem::take(&mut self.names),
            roots: std::mem::take(&mut self.roots),
            spare_texts,
        }));
    }

    /// The report once the input has ended with every element closed.
    fn report(mut self) -> Result<Report, Error> {
        self.recycle();
        if self.root_names.is_empty() {
            return Err(Error::Xml {
                path: "/".into(),
                offset: 0,
                kind: XmlErrorKind::Empty,
            });
        }
        if !self.parts.iter().any(|p| p.kind == PartKind::Document) {
            return Err(Error::NoDocument);
        }
        let envelope = match (
            self.root_names.first().map(String::as_str),
            self.parts.first(),
        ) {
            (Some(_), Some(p))
                if p.path.matches('/').count() == 1 && self.root_names.len() == 1 =>
            {
                Envelope::Bare
            }
            (Some(_), Some(_)) if self.root_names.len() > 1 => Envelope::AppHdrThenDocument,
            (Some(root), _) => Envelope::for_wrapper(root),
            (None, _) => Envelope::Bare,
        };
        Ok(Report {
            envelope,
            parts: self.parts,
            violations: self.violations,
        })
    }

    fn push_step(&mut self, local: &str, show_index: bool) {
        let counters = match self
            .depth
            .checked_sub(1)
            .and_then(|i| self.steps.get_mut(i))
        {
            Some(parent) => &mut parent.children,
            None => &mut self.roots,
        };
        let index = counters.bump(local);
        match (
            self.steps.get_mut(self.depth),
            self.names.get_mut(self.depth),
        ) {
            (Some(step), Some(name)) => {
                step.index = index;
                step.show_index = show_index;
                step.children.clear();
                name.clear();
                name.push_str(local);
            }
            _ => {
                self.steps.push(Step0 {
                    index,
                    show_index,
                    children: Counters::default(),
                });
                self.names.push(local.to_owned());
            }
        }
        self.depth += 1;
    }

    fn pop_step(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn start(
        &mut self,
        offset: u64,
        ns: &str,
        ns_gen: u64,
        local: &str,
        attrs: &[(String, String, String)],
    ) -> Result<(), Error> {
        if self.depth == 0 {
            self.root_names.push(local.to_owned());
        }
        let Some(part) = self.part.as_mut() else {
            return self.start_outside(offset, ns, local, attrs);
        };
        let parent = part.frames.last_mut();
        let mut violation: Option<(&'static str, String)> = None;
        let mut pending: Vec<Finding> = Vec::new();
        let (ty, show_index) = match parent {
            None => (None, false),
            Some(frame) => match frame.ty.map(|t| part.schema.types.get(t as usize)) {
                None | Some(None) => (None, false),
                Some(Some(Type::Elements(slots))) => {
                    let target = part.schema.namespace.as_str();
                    let in_target = match self.in_target {
                        Some((g, t)) if g == ns_gen => t,
                        _ => {
                            let t = ns == target;
                            self.in_target = Some((ns_gen, t));
                            t
                        }
                    };
                    match frame.matcher.step(slots, target, in_target, ns, local) {
                        Step::Element {
                            ty,
                            repeats,
                            missing,
                        } => {
                            for m in missing {
                                pending.push(Finding::new(
                                    "XSD-MISSING-ELEMENT",
                                    format!("expected {m} before {local}"),
                                ));
                            }
                            (Some(ty), repeats)
                        }
                        Step::Wildcard { repeats } => (None, repeats),
                        Step::Unexpected { expected } => {
                            violation = Some((
                                "XSD-UNEXPECTED-ELEMENT",
                                format!("element {local} is not expected here{expected}"),
                            ));
                            (None, false)
                        }
                    }
                }
                Some(Some(_)) => {
                    if !frame.text_reported {
                        violation = Some((
                            "XSD-UNEXPECTED-ELEMENT",
                            format!("element {local} is not allowed in a text-only element"),
                        ));
                    }
                    (None, false)
                }
            },
        };
        // Missing-before findings belong to the parent: report them with its path.
        for f in pending {
            self.violate(offset, f.rule, f.message);
        }
        self.push_step(local, show_index);
        if let Some((rule, message)) = violation {
            self.violate(offset, rule, message);
        }
        let ccy = attrs
            .iter()
            .find(|(ans, n, _)| ans.is_empty() && n == "Ccy")
            .map(|(_, _, v)| {
                let mut s = self.spare_texts.pop().unwrap_or_default();
                s.push_str(v);
                s
            });
        if let Some(ty) = ty
            && (!attrs.is_empty() || self.declares_attributes(ty))
        {
            self.check_attributes(offset, ty, attrs);
        }
        let Some(part) = self.part.as_mut() else {
            return Ok(());
        };
        let text = self.spare_texts.pop().unwrap_or_default();
        part.frames.push(Frame {
            ty,
            matcher: Matcher::default(),
            text,
            ccy,
            text_reported: false,
            offset,
        });
        if ty.is_some() {
            let names = self.names.get(part.depth..self.depth).unwrap_or_default();
            part.observer.start(names);
        }
        Ok(())
    }

    /// Whether type `ty` of the current part declares attributes (some may be required).
    fn declares_attributes(&self, ty: TypeId) -> bool {
        self.part.as_ref().is_some_and(|p| {
            matches!(p.schema.types.get(ty as usize),
                Some(Type::SimpleContent { attributes, .. }) if !attributes.is_empty())
        })
    }

    fn check_attributes(&mut self, offset: u64, ty: TypeId, attrs: &[(String, String, String)]) {
        let Some(part) = self.part.as_ref() else {
            return;
        };
        let declared = match part.schema.types.get(ty as usize) {
            Some(Type::SimpleContent { attributes, .. }) => attributes.as_slice(),
            _ => &[],
        };
        if attrs.is_empty() && declared.is_empty() {
            return;
        }
        let mut problems = Vec::new();
        for (ans, name, value) in attrs {
            if ans == XSI {
                continue;
            }
            match declared.iter().find(|d| ans.is_empty() && d.name == *name) {
                None => problems.push((
                    "XSD-UNEXPECTED-ATTRIBUTE",
                    format!("attribute {name} is not allowed here"),
                )),
                Some(d) => {
                    if let Some(Type::Simple(st)) = part.schema.types.get(d.ty as usize)
                        && let Err(p) = st.check(value)
                    {
                        problems.push((p.rule, format!("attribute {name}: {}", p.message)));
                    }
                }
            }
        }
        for d in declared.iter().filter(|d| d.required) {
            if !attrs
                .iter()
                .any(|(ans, n, _)| ans.is_empty() && *n == d.name)
            {
                problems.push((
                    "XSD-MISSING-ATTRIBUTE",
                    format!("required attribute {} is missing", d.name),
                ));
            }
        }
        for (rule, message) in problems {
            self.violate(offset, rule, message);
        }
    }

    fn start_outside(
        &mut self,
        offset: u64,
        ns: &str,
        local: &str,
        attrs: &[(String, String, String)],
    ) -> Result<(), Error> {
        let is_iso_part =
            ns.starts_with(ISO_NAMESPACE_PREFIX) && (local == "Document" || local == "AppHdr");
        self.push_step(local, false);
        if !is_iso_part {
            return Ok(());
        }
        let unsupported = || Error::UnsupportedNamespace {
            path: self.path(),
            offset,
            namespace: ns.to_owned(),
            supported: schema::supported_namespaces().join(", "),
        };
        let (Some(message), Some(compiled)) =
            (MessageId::from_namespace(ns), schema::for_namespace(ns))
        else {
            return Err(unsupported());
        };
        let compiled = compiled?;
        self.in_target = None;
        let kind = if local == "AppHdr" {
            PartKind::AppHdr
        } else {
            PartKind::Document
        };
        self.parts.push(Part {
            kind,
            message: message.clone(),
            path: self.path(),
        });
        let root_ok = compiled.root == local;
        let depth = self.depth.saturating_sub(1);
        self.part = Some(ActivePart {
            schema: compiled,
            depth,
            frames: Vec::new(),
            observer: Observer::new(message, self.options.schema_only, self.options.pack),
        });
        if !root_ok {
            self.violate(
                offset,
                "XSD-UNEXPECTED-ELEMENT",
                format!("the root of {ns} is {}, not {local}", compiled.root),
            );
            if let Some(p) = self.part.as_mut() {
                p.frames.push(Frame {
                    ty: None,
                    matcher: Matcher::default(),
                    text: String::new(),
                    ccy: None,
                    text_reported: true,
                    offset,
                });
            }
            return Ok(());
        }
        let ty = compiled.root_type;
        self.check_attributes(offset, ty, attrs);
        if let Some(p) = self.part.as_mut() {
            p.frames.push(Frame {
                ty: Some(ty),
                matcher: Matcher::default(),
                text: String::new(),
                ccy: None,
                text_reported: false,
                offset,
            });
            p.observer
                .start(self.names.get(depth..self.depth).unwrap_or_default());
        }
        Ok(())
    }

    /// What a text event in the current element needs.
    fn text_mode(&self) -> TextMode {
        let Some(part) = self.part.as_ref() else {
            return TextMode::Ignore;
        };
        let Some(frame) = part.frames.last() else {
            return TextMode::Ignore;
        };
        let Some(ty) = frame.ty else {
            return TextMode::Ignore;
        };
        match part.schema.types.get(ty as usize) {
            Some(Type::Simple(_) | Type::SimpleContent { .. }) => TextMode::Collect,
            _ if frame.text_reported => TextMode::Ignore,
            _ => TextMode::ElementsOnly,
        }
    }

    /// Non-whitespace text in an element-only element (reported once per element).
    fn unexpected_text(&mut self, offset: u64) {
        let Some(frame) = self.part.as_mut().and_then(|p| p.frames.last_mut()) else {
            return;
        };
        if frame.text_reported {
            return;
        }
        frame.text_reported = true;
        self.violate(
            offset,
            "XSD-UNEXPECTED-TEXT",
            "text is not allowed in this element, which holds elements only".to_owned(),
        );
    }

    fn text(&mut self, offset: u64, text: &str, limits: Limits) -> Result<(), Error> {
        let Some(part) = self.part.as_mut() else {
            return Ok(());
        };
        let Some(frame) = part.frames.last_mut() else {
            return Ok(());
        };
        let Some(ty) = frame.ty else { return Ok(()) };
        match part.schema.types.get(ty as usize) {
            Some(Type::Simple(_) | Type::SimpleContent { .. }) => {
                if frame.text.len() + text.len() > limits.text_bytes_max {
                    return Err(
                        self.xml_error(offset, XmlErrorKind::TextTooLong(limits.text_bytes_max))
                    );
                }
                frame.text.push_str(text);
            }
            _ => {
                if !is_xml_space(text) {
                    self.unexpected_text(offset);
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, offset: u64) {
        let mut closing_part = false;
        if let Some(part) = self.part.as_mut() {
            if let Some(frame) = part.frames.pop() {
                let mut problems: Vec<Finding> = Vec::new();
                if let Some(ty) = frame.ty {
                    match part.schema.types.get(ty as usize) {
                        Some(Type::Elements(slots)) => {
                            for m in frame.matcher.missing_at_end(slots) {
                                problems.push(Finding::new(
                                    "XSD-MISSING-ELEMENT",
                                    format!("required element {m} is missing"),
                                ));
                            }
                        }
                        Some(Type::Simple(st)) => {
                            if let Err(p) = st.check(&frame.text) {
                                problems.push(Finding::new(p.rule, p.message));
                            }
                        }
                        Some(Type::SimpleContent { value, .. }) => {
                            if let Some(Type::Simple(st)) = part.schema.types.get(*value as usize)
                                && let Err(p) = st.check(&frame.text)
                            {
                                problems.push(Finding::new(p.rule, p.message));
                            }
                        }
                        None => {}
                    }
                    let rel = self.names.get(part.depth..self.depth).unwrap_or_default();
                    part.observer
                        .end(rel, &frame.text, frame.ccy.as_deref(), &mut problems);
                }
                let frame_offset = frame.offset;
                let mut text = frame.text;
                text.clear();
                self.spare_texts.push(text);
                if let Some(mut ccy) = frame.ccy {
                    ccy.clear();
                    self.spare_texts.push(ccy);
                }
                for p in problems {
                    let o = if p.rule.starts_with("XSD-") && !p.rule.starts_with("XSD-MISSING") {
                        frame_offset
                    } else {
                        offset
                    };
                    self.violate(o, p.rule, p.message);
                }
            }
            closing_part = self.part.as_ref().is_some_and(|p| p.frames.is_empty());
        }
        if closing_part {
            self.part = None;
        }
        self.pop_step();
    }
}

#[cfg(test)]
mod tests;
