//! Turns one XSD text into a [`Schema`]. The XSDs are our own shipped data, so they are read into
//! a small tree first (instance documents never are).

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::simple::{Builtin, Facets, SimpleType};
use super::{Attribute, Particle, Schema, Slot, Term, Type, TypeId, Wildcard};

#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_tree(text: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let event = reader.read_event().map_err(|e| format!("XML: {e}"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut node = Node {
                    name: e.local_name().as_ref().to_owned(),
                    ..Node::default()
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| format!("attribute: {e}"))?;
                    node.attrs
                        .push((a.key.local_name().as_ref().to_owned(), a.value.into_owned()));
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(node);
                } else if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced end tag")?;
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(node);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut top = stack.pop().ok_or("empty")?;
    top.children.pop().ok_or_else(|| "no xs:schema".to_owned())
}

struct Compiler<'a> {
    file: &'a str,
    named: HashMap<&'a str, &'a Node>,
    ids: HashMap<String, TypeId>,
    types: Vec<Option<Type>>,
}

fn occurs(node: &Node, key: &str) -> Result<u32, String> {
    match node.attr(key) {
        None => Ok(1),
        Some("unbounded") => Ok(u32::MAX),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{key}=\"{v}\" is not a number")),
    }
}

impl<'a> Compiler<'a> {
    fn type_id(&mut self, name: &str) -> Result<TypeId, String> {
        if let Some(id) = self.ids.get(name) {
            return Ok(*id);
        }
        let id = TypeId::try_from(self.types.len()).map_err(|_| "too many types")?;
        self.ids.insert(name.to_owned(), id);
        self.types.push(None);
        let ty = if let Some(builtin) = name.strip_prefix("xs:") {
            Type::Simple(SimpleType {
                base: Builtin::from_xsd(builtin)
                    .ok_or(format!("unsupported built-in type xs:{builtin}"))?,
                facets: Facets::default(),
            })
        } else {
            let node = *self
                .named
                .get(name)
                .ok_or(format!("type {name} is not defined"))?;
            match node.name.as_str() {
                "simpleType" => Type::Simple(self.simple(name, node)?),
                "complexType" => self.complex(name, node)?,
                other => return Err(format!("{name}: unexpected xs:{other}")),
            }
        };
        if let Some(slot) = self.types.get_mut(id as usize) {
            *slot = Some(ty);
        }
        Ok(id)
    }

    fn simple(&mut self, name: &str, node: &Node) -> Result<SimpleType, String> {
        let [restriction] = node.children.as_slice() else {
            return Err(format!(
                "{name}: a simpleType must hold exactly one xs:restriction"
            ));
        };
        if restriction.name != "restriction" {
            return Err(format!("{name}: unsupported xs:{}", restriction.name));
        }
        let base_name = restriction
            .attr("base")
            .ok_or(format!("{name}: restriction without base"))?;
        let base_id = self.type_id(base_name)?;
        let Some(Some(Type::Simple(base))) = self.types.get(base_id as usize) else {
            return Err(format!("{name}: base {base_name} is not a simple type"));
        };
        let mut out = base.clone();
        let facets: Vec<(&str, &str)> = restriction
            .children
            .iter()
            .map(|f| (f.name.as_str(), f.attr("value").unwrap_or("")))
            .collect();
        out.facets
            .restrict(out.base, &facets)
            .map_err(|p| format!("{}: {name}: {p}", self.file))?;
        Ok(out)
    }

    fn complex(&mut self, name: &str, node: &Node) -> Result<Type, String> {
        let [content] = node.children.as_slice() else {
            if node.children.is_empty() {
                return Ok(Type::Elements(Vec::new()));
            }
            return Err(format!("{name}: complexType with several content children"));
        };
        match content.name.as_str() {
            "sequence" => {
                let mut slots = Vec::new();
                for child in &content.children {
                    match child.name.as_str() {
                        "element" | "any" => {
                            let particle = self.particle(name, child)?;
                            slots.push(Slot {
                                required: particle.min > 0,
                                alternatives: vec![particle],
                            });
                        }
                        "choice" => slots.push(self.choice(name, child)?),
                        other => {
                            return Err(format!("{name}: unsupported xs:{other} in a sequence"));
                        }
                    }
                }
                Ok(Type::Elements(slots))
            }
            "choice" => Ok(Type::Elements(vec![self.choice(name, content)?])),
            "simpleContent" => {
                let [ext] = content.children.as_slice() else {
                    return Err(format!("{name}: simpleContent must hold one xs:extension"));
                };
                if ext.name != "extension" {
                    return Err(format!(
                        "{name}: unsupported xs:{} in simpleContent",
                        ext.name
                    ));
                }
                let value = self.type_id(
                    ext.attr("base")
                        .ok_or(format!("{name}: extension without base"))?,
                )?;
                let mut attributes = Vec::new();
                for a in &ext.children {
                    if a.name != "attribute" {
                        return Err(format!("{name}: unsupported xs:{} in an extension", a.name));
                    }
                    let attr_name = a
                        .attr("name")
                        .ok_or(format!("{name}: attribute without name"))?;
                    let ty = self.type_id(
                        a.attr("type")
                            .ok_or(format!("{name}: attribute without type"))?,
                    )?;
                    attributes.push(Attribute {
                        name: attr_name.to_owned(),
                        ty,
                        required: a.attr("use") == Some("required"),
                    });
                }
                Ok(Type::SimpleContent { value, attributes })
            }
            other => Err(format!("{name}: unsupported xs:{other} in a complexType")),
        }
    }

