//! OSV's per-ecosystem zip archives (`<Ecosystem>/all.zip`) read from bytes:
//! the central directory (ZIP64 included), stored and deflated entries,
//! each inflated under [`MAX_RECORD_BYTES`]. Bad entries are reported and
//! skipped; the archive's other records are kept.

use std::io::Read;

use super::database::Problem;
use super::record::{MAX_RECORD_BYTES, OsvRecord, parse_json};
use crate::error::{Error, Result};

const EOCD: u32 = 0x0605_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

fn err(at: usize, m: &str) -> Error {
    Error::parse("osv-zip", format!("byte {at}"), m)
}

fn le16(b: &[u8], at: usize) -> Result<u64> {
    let s = at
        .checked_add(2)
        .and_then(|end| b.get(at..end))
        .ok_or_else(|| err(at, "truncated"))?;
    Ok(u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> Result<u64> {
    let s = at
        .checked_add(4)
        .and_then(|end| b.get(at..end))
        .ok_or_else(|| err(at, "truncated"))?;
    Ok(u64::from(u32::from_le_bytes([s[0], s[1], s[2], s[3]])))
}

fn le64(b: &[u8], at: usize) -> Result<u64> {
    let s = at
        .checked_add(8)
        .and_then(|end| b.get(at..end))
        .ok_or_else(|| err(at, "truncated"))?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn idx(v: u64, at: usize) -> Result<usize> {
    usize::try_from(v).map_err(|_| err(at, "offset does not fit in memory"))
}

/// One central-directory entry.
struct Entry {
    name: String,
    method: u64,
    compressed: usize,
    size: u64,
    local: usize,
}

fn central_directory(b: &[u8]) -> Result<Vec<Entry>> {
    let tail = b.len().saturating_sub(22 + 0xffff);
    let eocd = (tail..b.len().saturating_sub(21))
        .rev()
        .find(|&i| le32(b, i).ok() == Some(u64::from(EOCD)))
        .ok_or_else(|| err(b.len(), "no end of central directory: not a zip archive"))?;
    let mut count = le16(b, eocd + 10)?;
    let mut cd = le32(b, eocd + 16)?;
    if (count == 0xffff || cd == 0xffff_ffff)
        && eocd >= 20
        && le32(b, eocd - 20)? == u64::from(ZIP64_LOCATOR)
    {
        let z = idx(le64(b, eocd - 20 + 8)?, eocd - 12)?;
        if le32(b, z)? != u64::from(ZIP64_EOCD) {
            return Err(err(z, "bad ZIP64 end of central directory"));
        }
        count = le64(b, z + 32)?;
        cd = le64(b, z + 48)?;
    }
    let mut at = idx(cd, eocd + 16)?;
    let mut out = Vec::new();
    for _ in 0..count {
        if le32(b, at)? != u64::from(CENTRAL) {
            return Err(err(at, "bad central directory entry"));
        }
        let method = le16(b, at + 10)?;
        let mut compressed = le32(b, at + 20)?;
        let mut size = le32(b, at + 24)?;
        let (n, e, c) = (
            idx(le16(b, at + 28)?, at)?,
            idx(le16(b, at + 30)?, at)?,
            idx(le16(b, at + 32)?, at)?,
        );
        let mut local = le32(b, at + 42)?;
        let name_bytes = b
            .get(at + 46..at + 46 + n)
            .ok_or_else(|| err(at, "truncated name"))?; // `at` is in bounds here
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        // ZIP64 extra field: the 0xffffffff fields, in order
        let mut x = at + 46 + n;
        let extra_end = x + e;
        while x + 4 <= extra_end {
            let (id, len) = (le16(b, x)?, idx(le16(b, x + 2)?, x)?);
            if id == 1 {
                let mut p = x + 4;
                for field in [&mut size, &mut compressed, &mut local] {
                    if *field == 0xffff_ffff && p + 8 <= x + 4 + len {
                        *field = le64(b, p)?;
                        p += 8;
                    }
                }
            }
            x += 4 + len;
        }
        out.push(Entry {
            name,
            method,
            compressed: idx(compressed, at)?,
            size,
            local: idx(local, at)?,
        });
        at = extra_end + c;
    }
    Ok(out)
}

fn entry_text(b: &[u8], e: &Entry) -> Result<String> {
    if le32(b, e.local)? != u64::from(LOCAL) {
        return Err(err(e.local, "bad local header"));
    }
    let start = e.local
        + 30
        + idx(le16(b, e.local + 26)?, e.local)?
        + idx(le16(b, e.local + 28)?, e.local)?;
    let data = start
        .checked_add(e.compressed)
        .and_then(|end| b.get(start..end))
        .ok_or_else(|| err(start, "truncated entry data"))?;
    let limit = MAX_RECORD_BYTES as u64;
    if e.size > limit {
        return Err(Error::TooLarge {
            what: "OSV zip entry",
            size: e.size as usize,
            limit: MAX_RECORD_BYTES,
        });
    }
    let mut out = Vec::new();
    match e.method {
        0 => out.extend_from_slice(data),
        8 => {
            flate2::read::DeflateDecoder::new(data)
                .take(limit + 1)
                .read_to_end(&mut out)
                .map_err(|x| err(start, &format!("inflate: {x}")))?;
        }
        m => return Err(err(e.local, &format!("unsupported compression method {m}"))),
    }
    Error::check_size("OSV zip entry", out.len(), MAX_RECORD_BYTES)?;
    String::from_utf8(out).map_err(|_| err(start, "entry is not UTF-8"))
}

/// Reads every `.json` record of an OSV zip archive. The archive's
/// structure must be sound (else `Err`); records that fail are reported as
/// problems with their entry name.
pub fn parse_zip(bytes: &[u8]) -> Result<(Vec<OsvRecord>, Vec<Problem>)> {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for e in central_directory(bytes)? {
        if !e.name.ends_with(".json") {
            continue;
        }
        match entry_text(bytes, &e).and_then(|t| parse_json(&t)) {
            Ok(rs) => records.extend(rs),
            Err(x) => problems.push(Problem {
                record_id: e.name.clone(),
                reason: x.to_string(),
            }),
        }
    }
    Ok((records, problems))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// Builds a zip with the given (name, content, deflate?) entries.
    fn zip(entries: &[(&str, &str, bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, content, deflate) in entries {
            let data = if *deflate {
                let mut enc =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                enc.write_all(content.as_bytes()).unwrap();
                enc.finish().unwrap()
            } else {
                content.as_bytes().to_vec()
            };
            let method: u16 = if *deflate { 8 } else { 0 };
            let offset = out.len() as u32;
            out.extend_from_slice(&LOCAL.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0]);
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 8]); // time, date, crc (unchecked)
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(content.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&data);
            central.extend_from_slice(&CENTRAL.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0]);
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 8]);
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(content.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]); // extra, comment, disk, int attr, ext attr
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&EOCD.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }

    #[test]
    fn reads_records_and_reports_bad_ones() {
        let z = zip(&[
            (
                "A-1.json",
                r#"{"id": "A-1", "modified": "2024-01-01T00:00:00Z"}"#,
                true,
            ),
            ("A-2.json", r#"{"id": "A-2"}"#, false),
            ("bad.json", "{", true),
            ("README", "not a record", false),
        ]);
        let (records, problems) = parse_zip(&z).unwrap();
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["A-1", "A-2"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].record_id, "bad.json");
        // truncations are errors or problems, never panics
        for n in 0..z.len() {
            let _ = parse_zip(&z[..n]);
        }
        assert!(parse_zip(b"not a zip").is_err());
    }
}
