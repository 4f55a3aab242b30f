//! The decoder: BER-TLV bytes to a tree of [`Tlv`] borrowing from the input.
//!
//! What real chip data needs beyond strict BER (EMV Book 3 Annex B, and what terminals send):
//! `00` bytes before, between and after objects are padding; so is an `FF` byte where an
//! object cannot start, where only padding follows, or where the tag would be made only of
//! `FF` and `00` bytes. A template (constructed tag) whose content is not BER-TLV, as some
//! proprietary templates (`FF8105`, `FFEE01`) are, is kept as raw bytes with no children
//! instead of failing the field, with the reason kept beside it (`raw_reason`, an [`Error`]
//! naming the inner tag path and offset). Only the top level must be well formed;
//! [`decode_strict`] refuses any template whose content is not BER-TLV instead.

use std::fmt;

use super::dictionary::Dictionary;
use super::{Error, ErrorKind, Tag, TagPath, length};

/// The deepest template nesting accepted; EMV data rarely goes past 4.
pub const DEPTH_MAX: usize = 16;

/// One decoded object, borrowing its value from the input.
#[derive(Clone, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag.
    pub tag: Tag,
    /// Offset of the tag's first byte in the whole input.
    pub offset: usize,
    /// Offset of the value's first byte in the whole input.
    pub value_offset: usize,
    /// The value; for a template, its whole content.
    pub value: &'a [u8],
    /// The objects inside a template whose content is BER-TLV; `None` for a primitive tag and
    /// for a template kept raw.
    pub children: Option<Vec<Tlv<'a>>>,
    /// For a template kept raw: why its content is not BER-TLV (inner path and offset).
    pub raw_reason: Option<Error>,
}

impl Tlv<'_> {
    /// Whether this is a template whose content did not parse and is kept as raw bytes.
    pub fn is_raw_template(&self) -> bool {
        self.tag.is_constructed() && self.children.is_none()
    }
}

impl fmt::Debug for Tlv<'_> {
    /// Shows values only for primitive tags the dictionary does not mark sensitive, so that a
    /// `{:?}` in a log cannot print a card number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Tlv");
        s.field("tag", &self.tag)
            .field("offset", &self.offset)
            .field("len", &self.value.len());
        match &self.children {
            Some(children) => {
                s.field("children", children);
            }
            None if self.tag.is_constructed() => {
                s.field("value", &"<raw template, not shown>");
            }
            None if Dictionary::shipped().is_sensitive(self.tag) => {
                s.field("value", &"<masked>");
            }
            None => {
                s.field("value", &HexBytes(self.value));
            }
        }
        s.finish()
    }
}

struct HexBytes<'a>(&'a [u8]);

impl fmt::Debug for HexBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// The enclosing tags of the object being read, as a stack-allocated chain: the decoder
/// builds a [`TagPath`] only when it reports an error, never per object.
#[derive(Clone, Copy)]
struct Parents<'p> {
    tag: Option<Tag>,
    up: Option<&'p Parents<'p>>,
}

impl Parents<'_> {
    const TOP: Parents<'static> = Parents {
        tag: None,
        up: None,
    };

    fn path(&self) -> TagPath {
        let mut tags = Vec::new();
        let mut at = Some(self);
        while let Some(p) = at {
            tags.extend(p.tag);
            at = p.up;
        }
        tags.reverse();
        TagPath::from_tags(tags)
    }
}

/// Decodes a whole BER-TLV buffer (e.g. ISO 8583 field 55) into its top-level objects.
pub fn decode(input: &[u8]) -> Result<Vec<Tlv<'_>>, Error> {
    level(input, 0, &Parents::TOP, 0, false)
}

/// Like [`decode`], but a template whose content is not BER-TLV is an error (with the inner
/// tag path and offset) rather than raw bytes.
pub fn decode_strict(input: &[u8]) -> Result<Vec<Tlv<'_>>, Error> {
    level(input, 0, &Parents::TOP, 0, true)
}

/// Decodes the objects of one level: `input` is the level's bytes, `base` their offset in the
/// whole input.
fn level<'a>(
    input: &'a [u8],
    base: usize,
    path: &Parents<'_>,
    depth: usize,
    strict: bool,
) -> Result<Vec<Tlv<'a>>, Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    // Where the trailing run of 00/FF bytes starts; found once, so a long run stays linear.
    let padding_from = input
        .iter()
        .rposition(|b| !matches!(b, 0x00 | 0xFF))
        .map_or(0, |i| i + 1);
    while let Some(&byte) = input.get(pos) {
        if byte == 0x00 {
            pos += 1;
            continue;
        }
        let rest = input.get(pos..).unwrap_or(&[]);
        // FF bytes followed by nothing but padding are padding, not a tag like `FFFF00`.
        if byte == 0xFF && pos >= padding_from {
            break;
        }
        // Nor is a "tag" made only of FF and 00 bytes (`FFFF00`, `FFFFFF00`): an empty one
        // could not be told from padding once re-encoded (found by the fuzzer, crash-bfe19afd).
        if byte == 0xFF
            && Tag::parse(rest).is_ok_and(|(tag, _)| tag.bytes().all(|b| matches!(b, 0x00 | 0xFF)))
        {
            pos += 1;
            continue;
        }
        match object(rest, base + pos, path, depth, strict) {
            Ok((tlv, used)) => {
                out.push(tlv);
                pos += used;
            }
            // An FF that does not start an object is padding (ISO/IEC 7816-4 allows 00 and FF).
            Err(err) if byte == 0xFF && err.kind != ErrorKind::TooDeep && !strict => pos += 1,
            Err(err) => return Err(err),
        }
    }
    Ok(out)
}

