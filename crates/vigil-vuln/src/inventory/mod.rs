//! Host inventory and lock-file parsers: pure functions over file contents
//! (the CLI reads the files) producing [`Component`]s with purls.

mod apk;
mod dpkg;
mod lockfiles;
mod os_release;
mod rpm_header;

use serde::{Deserialize, Serialize};

use crate::component::Component;

pub use apk::parse_apk_installed;
pub use dpkg::parse_dpkg_status;
pub use lockfiles::{
    parse_cargo_lock, parse_go_sum, parse_package_lock, parse_poetry_lock, parse_requirements,
};
pub use os_release::OsRelease;
pub use rpm_header::{RpmHeader, parse_rpm_header};

/// Largest inventory file accepted (bytes).
pub const MAX_INVENTORY_BYTES: usize = 256 << 20;

/// Components found in one file, and the entries that were skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// Components, in file order.
    pub components: Vec<Component>,
    /// Skipped entries with their location (`line 12: ...`).
    pub problems: Vec<String>,
}

/// Parses a language lock file chosen by its file name (`Cargo.lock`,
/// `package-lock.json`, `npm-shrinkwrap.json`, `requirements*.txt`,
/// `poetry.lock`, `go.sum`); `None` for other names.
pub fn parse_lockfile(file_name: &str, text: &str) -> Option<crate::error::Result<Inventory>> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    Some(match base {
        "Cargo.lock" => parse_cargo_lock(text),
        "package-lock.json" | "npm-shrinkwrap.json" => parse_package_lock(text),
        "poetry.lock" => parse_poetry_lock(text),
        "go.sum" => parse_go_sum(text),
        b if b.starts_with("requirements") && b.ends_with(".txt") => parse_requirements(text),
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
