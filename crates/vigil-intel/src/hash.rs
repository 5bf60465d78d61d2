//! The 64-bit string hash used as the key of domain, URL and string
//! indicators in the match index: FxHash-style, over ASCII-lower-cased bytes,
//! so event values need no lower-cased copy on the hot path.

const K: u64 = 0x517c_c1b7_2722_0a95;

/// Hash of `bytes` with ASCII letters lower-cased, seeded by `seed` (the
/// indicator kind, so equal strings of different kinds differ).
#[inline]
pub(crate) fn hash_lower(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed.wrapping_mul(K) ^ (bytes.len() as u64);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let v = lower8(u64::from_le_bytes(w));
        h = (h.rotate_left(5) ^ v).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        let v = lower8(u64::from_le_bytes(w));
        h = (h.rotate_left(5) ^ v).wrapping_mul(K);
    }
    // final avalanche (splitmix64 finaliser)
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Lower-cases the ASCII letters `A`–`Z` in eight bytes at once.
#[inline]
fn lower8(v: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // per byte: is it in 'A'..='Z' (and < 0x80)?
    let heptets = v & !HIGH;
    let ge_a = heptets.wrapping_add((0x80 - b'A' as u64) * ONES);
    let gt_z = heptets.wrapping_add((0x80 - b'Z' as u64 - 1) * ONES);
    let is_upper = ge_a & !gt_z & !v & HIGH;
    v | (is_upper >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive() {
        assert_eq!(hash_lower(1, b"Evil.COM"), hash_lower(1, b"evil.com"));
        assert_eq!(
            hash_lower(1, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{"),
            hash_lower(1, b"abcdefghijklmnopqrstuvwxyz@[`{")
        );
        assert_ne!(hash_lower(1, b"evil.com"), hash_lower(2, b"evil.com"));
        assert_ne!(hash_lower(1, b"a"), hash_lower(1, b"a\0"));
        // non-ASCII bytes untouched
        assert_ne!(hash_lower(1, "Ä".as_bytes()), hash_lower(1, "ä".as_bytes()));
    }
}
