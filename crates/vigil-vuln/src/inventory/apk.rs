//! The apk installed database (`/lib/apk/db/installed`): `P:` name, `V:`
//! version, `A:` architecture, `o:` origin, as `pkg:apk` purls.

use super::{Inventory, OsRelease};
use crate::component::{Component, release_from_distro};
use crate::ecosystem::Ecosystem;
use crate::error::{Error, Result};
use crate::purl::Purl;

/// Parses an apk installed database; `distro` comes from os-release.
pub fn parse_apk_installed(text: &str, os: Option<&OsRelease>) -> Result<Inventory> {
    Error::check_size("apk installed db", text.len(), super::MAX_INVENTORY_BYTES)?;
    let (ns, eco) = match os.map(|o| o.id.as_str()) {
        Some("wolfi") => ("wolfi", Ecosystem::Wolfi),
        Some("chainguard") => ("chainguard", Ecosystem::Chainguard),
        _ => ("alpine", Ecosystem::Alpine),
    };
    let distro = os.and_then(OsRelease::distro);
    let mut inv = Inventory::default();
    let (mut name, mut version, mut arch, mut origin): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = (None, None, None, None);
    let mut start = 1;
    for (i, line) in text.lines().chain(std::iter::once("")).enumerate() {
        if line.trim().is_empty() {
            if let (Some(n), Some(v)) = (name.take(), version.take()) {
                match Purl::new("apk", Some(ns), &n, Some(&v)) {
                    Ok(mut p) => {
                        if let Some(a) = arch.as_deref() {
                            p = p.with_qualifier("arch", a);
                        }
                        if let Some(d) = distro.as_deref() {
                            p = p.with_qualifier("distro", d);
                        }
                        inv.components.push(Component {
                            name: n,
                            version: Some(v),
                            purl: Some(p),
                            ecosystem: Some(eco),
                            distro_release: distro
                                .as_deref()
                                .and_then(|d| release_from_distro(eco, d)),
                            source_name: origin.take(),
                            bom_ref: None,
                        });
                    }
                    Err(e) => inv.problems.push(format!("line {start}: {e}")),
                }
            } else if name.is_some() {
                inv.problems
                    .push(format!("line {start}: package without V:"));
            }
            (name, version, arch, origin) = (None, None, None, None);
            start = i + 2;
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            inv.problems
                .push(format!("line {}: expected 'X:value'", i + 1));
            continue;
        };
        match k {
            "P" => name = Some(v.to_owned()),
            "V" => version = Some(v.to_owned()),
            "A" => arch = Some(v.to_owned()),
            "o" => origin = Some(v.to_owned()),
            _ => {}
        }
    }
    Ok(inv)
}
