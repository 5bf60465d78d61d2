//! The dpkg status database of the machine running the tests, against
//! `dpkg-query` (skipped where there is no dpkg).
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::BTreeSet;
use std::process::Command;

use vigil_vuln::inventory::{OsRelease, parse_dpkg_status};

#[test]
fn dpkg_status_matches_dpkg_query() {
    let Ok(status) = std::fs::read_to_string("/var/lib/dpkg/status") else {
        println!("skipped: no /var/lib/dpkg/status");
        return;
    };
    let Ok(out) = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n",
        ])
        .output()
    else {
        println!("skipped: no dpkg-query");
        return;
    };
    let os = std::fs::read_to_string("/etc/os-release")
        .map(|t| OsRelease::parse(&t))
        .ok();
    let want: BTreeSet<(String, String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 4 && f[0].starts_with("ii"))
                .then(|| (f[1].to_owned(), f[2].to_owned(), f[3].to_owned()))
        })
        .collect();
    let inv = parse_dpkg_status(&status, os.as_ref()).unwrap();
    let got: BTreeSet<(String, String, String)> = inv
        .components
        .iter()
        .map(|c| {
            let p = c.purl.as_ref().unwrap();
            (
                c.name.clone(),
                c.version.clone().unwrap(),
                p.qualifier("arch").unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(inv.problems.is_empty(), "{:?}", inv.problems);
    assert_eq!(got, want);
    if let Some(os) = &os
        && let Some(d) = os.distro()
    {
        let ns = if os.id == "ubuntu" {
            "ubuntu"
        } else {
            "debian"
        };
        for c in &inv.components {
            let p = c.purl.as_ref().unwrap().to_string();
            assert!(
                p.starts_with(&format!("pkg:deb/{ns}/")) && p.ends_with(&format!("&distro={d}")),
                "{p}"
            );
        }
    }
    println!("dpkg: {} installed packages match dpkg-query", got.len());
}
