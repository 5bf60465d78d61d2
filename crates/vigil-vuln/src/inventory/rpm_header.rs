//! RPM header blobs (as the rpmdb stores them, e.g. in `rpmdb.sqlite`'s
//! `Packages.blob`, or after the 8-byte magic in a package file): index
//! entries and data store, read with bounds checks, to name, epoch, version,
//! release and architecture. Reading the database file is the caller's job.

use serde::{Deserialize, Serialize};

use super::OsRelease;
use crate::component::Component;
use crate::ecosystem::Ecosystem;
use crate::error::{Error, Result};
use crate::purl::Purl;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_I18NSTRING: u32 = 9;

/// Most index entries accepted (rpm's own limit is 0xffff).
const MAX_ENTRIES: usize = 0xffff;
/// Largest data store accepted (rpm's own limit is 256 MiB).
const MAX_DATA: usize = 256 << 20;

/// The package identity in one RPM header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpmHeader {
    /// `NAME`.
    pub name: String,
    /// `EPOCH`, if set.
    pub epoch: Option<u32>,
    /// `VERSION`.
    pub version: String,
    /// `RELEASE`.
    pub release: String,
    /// `ARCH` (absent for gpg-pubkey pseudo-packages).
    pub arch: Option<String>,
    /// `SOURCERPM`, if set.
    pub source_rpm: Option<String>,
}

impl RpmHeader {
    /// `[epoch:]version-release`.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) => format!("{e}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }
}

impl RpmHeader {
    /// The installed package as a component: the purl is
    /// `pkg:rpm/<vendor>/NAME@VERSION-RELEASE` with `arch`, `epoch` (when
    /// set) and `distro` (`ID-VERSION_ID` from os-release) qualifiers, as
    /// the purl spec puts it; the vendor namespace comes from the
    /// os-release `ID`. The component's version is the full
    /// `[EPOCH:]VERSION-RELEASE` that RPM ordering compares.
    pub fn component(&self, os: Option<&OsRelease>) -> Result<Component> {
        let id = os.map_or("rpm", |o| o.id.as_str());
        let (ns, eco) = match id {
            "rhel" | "redhat" => ("redhat", Some(Ecosystem::RedHat)),
            "rocky" => ("rocky", Some(Ecosystem::RockyLinux)),
            "almalinux" => ("almalinux", Some(Ecosystem::AlmaLinux)),
            "sles" | "sled" | "suse" => ("suse", Some(Ecosystem::Suse)),
            "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" => {
                ("opensuse", Some(Ecosystem::OpenSuse))
            }
            "mageia" => ("mageia", Some(Ecosystem::Mageia)),
            "photon" => ("photon", Some(Ecosystem::PhotonOs)),
            "openeuler" => ("openeuler", Some(Ecosystem::OpenEuler)),
            other => (other, None),
        };
        let evr = self.evr();
        let vr = format!("{}-{}", self.version, self.release);
        let mut purl = Purl::new("rpm", Some(ns), &self.name, Some(&vr))?;
        if let Some(a) = &self.arch {
            purl = purl.with_qualifier("arch", a);
        }
        if let Some(e) = self.epoch {
            purl = purl.with_qualifier("epoch", &e.to_string());
        }
        let distro = os.and_then(OsRelease::distro);
        if let Some(d) = &distro {
            purl = purl.with_qualifier("distro", d);
        }
        let source_name = self.source_rpm.as_deref().and_then(|s| {
            // name-version-release.src.rpm: drop the last two dash-separated parts
            let base = s.strip_suffix(".src.rpm").unwrap_or(s);
            let mut parts = base.rsplitn(3, '-');
            let (_rel, _ver) = (parts.next(), parts.next());
            parts.next().map(str::to_owned)
        });
        Ok(Component {
            name: self.name.clone(),
            version: Some(evr),
            purl: Some(purl),
            ecosystem: eco,
            distro_release: os.and_then(|o| o.version_id.clone()),
            source_name,
            bom_ref: None,
        })
    }
}

fn be32(b: &[u8], at: usize) -> Result<u32> {
    let s = b
        .get(at..at + 4)
        .ok_or_else(|| Error::parse("rpm-header", format!("byte {at}"), "truncated"))?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses one header blob.
pub fn parse_rpm_header(blob: &[u8]) -> Result<RpmHeader> {
    let err = |at: usize, m: &str| Error::parse("rpm-header", format!("byte {at}"), m);
    let b = if blob.starts_with(&[0x8e, 0xad, 0xe8, 0x01]) {
        blob.get(8..).unwrap_or_default()
    } else {
        blob
    };
    let il = be32(b, 0)? as usize;
    let dl = be32(b, 4)? as usize;
    if il == 0 || il > MAX_ENTRIES {
        return Err(err(0, "bad index entry count"));
    }
    if dl > MAX_DATA {
        return Err(err(4, "data store too large"));
    }
    let data_start = 8 + il * 16;
    let data = b
        .get(data_start..data_start + dl)
        .ok_or_else(|| err(data_start, "truncated data store"))?;
    let string_at = |off: usize| -> Result<String> {
        let tail = data
            .get(off..)
            .ok_or_else(|| err(data_start + off, "string offset out of range"))?;
        let end = tail
            .iter()
            .position(|&c| c == 0)
            .ok_or_else(|| err(data_start + off, "unterminated string"))?;
        Ok(String::from_utf8_lossy(&tail[..end]).into_owned())
    };
    let (mut name, mut version, mut release, mut arch, mut epoch, mut source) =
        (None, None, None, None, None, None);
    for i in 0..il {
        let at = 8 + i * 16;
        let tag = be32(b, at)?;
        let ty = be32(b, at + 4)?;
        let off = usize::try_from(be32(b, at + 8)?).map_err(|_| err(at, "bad offset"))?;
        let count = be32(b, at + 12)?;
        let is_str = ty == TYPE_STRING || ty == TYPE_I18NSTRING;
        match tag {
            TAG_NAME | TAG_VERSION | TAG_RELEASE | TAG_ARCH | TAG_SOURCERPM => {
                if !is_str {
                    return Err(err(at, "expected a string tag"));
                }
                let s = string_at(off)?;
                match tag {
                    TAG_NAME => name = Some(s),
                    TAG_VERSION => version = Some(s),
                    TAG_RELEASE => release = Some(s),
                    TAG_ARCH => arch = Some(s),
                    _ => source = Some(s),
                }
            }
            TAG_EPOCH => {
                if ty != TYPE_INT32 || count < 1 {
                    return Err(err(at, "expected an INT32 epoch"));
                }
                let v = data
                    .get(off..off + 4)
                    .ok_or_else(|| err(data_start + off, "epoch out of range"))?;
                epoch = Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]));
            }
            _ => {}
        }
    }
    match (name, version, release) {
        (Some(name), Some(version), Some(release)) => Ok(RpmHeader {
            name,
            epoch,
            version,
            release,
            arch,
            source_rpm: source,
        }),
        _ => Err(err(0, "header lacks NAME, VERSION or RELEASE")),
    }
}
