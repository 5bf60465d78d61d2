//! Test helpers: the real-data directory and a recursive file walk.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `$VIGIL_TESTDATA`, or `None` after printing the skip notice.
pub fn testdata() -> Option<PathBuf> {
    match std::env::var_os("VIGIL_TESTDATA") {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            println!("skipped: VIGIL_TESTDATA not set");
            None
        }
    }
}

/// Every file under `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
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
