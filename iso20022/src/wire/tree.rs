//! A small owned XML element tree: the lossless layer under the typed models.
//!
//! Reading is one pass of quick-xml's namespace-aware reader. Names are resolved to
//! (namespace, local name); prefixes are not kept, because Clearway writes every element
//! prefix-free with a default namespace declared where it changes. Comments, processing
//! instructions and whitespace-only text between elements are dropped (they carry no content);
//! text inside a leaf element is kept exactly. A `DOCTYPE` is refused (no DTD, no entity
//! expansion), as are unknown entity references, depth over [`MAX_DEPTH`] and text over
//! [`MAX_TEXT`] bytes. Every error names the element path and the byte offset.
//!
//! Writing is canonical: attributes in the order read, `<a/>` for an empty element, escapes
//! `&`, `<`, `>` (and `"` in attributes), namespaced attributes under a fixed prefix (`xsi` for
//! XML Schema instance, `xml` for the XML namespace, `n1`, `n2`, … otherwise).

use std::fmt::Write as _;
use std::sync::Arc;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
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

fn path_of(stack: &[Element]) -> String {
    if stack.is_empty() {
        return "/".to_owned();
    }
    let mut p = String::new();
    for e in stack {
        p.push('/');
        p.push_str(&e.name);
    }
    p
}

/// Reads every top-level element of `input` (normally one; an `AppHdr` followed by a
/// `Document` gives two).
pub fn read(input: &str) -> Result<Vec<Element>, XmlError> {
    let mut reader = quick_xml::reader::NsReader::from_str(input);
    // Finished elements waiting for their parent's end tag; `starts[i]` is where the children
    // of `stack[i]` begin in it, so each parent gets one exactly sized `children` vector.
    let mut done: Vec<Element> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    let mut namespaces: Vec<Arc<str>> = Vec::new();
    // Whitespace-only text of the innermost open element, kept borrowed until we know whether
    // it is the content of a leaf (kept) or indentation between children (dropped).
    let mut pending: Option<std::borrow::Cow<'_, str>> = None;
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let err = |stack: &[Element], problem: String| XmlError {
            path: path_of(stack),
            offset,
            problem,
        };
        let (resolved, event) = match reader.read_resolved_event() {
            Ok((r, e)) => (intern(&r, &mut namespaces), e),
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(offset);
                return Err(XmlError {
                    path: path_of(&stack),
                    offset: at,
                    problem: e.to_string(),
                });
            }
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(
                        &stack,
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                let ns = match resolved {
                    Ok(ns) => ns,
                    Err(prefix) => {
                        return Err(err(
                            &stack,
                            format!("undeclared namespace prefix `{prefix}`"),
                        ));
                    }
                };
                let mut el = Element {
                    ns,
                    name: start.local_name().as_ref().to_owned(),
                    offset,
                    attrs: Vec::new(),
                    text: None,
                    children: Vec::new(),
                };
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| err(&stack, format!("attribute: {e}")))?;
                    let key = attr.key.as_ref();
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        continue;
                    }
                    let (ans, local) = reader.resolver().resolve_attribute(attr.key);
                    let ans = match resolve(&ans) {
                        Ok(ns) => ns,
                        Err(p) => {
                            return Err(err(&stack, format!("undeclared namespace prefix `{p}`")));
                        }
                    };
                    let value = attr
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|e| err(&stack, format!("attribute `{key}`: {e}")))?;
                    el.attrs.push(Attribute {
                        ns: ans,
                        name: local.as_ref().to_owned(),
                        value: value.into_owned(),
                    });
                }
                pending = None;
                if matches!(event, Event::Empty(_)) {
                    done.push(el);
                } else {
                    stack.push(el);
                    starts.push(done.len());
                }
            }
            Event::End(_) => match stack.pop() {
                Some(mut el) => {
                    let start = starts.pop().unwrap_or(done.len()).min(done.len());
                    el.children = done.drain(start..).collect();
                    if let Some(ws) = pending.take()
                        && el.children.is_empty()
                    {
                        el.text.get_or_insert_with(String::new).push_str(&ws);
                    }
                    if !el.children.is_empty()
                        && el.text.as_deref().is_some_and(|t| t.trim().is_empty())
                    {
                        el.text = None;
                    }
                    done.push(el);
                }
                None => return Err(err(&stack, "end tag without a start tag".to_owned())),
            },
            Event::Text(t) => {
                let text = t.xml10_content();
                let open_without_text = stack.last().is_some_and(|top| top.text.is_none());
                if open_without_text && text.trim().is_empty() {
                    if text.len() + pending.as_ref().map_or(0, |p| p.len()) > MAX_TEXT {
                        return Err(err(&stack, format!("text longer than {MAX_TEXT} bytes")));
                    }
                    pending = Some(match pending.take() {
                        None => text,
                        Some(p) => std::borrow::Cow::Owned(format!("{p}{text}")),
                    });
                } else {
                    if let Some(ws) = pending.take() {
                        push_text(&mut stack, &ws, &err)?;
                    }
                    push_text(&mut stack, &text, &err)?;
                }
            }
            Event::CData(t) => {
                if let Some(ws) = pending.take() {
                    push_text(&mut stack, &ws, &err)?;
                }
                push_text(&mut stack, &t.xml10_content(), &err)?;
            }
            Event::GeneralRef(r) => {
                if let Some(ws) = pending.take() {
                    push_text(&mut stack, &ws, &err)?;
                }
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match predefined(r.xml10_content().as_ref()) {
                        Some(c) => c,
                        None => {
                            return Err(err(
                                &stack,
                                format!(
                                    "unknown entity `&{};` (no DTD is read)",
                                    r.xml10_content()
                                ),
                            ));
                        }
                    },
                    Err(e) => return Err(err(&stack, format!("character reference: {e}"))),
                };
                let mut buf = [0u8; 4];
                push_text(&mut stack, ch.encode_utf8(&mut buf), &err)?;
            }
            Event::DocType(_) => {
                return Err(err(
                    &stack,
                    "DOCTYPE refused: no DTD or entity expansion".to_owned(),
                ));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        let offset = input.len();
        return Err(XmlError {
            path: path_of(&stack),
            offset,
            problem: "input ends inside an element".to_owned(),
        });
    }
    let roots = done;
    if roots.is_empty() {
        return Err(XmlError {
            path: "/".to_owned(),
            offset: 0,
            problem: "no element in the input".to_owned(),
        });
    }
    Ok(roots)
}

