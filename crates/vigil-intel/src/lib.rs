//! Threat intelligence for Vigil, without I/O: the indicator model and its
//! normalisation, STIX 2.0/2.1 bundles as a knowledge graph, the STIX
//! patterning language, MISP events and feeds, CSV and plain-text lists, MISP
//! warninglists, ATT&CK knowledge, and the compact [`MatchIndex`] that looks
//! up every observable of an event at line rate.
//!
//! Every import takes bytes (gzip is detected and decompressed with a bound)
//! and returns a report — counts per object type, and each bad item with its
//! id and reason — beside the objects it could read. Nothing here opens a
//! file, a socket or reads the clock.
//!
//! ```text
//! bytes ─► stix::parse_bundle / misp::parse_event / list::parse_list
//!        ─► Vec<Indicator> + KnowledgeGraph objects + ImportReport
//!        ─► IndicatorSet::merge (one indicator per type+value, provenance kept)
//!        ─► Warninglists::suppress ─► MatchIndex::build ─► Matcher::match_event
//! ```
#![warn(missing_docs)]

mod error;
mod gz;
mod hash;

pub mod attack;
pub mod decay;
pub mod index;
pub mod indicator;
pub mod list;
pub mod matcher;
pub mod misp;
pub mod normalize;
pub mod pattern;
pub mod report;
pub mod stix;
pub mod warninglist;

pub use decay::DecayModel;
pub use error::{Error, Result};
pub use gz::{DEFAULT_MAX_DECOMPRESSED, decode_input};
pub use index::MatchIndex;
pub use indicator::{
    Indicator, IndicatorId, IndicatorSet, IndicatorType, KillChainPhase, MergeStats, Provenance,
    Tlp,
};
pub use matcher::{Match, Matcher};
pub use report::{ImportReport, ItemError};
pub use stix::{KnowledgeGraph, StixObject};
pub use warninglist::{Suppressed, Warninglist, Warninglists};
