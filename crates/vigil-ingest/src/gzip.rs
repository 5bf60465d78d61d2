//! Bounded gzip decompression for request bodies and files: a zip bomb ends
//! in [`Error::TooLarge`], never in an out-of-memory abort.

use std::io::Read;

use flate2::read::MultiGzDecoder;

use crate::{Error, Result};

/// True if `bytes` start with the gzip magic number (`1f 8b`).
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses a gzip body (several concatenated members are allowed),
/// producing at most `max_out` bytes.
///
/// # Errors
///
/// [`Error::TooLarge`] once the output would exceed `max_out`;
/// [`Error::Gzip`] for corrupt or truncated input.
pub fn gunzip_bounded(bytes: &[u8], max_out: usize) -> Result<Vec<u8>> {
    let limit = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(max_out).min(64 << 20));
    MultiGzDecoder::new(bytes)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| Error::Gzip {
            reason: e.to_string(),
        })?;
    if out.len() > max_out {
        return Err(Error::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trip_and_members() {
        let mut two = gz(b"a\n");
        two.extend(gz(b"b\n"));
        assert!(is_gzip(&two));
        assert!(!is_gzip(b"{\"a\":1}"));
        assert!(!is_gzip(b"\x1f"));
        assert_eq!(gunzip_bounded(&two, 4).unwrap(), b"a\nb\n");
    }

    #[test]
    fn bomb_is_an_error() {
        let bomb = gz(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 64 << 10);
        assert!(matches!(
            gunzip_bounded(&bomb, 1 << 20),
            Err(Error::TooLarge)
        ));
        assert_eq!(gunzip_bounded(&bomb, 10 << 20).unwrap().len(), 10 << 20);
    }

    #[test]
    fn corrupt_is_an_error() {
        let mut g = gz(b"hello world, hello world");
        g.truncate(g.len() - 6);
        assert!(matches!(
            gunzip_bounded(&g, 1 << 20),
            Err(Error::Gzip { .. })
        ));
        assert!(matches!(
            gunzip_bounded(b"\x1f\x8bnot gzip", 100),
            Err(Error::Gzip { .. })
        ));
    }
}
