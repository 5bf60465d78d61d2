//! Identifier newtypes: tenants, events, alerts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An identifier string did not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid {kind} id {value:?}: expected a UUID")]
pub struct IdParseError {
    kind: &'static str,
    value: String,
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub const fn from_uuid(u: Uuid) -> Self {
                Self(u)
            }
            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self).map_err(|_| IdParseError {
                    kind: $kind,
                    value: s.chars().take(64).collect(),
                })
            }
        }
    };
}

uuid_id!(
    /// An organisation. Every stored object carries one; MSSPs run several.
    TenantId,
    "tenant"
);
uuid_id!(
    /// A stored event: UUIDv7, so ids sort by receive time.
    EventId,
    "event"
);
uuid_id!(
    /// An alert raised by a detector.
    AlertId,
    "alert"
);

impl TenantId {
    /// The single tenant every installation starts with.
    pub const DEFAULT: TenantId = TenantId(Uuid::from_u128(1));
}

impl EventId {
    /// A new time-ordered id for an event received at `received`.
    ///
    /// UUID v7: the millisecond timestamp, then 74 random bits from the
    /// thread's CSPRNG (seeded from the OS and reseeded by `rand`), not one
    /// `getrandom` system call per event as `Uuid::new_v7` makes.
    pub fn new_at(received: crate::Timestamp) -> Self {
        use rand::RngCore;
        let millis = (received.as_micros().max(0) / 1000) as u64;
        let mut random = [0u8; 10];
        rand::rng().fill_bytes(&mut random);
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
    }
}

impl AlertId {
    /// The deterministic id of the alert `detector`/`rule` raises for `event`.
    ///
    /// Re-evaluating the same event after a crash yields the same id, so the
    /// store can make alert inserts idempotent.
    pub fn derive(detector: &str, rule: &str, key: &str) -> Self {
        let mut name = Vec::with_capacity(detector.len() + rule.len() + key.len() + 2);
        name.extend_from_slice(detector.as_bytes());
        name.push(0);
        name.extend_from_slice(rule.as_bytes());
        name.push(0);
        name.extend_from_slice(key.as_bytes());
        Self(Uuid::new_v5(&ALERT_NAMESPACE, &name))
    }

    /// A fresh random-but-time-ordered alert id.
    pub fn new_v7() -> Self {
        Self(Uuid::now_v7())
    }
}

const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_4c2e_9d7a_4f3b_8e21_5a0c_d3e4_f5a6);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_alert_ids_are_stable_and_distinct() {
        let a = AlertId::derive("sigma", "r1", "e1");
        assert_eq!(a, AlertId::derive("sigma", "r1", "e1"));
        assert_ne!(a, AlertId::derive("sigma", "r1", "e2"));
        assert_ne!(
            AlertId::derive("a", "bc", "d"),
            AlertId::derive("ab", "c", "d")
        );
    }

    #[test]
    fn bad_id_is_an_error() {
        let e = "nope".parse::<TenantId>().unwrap_err();
        assert!(e.to_string().contains("invalid tenant id"));
    }

    #[test]
    fn event_ids_sort_by_time() {
        let a = EventId::new_at(crate::Timestamp::from_micros(1_000_000));
        let b = EventId::new_at(crate::Timestamp::from_micros(2_000_000));
        assert!(a < b);
    }
}
