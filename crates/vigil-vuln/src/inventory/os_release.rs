//! `/etc/os-release` (freedesktop `os-release(5)`): shell-style `KEY=value`
//! lines with optional quotes.

use serde::{Deserialize, Serialize};

/// The fields of os-release that inventory needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`debian`, `ubuntu`, `alpine`, `rhel`).
    pub id: String,
    /// `ID_LIKE`, split at blanks.
    pub id_like: Vec<String>,
    /// `VERSION_ID` (`12`, `22.04`, `3.18.4`).
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`.
    pub version_codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        let inner = &v[1..v.len() - 1];
        if v.starts_with('\'') {
            return inner.to_owned();
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    v.to_owned()
}

impl OsRelease {
    /// Parses os-release text; unknown keys and malformed lines are ignored,
    /// as the format asks. `ID` defaults to `linux`.
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease {
            id: "linux".into(),
            ..OsRelease::default()
        };
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = unquote(v);
            match k.trim() {
                "ID" => os.id = v.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = v.split_whitespace().map(str::to_ascii_lowercase).collect()
                }
                "VERSION_ID" => os.version_id = Some(v),
                "VERSION_CODENAME" => os.version_codename = Some(v),
                "PRETTY_NAME" => os.pretty_name = Some(v),
                _ => {}
            }
        }
        os
    }

    /// The purl `distro` qualifier: `debian-12`, `ubuntu-22.04`,
    /// `alpine-3.18.4`.
    pub fn distro(&self) -> Option<String> {
        self.version_id.as_ref().map(|v| format!("{}-{v}", self.id))
    }
}
