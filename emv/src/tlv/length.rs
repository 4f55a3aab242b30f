//! BER lengths: the short form (one byte, 0 to 127) and the long forms 0x81 to 0x84 (one to
//! four length bytes follow). The indefinite form 0x80 is refused, as EMV Book 3 Annex B2 does.

use super::ErrorKind;

/// The most length bytes a long form may announce.
pub const LENGTH_BYTES_MAX: usize = 4;

/// Reads a length at the start of `input`; returns it and the bytes it took.
pub fn parse(input: &[u8]) -> Result<(usize, usize), ErrorKind> {
    let Some(&first) = input.first() else {
        return Err(ErrorKind::LengthTruncated);
    };
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    if first == 0x80 {
        return Err(ErrorKind::LengthIndefinite);
    }
    let count = usize::from(first & 0x7F);
    if count > LENGTH_BYTES_MAX {
        return Err(ErrorKind::LengthTooLong(first));
    }
    let bytes = input.get(1..1 + count).ok_or(ErrorKind::LengthTruncated)?;
    let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let value = usize::try_from(value).map_err(|_| ErrorKind::LengthTooLong(first))?;
    Ok((value, 1 + count))
}

/// Appends the shortest encoding of `len` (short form below 128, else the fewest long-form
/// bytes).
pub fn encode_into(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_forms() {
        assert_eq!(parse(&[0x05]), Ok((5, 1)));
        assert_eq!(parse(&[0x81, 0xAC]), Ok((172, 2)));
        assert_eq!(parse(&[0x82, 0x01, 0x00]), Ok((256, 3)));
        assert_eq!(parse(&[0x84, 0, 0, 1, 0]), Ok((256, 5)));
        assert_eq!(parse(&[0x80]), Err(ErrorKind::LengthIndefinite));
        assert_eq!(
            parse(&[0x85, 1, 2, 3, 4, 5]),
            Err(ErrorKind::LengthTooLong(0x85))
        );
        assert_eq!(parse(&[0x82, 0x01]), Err(ErrorKind::LengthTruncated));
        assert_eq!(parse(&[]), Err(ErrorKind::LengthTruncated));
        for len in [0, 127, 128, 255, 256, 65_535, 65_536, 16_777_216] {
            let mut out = Vec::new();
            encode_into(len, &mut out);
            assert_eq!(parse(&out), Ok((len, out.len())), "{len}");
        }
    }
}