/// The namespace of an element, shared with the earlier elements of the same namespace.
fn intern(r: &ResolveResult<'_>, seen: &mut Vec<Arc<str>>) -> Result<Arc<str>, String> {
    let ns: &str = match r {
        ResolveResult::Unbound => "",
        ResolveResult::Bound(ns) => ns.as_ref(),
        ResolveResult::Unknown(p) => return Err(p.clone()),
    };
    if let Some(known) = seen.iter().find(|k| &***k == ns) {
        return Ok(known.clone());
    }
    let new: Arc<str> = Arc::from(ns);
    seen.push(new.clone());
    Ok(new)
}

fn resolve(r: &ResolveResult<'_>) -> Result<String, String> {
    match r {
        ResolveResult::Unbound => Ok(String::new()),
        ResolveResult::Bound(ns) => Ok(ns.as_ref().to_owned()),
        ResolveResult::Unknown(p) => Err(p.clone()),
    }
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

fn push_text(
    stack: &mut [Element],
    text: &str,
    err: &dyn Fn(&[Element], String) -> XmlError,
) -> Result<(), XmlError> {
    let Some(top) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(err(stack, "text outside the root element".to_owned()));
    };
    let t = top.text.get_or_insert_with(String::new);
    if t.len() + text.len() > MAX_TEXT {
        return Err(err(stack, format!("text longer than {MAX_TEXT} bytes")));
    }
    t.push_str(text);
    Ok(())
}

/// Appends `text` escaped for element content.
pub fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Appends `text` escaped for a double-quoted attribute value.
pub fn escape_attr(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
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
}
