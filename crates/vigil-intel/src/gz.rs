//! Transparent, bounded gzip: every import takes bytes and calls
//! [`decode_input`] first.

use std::borrow::Cow;
use std::io::Read;

use crate::{Error, Result};

/// Default bound on decompressed input: 256 MiB.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 256 << 20;

/// The bytes themselves, or their gzip decompression when they start with
/// the gzip magic `1f 8b`. Fails with [`Error::TooLarge`] past `limit` bytes
/// (input or output), so a gzip bomb costs at most `limit` bytes of memory.
pub fn decode_input(bytes: &[u8], limit: usize) -> Result<Cow<'_, [u8]>> {
    if bytes.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(limit));
    let dec = flate2::read::MultiGzDecoder::new(bytes);
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    dec.take(cap)
        .read_to_end(&mut out)
        .map_err(|e| Error::Gzip(e.to_string()))?;
    if out.len() > limit {
        return Err(Error::TooLarge { limit });
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_and_gzip() {
        assert_eq!(&*decode_input(b"{}", 10).unwrap(), b"{}");
        assert_eq!(
            &*decode_input(&gz(b"{\"a\":1}"), 100).unwrap(),
            b"{\"a\":1}"
        );
    }

    #[test]
    fn bomb_is_bounded() {
        let big = gz(&vec![b'a'; 100_000]);
        assert!(matches!(
            decode_input(&big, 1000),
            Err(Error::TooLarge { limit: 1000 })
        ));
        assert!(matches!(
            decode_input(&[0x1f, 0x8b, 1, 2], 1000),
            Err(Error::Gzip(_))
        ));
    }
}
