//! Time: microsecond timestamps and the injectable [`Clock`].

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Microseconds since the Unix epoch, UTC. Stored as `BIGINT` everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From microseconds since the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Self(us)
    }
    /// From milliseconds since the epoch (saturating).
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms.saturating_mul(1000))
    }
    /// From whole seconds since the epoch (saturating).
    pub const fn from_secs(s: i64) -> Self {
        Self(s.saturating_mul(1_000_000))
    }
    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    /// Adds a number of microseconds (saturating).
    pub const fn add_micros(self, us: i64) -> Self {
        Self(self.0.saturating_add(us))
    }
    /// As a chrono UTC time; `None` when out of chrono's range.
    pub fn to_datetime(self) -> Option<DateTime<Utc>> {
        Utc.timestamp_micros(self.0).single()
    }
    /// Parses RFC 3339 (`2024-05-01T12:00:00.123Z`, offsets allowed).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| Self(d.with_timezone(&Utc).timestamp_micros()))
    }
    /// RFC 3339 with microseconds and `Z`.
    pub fn to_rfc3339(self) -> String {
        match self.to_datetime() {
            Some(d) => d.to_rfc3339_opts(SecondsFormat::Micros, true),
            None => self.0.to_string(),
        }
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(d: DateTime<Utc>) -> Self {
        Self(d.timestamp_micros())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_rfc3339(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {s:?}")))
    }
}

/// Where "now" comes from. Tests use [`FixedClock`]; nothing reads the
/// system time except through a `Clock`.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from(Utc::now())
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `t`.
    pub fn new(t: Timestamp) -> Self {
        Self(AtomicI64::new(t.as_micros()))
    }
    /// Sets the time.
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.as_micros(), Ordering::SeqCst);
    }
    /// Moves the time forward by `us` microseconds.
    pub fn advance_micros(&self, us: i64) {
        self.0.fetch_add(us, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = Timestamp::parse_rfc3339("2024-05-01T12:00:00.123456+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-01T10:00:00.123456Z");
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let c = FixedClock::new(Timestamp::from_secs(10));
        assert_eq!(c.now(), Timestamp::from_secs(10));
        c.advance_micros(5);
        assert_eq!(c.now().as_micros(), 10_000_005);
    }
}
