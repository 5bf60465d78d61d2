//! The operational side of threat intel in the binary: sightings counted
//! from the change feed (`vigil serve`), `vigil intel lookup`, `vigil intel
//! match` (retro-matching log files), `vigil intel export` and the manual
//! blocklist entries (`vigil intel blocklist …`).

pub mod blocklist;
pub mod export;
pub mod feed_dir;
pub mod lookup;
pub mod retro;
pub mod sightings;
