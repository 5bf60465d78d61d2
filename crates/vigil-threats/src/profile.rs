//! The organisation profile: what the organisation does (sectors), where
//! (countries, regions), what it runs (technologies), and what matters most
//! (crown-jewel assets, data classes). Read from TOML or JSON by the edges;
//! [`Profile::validate`] checks it without I/O.

use serde::{Deserialize, Serialize};

use crate::region::Geo;
use crate::sector;
use crate::{Error, Result};

/// The profile format version.
pub const PROFILE_VERSION: u32 = 1;

/// Longest activity window, in days (100 years).
pub const MAX_WINDOW_DAYS: u32 = 36_500;

fn default_version() -> u32 {
    PROFILE_VERSION
}

fn default_window() -> u32 {
    730
}

/// The organisation profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Format version: 1.
    #[serde(default = "default_version")]
    pub version: u32,
    /// The organisation's name. Default: empty.
    #[serde(default)]
    pub name: String,
    /// Sectors (`financial`, `government`, `healthcare`, …; synonyms such
    /// as `bank` or `finance` are understood). Default: none.
    #[serde(default)]
    pub sectors: Vec<String>,
    /// Countries the organisation operates in (names or ISO 3166 alpha-2
    /// codes). Default: none.
    #[serde(default)]
    pub countries: Vec<String>,
    /// Regions (`europe`, `asia`, `africa`, `north america`, `south
    /// america`, `oceania`, `middle east`). Default: none.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Technologies in use (product or package names); the edges add the
    /// ones derived from the asset inventory and SBOMs. Default: none.
    #[serde(default)]
    pub technologies: Vec<String>,
    /// Names of crown-jewel assets (as in the asset inventory). Default:
    /// none.
    #[serde(default)]
    pub crown_jewels: Vec<String>,
    /// Data classes the organisation holds (`payment`, `health`,
    /// `personal`, `secret`, …). Default: none.
    #[serde(default)]
    pub data_classes: Vec<String>,
    /// How far back activity counts as recent, in days. Default: 730.
    #[serde(default = "default_window")]
    pub activity_window_days: u32,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            version: PROFILE_VERSION,
            name: String::new(),
            sectors: Vec::new(),
            countries: Vec::new(),
            regions: Vec::new(),
            technologies: Vec::new(),
            crown_jewels: Vec::new(),
            data_classes: Vec::new(),
            activity_window_days: default_window(),
        }
    }
}

impl Profile {
    /// Checks the version, the regions and the window; trims and
    /// de-duplicates the lists.
    pub fn validate(mut self, geo: &Geo) -> Result<Profile> {
        if self.version != PROFILE_VERSION {
            return Err(Error::Profile(format!(
                "version {} is not supported (expected {PROFILE_VERSION})",
                self.version
            )));
        }
        if self.activity_window_days == 0 || self.activity_window_days > MAX_WINDOW_DAYS {
            return Err(Error::Profile(format!(
                "activity_window_days must be 1-{MAX_WINDOW_DAYS}"
            )));
        }
        for list in [
            &mut self.sectors,
            &mut self.countries,
            &mut self.regions,
            &mut self.technologies,
            &mut self.crown_jewels,
            &mut self.data_classes,
        ] {
            for s in list.iter_mut() {
                *s = s.trim().to_string();
            }
            list.retain(|s| !s.is_empty());
            let mut seen = std::collections::BTreeSet::new();
            list.retain(|s| seen.insert(s.to_lowercase()));
        }
        for r in &self.regions {
            if geo.region_code(r).is_none() {
                return Err(Error::Profile(format!(
                    "unknown region {r:?} (europe, asia, africa, north america, south america, oceania, middle east)"
                )));
            }
        }
        for c in &self.countries {
            if geo.country(c).is_none() {
                return Err(Error::Profile(format!("unknown country {c:?}")));
            }
        }
        Ok(self)
    }

    /// The canonical sectors of the profile.
    pub fn canonical_sectors(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .sectors
            .iter()
            .filter_map(|s| sector::canonical(s))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate() {
        let geo = Geo::builtin();
        let p: Profile = serde_json::from_str(
            r#"{"sectors":["Finance "," finance","bank"],"regions":["Europe"]}"#,
        )
        .unwrap_or_default();
        let p = p.validate(&geo).unwrap_or_default();
        assert_eq!(p.sectors, ["Finance", "bank"]);
        assert_eq!(p.canonical_sectors(), ["financial"]);
        assert_eq!(p.activity_window_days, 730);
        let bad = Profile {
            regions: vec!["atlantis".into()],
            ..Profile::default()
        };
        assert!(matches!(bad.validate(&geo), Err(Error::Profile(_))));
        let bad = Profile {
            activity_window_days: u32::MAX,
            ..Profile::default()
        };
        assert!(matches!(bad.validate(&geo), Err(Error::Profile(_))));
        let bad: std::result::Result<Profile, _> = serde_json::from_str(r#"{"sector":["x"]}"#);
        assert!(bad.is_err(), "unknown fields are refused");
    }
}
