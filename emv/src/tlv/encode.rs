//! The encoder: owned TLV objects to bytes, lengths in their shortest form. A template kept
//! raw by the decoder re-encodes its raw content unchanged.

use std::fmt;

use super::dictionary::Dictionary;
use super::{Tag, Tlv, length};

/// An owned TLV object, for building chip data and for round trips.
#[derive(Clone, PartialEq, Eq)]
pub struct TlvBuf {
    /// The tag.
    pub tag: Tag,
    /// The value.
    pub content: Content,
}

/// The value of an owned TLV object.
#[derive(Clone, PartialEq, Eq)]
pub enum Content {
    /// Bytes as they are: a primitive value, or a template's content kept raw.
    Raw(Vec<u8>),
    /// The objects of a template.
    Children(Vec<TlvBuf>),
}

impl TlvBuf {
    /// A primitive object.
    pub fn primitive(tag: Tag, value: impl Into<Vec<u8>>) -> Self {
        Self {
            tag,
            content: Content::Raw(value.into()),
        }
    }

    /// A template holding `children`.
    pub fn template(tag: Tag, children: Vec<TlvBuf>) -> Self {
        Self {
            tag,
            content: Content::Children(children),
        }
    }
}

impl From<&Tlv<'_>> for TlvBuf {
    fn from(tlv: &Tlv<'_>) -> Self {
        match &tlv.children {
            Some(children) => {
                TlvBuf::template(tlv.tag, children.iter().map(TlvBuf::from).collect())
            }
            None => TlvBuf::primitive(tlv.tag, tlv.value),
        }
    }
}

impl fmt::Debug for TlvBuf {
    /// Like [`Tlv`]'s: sensitive and raw template values are not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("TlvBuf");
        s.field("tag", &self.tag);
        match &self.content {
            Content::Children(children) => s.field("children", children),
            Content::Raw(value)
                if self.tag.is_constructed() || Dictionary::shipped().is_sensitive(self.tag) =>
            {
                s.field("len", &value.len()).field("value", &"<masked>")
            }
            Content::Raw(value) => s.field("value", &crate::tlv::describe::hex(value)),
        };
        s.finish()
    }
}

/// Appends the encoding of `tlvs` to `out`.
pub fn encode_into(tlvs: &[TlvBuf], out: &mut Vec<u8>) {
    for tlv in tlvs {
        out.extend(tlv.tag.bytes());
        match &tlv.content {
            Content::Raw(value) => {
                length::encode_into(value.len(), out);
                out.extend_from_slice(value);
            }
            Content::Children(children) => {
                let mut inner = Vec::new();
                encode_into(children, &mut inner);
                length::encode_into(inner.len(), out);
                out.extend_from_slice(&inner);
            }
        }
    }
}

/// The encoding of `tlvs` as a new buffer.
pub fn encode(tlvs: &[TlvBuf]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(tlvs, &mut out);
    out
}
