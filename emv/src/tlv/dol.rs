//! Data Object Lists (EMV Book 3, 5.4): a tag and a length per entry, no values. Cards send
//! them in `9F38` (PDOL), `8C` (CDOL1), `8D` (CDOL2), `9F49` (DDOL) and `97` (TDOL) to say
//! which terminal data they want, in which order and at which length.

use super::{Error, Tag, TagPath, length};

/// One entry of a Data Object List.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DolEntry {
    /// The data object asked for.
    pub tag: Tag,
    /// The length the card expects for it.
    pub len: usize,
    /// Offset of the entry in the DOL's bytes.
    pub offset: usize,
}

/// The tags whose value is a Data Object List.
pub const DOL_TAGS: [u32; 5] = [0x9F38, 0x8C, 0x8D, 0x9F49, 0x97];

/// Whether `tag`'s value is a Data Object List.
pub fn is_dol(tag: Tag) -> bool {
    DOL_TAGS.contains(&tag.number())
}

/// Reads a Data Object List; errors name `path` (the DOL's own tag path) and the offset
/// inside the list.
pub fn parse(dol: &[u8], path: &TagPath) -> Result<Vec<DolEntry>, Error> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < dol.len() {
        let rest = dol.get(pos..).unwrap_or(&[]);
        let (tag, tag_len) =
            Tag::parse(rest).map_err(|kind| Error::new(path.clone(), pos, kind))?;
        let (len, len_len) = length::parse(rest.get(tag_len..).unwrap_or(&[]))
            .map_err(|kind| Error::new(path.child(tag), pos + tag_len, kind))?;
        out.push(DolEntry {
            tag,
            len,
            offset: pos,
        });
        pos += tag_len + len_len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdol() {
        let pdol = [
            0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x5F, 0x2A, 0x02, 0x9A, 0x03,
        ];
        let entries = parse(&pdol, &TagPath::root()).unwrap();
        let got: Vec<(String, usize)> =
            entries.iter().map(|e| (e.tag.to_string(), e.len)).collect();
        assert_eq!(
            got,
            [
                ("9F66".into(), 4),
                ("9F02".into(), 6),
                ("5F2A".into(), 2),
                ("9A".into(), 3)
            ]
        );
        assert!(parse(&[0x9F, 0x66], &TagPath::root()).is_err());
        assert!(parse(&[0x9F], &TagPath::root()).is_err());
    }
}
