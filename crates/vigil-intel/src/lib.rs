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
//!
//! ```
//! use vigil_intel::stix::{self, ImportOptions};
//! use vigil_intel::{IndicatorSet, MatchIndex, Matcher, Warninglist, Warninglists};
//! use vigil_model::FieldRegistry;
//!
//! let bundle = br#"{"type":"bundle","id":"bundle--6d1b3c0e-1f1a-4e4e-9d4e-000000000001","objects":[
//!   {"type":"indicator","spec_version":"2.1","id":"indicator--6d1b3c0e-1f1a-4e4e-9d4e-000000000002",
//!    "created":"2024-01-01T00:00:00Z","modified":"2024-01-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z",
//!    "pattern_type":"stix","pattern":"[domain-name:value = 'evil.example' OR ipv4-addr:value = '8.8.8.8']"}]}"#;
//! let imp = stix::parse_bundle(bundle, "example-feed", &ImportOptions::default())?;
//! assert_eq!(imp.report.objects["indicator"], 1);
//!
//! let mut set = IndicatorSet::new();
//! set.merge(imp.indicators);
//! let mut wl = Warninglists::new();
//! wl.add(Warninglist::parse(br#"{"name":"dns","type":"cidr","list":["8.8.8.0/24"]}"#)?);
//! let suppressed = wl.suppress(&mut set); // 8.8.8.8 is known-benign
//! assert_eq!(suppressed.len(), 1);
//!
//! let index = MatchIndex::build(&set);
//! let matcher = Matcher::new(&FieldRegistry::new());
//! assert!(index.lookup_domain("www.evil.example").is_some());
//! # let _ = matcher;
//! # Ok::<(), vigil_intel::Error>(())
//! ```
#![warn(missing_docs)]

mod error;
mod gz;
mod hash;

pub mod attack;
pub mod blocklist;
pub mod context;
pub mod decay;
pub mod detector;
pub mod export;
pub mod index;
pub mod indicator;
pub mod list;
pub mod lookup;
pub mod matcher;
pub mod misp;
pub mod normalize;
pub mod pattern;
pub mod report;
pub mod stix;
pub mod warninglist;

pub use context::{Contexts, ContextsBuilder};
pub use decay::DecayModel;
pub use detector::IntelDetector;
pub use error::{Error, Result};
pub use gz::{DEFAULT_MAX_DECOMPRESSED, decode_input};
pub use index::MatchIndex;
pub use indicator::{
    Indicator, IndicatorId, IndicatorSet, IndicatorType, KillChainPhase, MergeStats, Provenance,
    Tlp,
};
pub use matcher::{Match, Matcher};
pub use report::{ImportReport, ItemError};
pub use stix::{ImportOptions, KnowledgeGraph, StixObject};
pub use warninglist::{Suppressed, Warninglist, Warninglists};
