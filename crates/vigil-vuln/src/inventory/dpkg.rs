//! The dpkg status database (`/var/lib/dpkg/status`): installed packages
//! (`Status: install ok installed`) as `pkg:deb` purls.

use super::{Inventory, OsRelease};
use crate::component::{Component, release_from_distro};
use crate::ecosystem::Ecosystem;
use crate::error::{Error, Result};
use crate::purl::Purl;

#[derive(Default)]
struct Para {
    line: usize,
    package: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    status: Option<String>,
    source: Option<String>,
}

/// Parses a dpkg status file. The purl namespace is `ubuntu` on Ubuntu and
/// `debian` otherwise; `distro` is `ID-VERSION_ID` from os-release.
pub fn parse_dpkg_status(text: &str, os: Option<&OsRelease>) -> Result<Inventory> {
    Error::check_size("dpkg status", text.len(), super::MAX_INVENTORY_BYTES)?;
    let ns = match os.map(|o| o.id.as_str()) {
        Some("ubuntu") => "ubuntu",
        _ => "debian",
    };
    let eco = if ns == "ubuntu" {
        Ecosystem::Ubuntu
    } else {
        Ecosystem::Debian
    };
    let distro = os.and_then(OsRelease::distro);
    let mut inv = Inventory::default();
    let mut cur = Para::default();
    for (i, line) in text.lines().chain(std::iter::once("")).enumerate() {
        if line.trim().is_empty() {
            let p = std::mem::take(&mut cur);
            if p.package.is_some() || p.version.is_some() {
                finish(&mut inv, p, ns, eco, distro.as_deref());
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue; // continuation of a multi-line field (Description, Conffiles)
        }
        if cur.package.is_none() && cur.version.is_none() && cur.status.is_none() {
            cur.line = i + 1;
        }
        let Some((k, v)) = line.split_once(':') else {
            inv.problems
                .push(format!("line {}: expected 'Field: value'", i + 1));
            continue;
        };
        let v = v.trim().to_owned();
        match k {
            "Package" => cur.package = Some(v),
            "Version" => cur.version = Some(v),
            "Architecture" => cur.arch = Some(v),
            "Status" => cur.status = Some(v),
            "Source" => {
                cur.source = Some(v.split_whitespace().next().unwrap_or_default().to_owned())
            }
            _ => {}
        }
    }
    Ok(inv)
}

fn finish(inv: &mut Inventory, p: Para, ns: &str, eco: Ecosystem, distro: Option<&str>) {
    if p.status
        .as_deref()
        .is_none_or(|s| s.split_whitespace().last() != Some("installed"))
    {
        return;
    }
    let (Some(name), Some(version)) = (p.package, p.version) else {
        inv.problems.push(format!(
            "line {}: package without Package or Version",
            p.line
        ));
        return;
    };
    let mut purl = match Purl::new("deb", Some(ns), &name, Some(&version)) {
        Ok(u) => u,
        Err(e) => {
            inv.problems.push(format!("line {}: {e}", p.line));
            return;
        }
    };
    if let Some(a) = &p.arch {
        purl = purl.with_qualifier("arch", a);
    }
    if let Some(d) = distro {
        purl = purl.with_qualifier("distro", d);
    }
    inv.components.push(Component {
        name,
        version: Some(version),
        purl: Some(purl),
        ecosystem: Some(eco),
        distro_release: distro.and_then(|d| release_from_distro(eco, d)),
        source_name: p.source,
        bom_ref: None,
    });
}
