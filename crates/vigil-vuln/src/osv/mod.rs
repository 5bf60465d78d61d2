//! OSV: record types and parsers, range evaluation, alias merging and the
//! matching database.

mod alias;
mod archive;
mod database;
mod range;
mod record;

pub use archive::parse_zip;
pub use database::{Finding, OsvDatabase, Problem, Stats};
#[cfg(feature = "yaml")]
pub use record::parse_yaml;
pub use record::{
    Affected, Event, MAX_RECORD_BYTES, OsvRecord, OsvSeverity, Package, Range, RangeType,
    Reference, parse_file, parse_json,
};

#[cfg(test)]
mod tests;
