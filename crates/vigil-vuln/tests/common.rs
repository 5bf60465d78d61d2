//! Shared helpers for the integration tests: the real-data root and
//! loading OSV records from it.
#![allow(clippy::unwrap_used)] // tests may unwrap
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub use vigil_testkit::testdata;
use vigil_vuln::osv::{OsvRecord, parse_json, parse_yaml};

/// Every file under `dir`, sorted.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// All OSV records under `root/osv/{Go,PyPI}`, and the files that failed.
pub fn load_osv(root: &Path) -> (Vec<OsvRecord>, Vec<String>) {
    let mut records = Vec::new();
    let mut failures = Vec::new();
    for eco in ["Go", "PyPI"] {
        for p in walk(&root.join("osv").join(eco)) {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "json" | "yaml" | "yml") {
                continue;
            }
            let text = match std::fs::read_to_string(&p) {
                Ok(t) => t,
                Err(e) => {
                    failures.push(format!("{}: {e}", p.display()));
                    continue;
                }
            };
            let parsed = if ext == "json" {
                parse_json(&text)
            } else {
                parse_yaml(&text).map(|r| vec![r])
            };
            match parsed {
                Ok(rs) => records.extend(rs),
                Err(e) => failures.push(format!("{}: {e}", p.display())),
            }
        }
    }
    (records, failures)
}