/// Decodes one object at the start of `input`; returns it and the bytes it took.
fn object<'a>(
    input: &'a [u8],
    offset: usize,
    path: &Parents<'_>,
    depth: usize,
    strict: bool,
) -> Result<(Tlv<'a>, usize), Error> {
    let (tag, tag_len) = Tag::parse(input).map_err(|kind| Error::new(path.path(), offset, kind))?;
    let here = Parents {
        tag: Some(tag),
        up: Some(path),
    };
    let after_tag = input.get(tag_len..).unwrap_or(&[]);
    let (len, len_len) =
        length::parse(after_tag).map_err(|kind| Error::new(here.path(), offset + tag_len, kind))?;
    let header = tag_len + len_len;
    let available = input.len().saturating_sub(header);
    let value = input
        .get(header..)
        .and_then(|rest| rest.get(..len))
        .ok_or_else(|| {
            Error::new(
                here.path(),
                offset + tag_len,
                ErrorKind::ValueTruncated {
                    declared: len,
                    available,
                },
            )
        })?;
    let value_offset = offset + header;
    let (children, raw_reason) = if tag.is_constructed() {
        if depth + 1 > DEPTH_MAX {
            return Err(Error::new(here.path(), offset, ErrorKind::TooDeep));
        }
        match level(value, value_offset, &here, depth + 1, strict) {
            Ok(children) => (Some(children), None),
            Err(err) if err.kind == ErrorKind::TooDeep || strict => return Err(err),
            Err(err) => (None, Some(err)), // not BER-TLV inside: keep the content raw
        }
    } else {
        (None, None)
    };
    let tlv = Tlv {
        tag,
        offset,
        value_offset,
        value,
        children,
        raw_reason,
    };
    Ok((tlv, header + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_padding() {
        let data = [
            0x00, 0x70, 0x07, 0x9F, 0x02, 0x01, 0x05, 0x00, 0x5A, 0x00, 0x00, 0xFF, 0xFF,
        ];
        let tlvs = decode(&data).unwrap();
        assert_eq!(tlvs.len(), 1);
        let children = tlvs[0].children.as_ref().unwrap();
        assert_eq!(children.len(), 2);
        assert_eq!(children[0].value, &[0x05]);
        assert_eq!(children[1].value_offset, 10);
    }

    #[test]
    fn long_padding_runs_stay_linear() {
        let mut data = vec![0xFF; 200_000];
        data.extend([0x9F, 0x36, 0x02, 0x00, 0x01]);
        data.extend(vec![0xFF; 200_000]);
        let start = std::time::Instant::now();
        let tlvs = decode(&data).unwrap();
        assert_eq!(tlvs.len(), 1);
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn template_that_is_not_tlv_stays_raw() {
        let data = [0xFF, 0x81, 0x05, 0x03, 0x56, 0xC1, 0x01, 0x82, 0x01, 0x19];
        let tlvs = decode(&data).unwrap();
        assert_eq!(tlvs.len(), 2);
        assert!(tlvs[0].is_raw_template());
        let reason = tlvs[0].raw_reason.as_ref().unwrap();
        assert_eq!(
            reason.to_string(),
            "TLV/FF8105/56: length form 0xC1 announces more than 4 length bytes at byte 5"
        );
        let err = decode_strict(&data).unwrap_err();
        assert_eq!(&err, reason);
        assert_eq!(tlvs[0].value, &[0x56, 0xC1, 0x01]);
    }

    #[test]
    fn errors_name_path_and_offset() {
        let err = decode(&[0x82, 0x01, 0x19, 0x9F, 0x02, 0x06, 0x00]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TLV/9F02: value of 6 bytes but only 1 left at byte 5"
        );
        let err = decode(&[0x9F, 0x02, 0x80]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::LengthIndefinite);
        let mut deep = Vec::new();
        for _ in 0..20 {
            let mut next = vec![0xE0, deep.len() as u8];
            next.extend(deep);
            deep = next;
        }
        let err = decode(&deep).unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooDeep);
        assert!(format!("{:?}", decode(&[0x5A, 0x01, 0x47])).contains("masked"));
    }
}
