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

#[cfg(test)]
mod tests;