    fn choice(&mut self, name: &str, node: &Node) -> Result<Slot, String> {
        if occurs(node, "maxOccurs")? != 1 {
            return Err(format!("{name}: repeated xs:choice is not supported"));
        }
        let mut alternatives = Vec::new();
        for child in &node.children {
            match child.name.as_str() {
                "element" | "any" => alternatives.push(self.particle(name, child)?),
                other => return Err(format!("{name}: unsupported xs:{other} in a choice")),
            }
        }
        let required = occurs(node, "minOccurs")? > 0 && alternatives.iter().all(|p| p.min > 0);
        Ok(Slot {
            alternatives,
            required,
        })
    }

    fn particle(&mut self, name: &str, node: &Node) -> Result<Particle, String> {
        let (min, max) = (occurs(node, "minOccurs")?, occurs(node, "maxOccurs")?);
        let term = if node.name == "any" {
            if !matches!(node.attr("processContents"), Some("lax" | "skip")) {
                return Err(format!("{name}: xs:any must be lax or skip"));
            }
            Term::Any(match node.attr("namespace").unwrap_or("##any") {
                "##any" => Wildcard::AnyNamespace,
                "##other" => Wildcard::Other,
                ns if !ns.contains(' ') && !ns.starts_with("##") => {
                    Wildcard::Namespace(ns.to_owned())
                }
                ns => return Err(format!("{name}: unsupported xs:any namespace \"{ns}\"")),
            })
        } else {
            let el = node
                .attr("name")
                .ok_or(format!("{name}: element without name"))?;
            let ty = self.type_id(
                node.attr("type")
                    .ok_or(format!("{name}/{el}: element without type"))?,
            )?;
            Term::Element {
                name: el.to_owned(),
                ty,
            }
        };
        Ok(Particle { term, min, max })
    }
}

pub(super) fn compile(file: &'static str, text: &str) -> Result<Schema, String> {
    let tree = parse_tree(text)?;
    if tree.name != "schema" {
        return Err("root is not xs:schema".to_owned());
    }
    let target = tree.attr("targetNamespace").ok_or("no targetNamespace")?;
    if tree.attr("elementFormDefault") != Some("qualified") {
        return Err("elementFormDefault must be qualified".to_owned());
    }
    let mut named = HashMap::new();
    let mut global = None;
    for child in &tree.children {
        match child.name.as_str() {
            "simpleType" | "complexType" => {
                let name = child.attr("name").ok_or("a global type without a name")?;
                named.insert(name, child);
            }
            "element" if global.is_none() => global = Some(child),
            "annotation" => {}
            other => return Err(format!("unsupported global xs:{other}")),
        }
    }
    let global = global.ok_or("no global element")?;
    let mut compiler = Compiler {
        file,
        named,
        ids: HashMap::new(),
        types: Vec::new(),
    };
    let root_type = compiler.type_id(global.attr("type").ok_or("global element without type")?)?;
    let types = compiler
        .types
        .into_iter()
        .map(|t| t.ok_or_else(|| "a type refers to itself through its base".to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    // The namespace must be the ISO one matching the file name, so `for_namespace` is exact.
    let namespace: &'static str = super::SHIPPED
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(f, _)| f.trim_end_matches(".xsd"))
        .ok_or("not a shipped schema")?;
    if target != format!("{}{namespace}", super::ISO_NAMESPACE_PREFIX) {
        return Err(format!(
            "targetNamespace {target} does not match the file name"
        ));
    }
    Ok(Schema {
        file,
        namespace: target.to_owned(),
        root: global
            .attr("name")
            .ok_or("global element without name")?
            .to_owned(),
        root_type,
        types,
    })
}
