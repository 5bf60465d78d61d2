//! Field mappings, like pySigma processing pipelines but declarative: which
//! events a log source covers, and which event fields stand for a Sigma
//! field name. Mappings are YAML; the built-in ones cover Windows event logs
//! (evtx-JSON flattened by [`crate::evtx`]), ECS-shaped JSON and Linux
//! syslog. Users add their own files with [`Mapping::from_yaml`].
//!
//! ```yaml
//! version: 1
//! name: my-mapping
//! products:              # an event is of this product if one field exists
//!   windows: [Channel]
//! logsources:            # conditions (OR of maps, AND within a map)
//!   - product: windows
//!     category: process_creation
//!     when:
//!       - { Channel: Microsoft-Windows-Sysmon/Operational, EventID: 1 }
//!       - { Channel: Security, EventID: 4688 }
//! fields:                # Sigma field -> event fields tried when absent
//!   Image: [NewProcessName, process.executable]
//! ```
//!
//! A log source with no `when` for its category or service is constrained
//! by its product only.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::Error;

/// Largest mapping file accepted, in bytes.
const MAX_MAPPING_SIZE: usize = 1 << 20;

/// A scalar in a mapping condition.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum MapValue {
    /// An integer (compared numerically).
    Int(i64),
    /// A string (compared case-insensitively).
    Str(String),
}

/// One value or a list of alternatives.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single value.
    One(MapValue),
    /// Alternatives (OR).
    Many(Vec<MapValue>),
}

impl OneOrMany {
    pub(crate) fn values(&self) -> Vec<MapValue> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// Conditions of one log source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSourceMapping {
    /// `product` it applies to (`None`: any product).
    #[serde(default)]
    pub product: Option<String>,
    /// `category`, or
    #[serde(default)]
    pub category: Option<String>,
    /// `service` (exactly one of the two).
    #[serde(default)]
    pub service: Option<String>,
    /// OR-ed maps of field → value(s); within a map, AND.
    pub when: Vec<BTreeMap<String, OneOrMany>>,
}

/// A mapping file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Format version; must be 1.
    pub version: u32,
    /// A name for error messages.
    pub name: String,
    /// Product classifiers: product → fields whose presence marks it.
    #[serde(default)]
    pub products: BTreeMap<String, Vec<String>>,
    /// Log-source conditions.
    #[serde(default)]
    pub logsources: Vec<LogSourceMapping>,
    /// Sigma field → further event fields (tried in order when the Sigma
    /// field itself is absent from the event).
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<String>>,
}

const WINDOWS: &str = include_str!("mappings/windows.yml");
const ECS: &str = include_str!("mappings/ecs.yml");
const LINUX: &str = include_str!("mappings/linux.yml");

impl Mapping {
    /// Parses and validates a mapping file.
    pub fn from_yaml(name: &str, text: &str) -> Result<Mapping, Error> {
        let err = |msg: String| Error::Mapping {
            name: name.to_string(),
            msg,
        };
        if text.len() > MAX_MAPPING_SIZE {
            return Err(err(format!("larger than {MAX_MAPPING_SIZE} bytes")));
        }
        let m: Mapping = yaml_serde::from_str(text).map_err(|e| err(e.to_string()))?;
        if m.version != 1 {
            return Err(err(format!("unsupported version {}", m.version)));
        }
        for ls in &m.logsources {
            if ls.category.is_some() == ls.service.is_some() {
                return Err(err(
                    "each log source needs exactly one of category, service".into(),
                ));
            }
            if ls.when.is_empty() {
                return Err(err("a log source needs at least one `when` map".into()));
            }
        }
        Ok(m)
    }

    /// The built-in mappings: Windows (evtx-JSON), ECS and Linux syslog.
    pub fn builtin() -> Vec<Mapping> {
        [("windows", WINDOWS), ("ecs", ECS), ("linux", LINUX)]
            .into_iter()
            .filter_map(|(n, t)| Mapping::from_yaml(n, t).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (n, t) in [("windows", WINDOWS), ("ecs", ECS), ("linux", LINUX)] {
            Mapping::from_yaml(n, t).unwrap();
        }
        assert_eq!(Mapping::builtin().len(), 3);
    }

    #[test]
    fn bad_mapping() {
        let e = Mapping::from_yaml("x", "version: 2\nname: x\n").unwrap_err();
        assert_eq!(e.to_string(), "mapping x: unsupported version 2");
        let e = Mapping::from_yaml("x", "version: 1\nname: x\nbogus: 1\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `bogus`"), "{e}");
    }
}
