//! OSV range evaluation, exactly as the OSV schema's evaluation algorithm:
//! events sorted by version (`introduced: "0"` first), walked in order —
//! `introduced` makes versions at or above it affected, `fixed` makes those
//! at or above it unaffected, `last_affected` those above it — and the
//! version must lie below one of the `limit`s when there are any.
//!
//! The schema leaves the order of events at equal versions open; here a
//! `fixed` or `last_affected` comes before an `introduced` of the same
//! version, so adjacent ranges merged into one list (`fixed: X`,
//! `introduced: X`, as some PyPI records have) keep `X` affected.

use std::cmp::Ordering;

use super::record::{Range, RangeType};
use crate::error::{Error, Result};
use crate::version::{Scheme, Version};

/// One event with its version parsed.
#[derive(Debug, Clone)]
enum Ev {
    /// `None` is `"0"`.
    Introduced(Option<Version>),
    LastAffected(Version),
    Fixed(Version),
}

impl Ev {
    fn version(&self) -> Option<&Version> {
        match self {
            Ev::Introduced(v) => v.as_ref(),
            Ev::LastAffected(v) | Ev::Fixed(v) => Some(v),
        }
    }
    fn rank(&self) -> u8 {
        match self {
            Ev::Fixed(_) => 0,
            Ev::LastAffected(_) => 1,
            Ev::Introduced(_) => 2,
        }
    }
}

/// A range compiled for one scheme.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRange {
    pub(crate) scheme: Scheme,
    events: Vec<Ev>,
    limits: Vec<Version>,
    /// Fixed versions as written, for reports.
    pub(crate) fixed: Vec<String>,
}

impl CompiledRange {
    /// Compiles a SEMVER or ECOSYSTEM range; `None` for GIT ranges.
    pub(crate) fn compile(
        range: &Range,
        ecosystem_scheme: Scheme,
    ) -> Result<Option<CompiledRange>> {
        let scheme = match range.kind {
            RangeType::Git => return Ok(None),
            RangeType::Ecosystem => ecosystem_scheme,
            RangeType::Semver => match ecosystem_scheme {
                Scheme::Go | Scheme::Npm | Scheme::Cargo => ecosystem_scheme,
                _ => Scheme::Semver,
            },
        };
        let mut events = Vec::with_capacity(range.events.len());
        let mut limits = Vec::new();
        let mut fixed = Vec::new();
        for e in &range.events {
            if let Some(v) = &e.introduced {
                events.push(Ev::Introduced(if v == "0" {
                    None
                } else {
                    Some(Version::parse(scheme, v)?)
                }));
            } else if let Some(v) = &e.fixed {
                events.push(Ev::Fixed(Version::parse(scheme, v)?));
                fixed.push(v.clone());
            } else if let Some(v) = &e.last_affected {
                events.push(Ev::LastAffected(Version::parse(scheme, v)?));
            } else if let Some(v) = &e.limit {
                if v != "*" {
                    limits.push(Version::parse(scheme, v)?);
                }
            } else {
                return Err(Error::parse("osv", "range event", "empty event"));
            }
        }
        events.sort_by(|a, b| match (a.version(), b.version()) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => x
                .compare(y)
                .unwrap_or(Ordering::Equal)
                .then(a.rank().cmp(&b.rank())),
        });
        Ok(Some(CompiledRange {
            scheme,
            events,
            limits,
            fixed,
        }))
    }

    /// True when `v` (parsed with [`Self::scheme`]) is inside the range.
    pub(crate) fn contains(&self, v: &Version) -> bool {
        if !self.limits.is_empty()
            && !self
                .limits
                .iter()
                .any(|l| v.compare(l) == Some(Ordering::Less))
        {
            return false;
        }
        let mut affected = false;
        for e in &self.events {
            match e {
                Ev::Introduced(None) => affected = true,
                Ev::Introduced(Some(i)) => {
                    if matches!(v.compare(i), Some(Ordering::Greater | Ordering::Equal)) {
                        affected = true;
                    }
                }
                Ev::Fixed(f) => {
                    if matches!(v.compare(f), Some(Ordering::Greater | Ordering::Equal)) {
                        affected = false;
                    }
                }
                Ev::LastAffected(l) => {
                    if v.compare(l) == Some(Ordering::Greater) {
                        affected = false;
                    }
                }
            }
        }
        affected
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::record::Event;

    /// `events` like `i0 f1.5 i2.0 l2.3 L3.0` (introduced, fixed,
    /// last_affected, Limit); `want` lists versions as `1.0:y 1.5:n`.
    fn check(scheme: Scheme, events: &str, want: &str) {
        let events = events
            .split_whitespace()
            .map(|e| {
                let (k, v) = e.split_at(1);
                let v = Some(v.to_owned());
                match k {
                    "i" => Event {
                        introduced: v,
                        ..Event::default()
                    },
                    "f" => Event {
                        fixed: v,
                        ..Event::default()
                    },
                    "l" => Event {
                        last_affected: v,
                        ..Event::default()
                    },
                    _ => Event {
                        limit: v,
                        ..Event::default()
                    },
                }
            })
            .collect();
        let r = Range {
            kind: RangeType::Ecosystem,
            repo: None,
            events,
            database_specific: None,
        };
        let c = CompiledRange::compile(&r, scheme).unwrap().unwrap();
        for w in want.split_whitespace() {
            let (v, yn) = w.rsplit_once(':').unwrap();
            let got = c.contains(&Version::parse(scheme, v).unwrap());
            assert_eq!(got, yn == "y", "{v} in {events:?}", events = r.events);
        }
    }

    #[test]
    fn ranges() {
        check(
            Scheme::Pep440,
            "i0 f1.5",
            "0.1:y 1.4.9:y 1.5:n 1.5.0:n 1.5rc1:y 2.0:n",
        );
        // unsorted events, two ranges in one list (as in PYSEC-2018-104)
        check(
            Scheme::Pep440,
            "i3.9.0 f3.19.1 i0 f3.8.1 i3.20.0 f3.23.1",
            "3.8.0:y 3.8.1:n 3.9.0:y 3.19.1:n 3.20.0:y 3.23.1:n",
        );
        check(
            Scheme::Semver,
            "i1.0.0 l1.2.0",
            "0.9.0:n 1.0.0:y 1.2.0:y 1.2.1:n",
        );
        check(Scheme::Semver, "i1.0.0 L1.5.0", "1.4.9:y 1.5.0:n 2.0.0:n");
        check(Scheme::Semver, "i1.0.0 L*", "9.0.0:y");
        check(Scheme::Dpkg, "i0 f1.0-2", "1.0-1:y 1.0-2:n 1:0.1:n");
        // adjacent ranges in one list: 3.1.1 stays affected
        check(
            Scheme::Pep440,
            "i0 f3.1.1 i3.1.1 f3.1.3",
            "3.1.0:y 3.1.1:y 3.1.2:y 3.1.3:n",
        );
    }
}
