//! Cron schedules for `schedule` triggers (UTC), on the `croner` crate.

use std::str::FromStr;

use chrono::Utc;
use vigil_model::Timestamp;

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub struct Cron(croner::Cron);

impl Cron {
    /// Parses five fields (minute hour day-of-month month day-of-week) or
    /// six (seconds first).
    pub fn parse(s: &str) -> Result<Self, String> {
        croner::Cron::from_str(s.trim())
            .map(Self)
            .map_err(|e| format!("{s:?}: {e}"))
    }

    /// The first time strictly after `t`, if any.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let dt = t.to_datetime()?.with_timezone(&Utc);
        self.0
            .find_next_occurrence(&dt, false)
            .ok()
            .map(Timestamp::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_occurrences() {
        let c = Cron::parse("0 7 * * 1-5").unwrap();
        // Friday 2026-11-27 08:00 → Monday 07:00.
        let t = Timestamp::parse_rfc3339("2026-11-27T08:00:00Z").unwrap();
        assert_eq!(
            c.next_after(t),
            Timestamp::parse_rfc3339("2026-11-30T07:00:00Z")
        );
        assert!(Cron::parse("61 * * * *").is_err());
        assert!(Cron::parse("").is_err());
    }
}
