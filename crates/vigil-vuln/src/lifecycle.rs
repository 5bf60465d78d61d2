//! Finding lifecycle, without I/O or clock: what a re-import or a scan does
//! to a finding's status, when a risk acceptance expires, and SLA due
//! dates from a policy.
//!
//! Times are epoch microseconds given by the caller.
//!
//! Transitions on an import of the asset's components from one source
//! ([`observe`]):
//!
//! | before | vulnerable version present | absent |
//! |---|---|---|
//! | (none) | open | (none) |
//! | open, reopened | unchanged | fixed |
//! | fixed | reopened | fixed |
//! | accepted (not expired) | accepted | fixed |
//! | accepted (expired) | open | fixed |
//! | false positive | false positive | false positive |

use serde::{Deserialize, Serialize};

/// Microseconds per day.
pub const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// A finding's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Present and not yet dealt with.
    Open,
    /// No longer present in the latest import.
    Fixed,
    /// Present again after having been fixed.
    Reopened,
    /// Risk accepted until an expiry.
    Accepted,
    /// Not applicable, by an analyst's decision.
    FalsePositive,
}

impl Status {
    /// `open`, `fixed`, `reopened`, `accepted`, `false_positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Fixed => "fixed",
            Status::Reopened => "reopened",
            Status::Accepted => "accepted",
            Status::FalsePositive => "false_positive",
        }
    }

    /// Parses [`Status::as_str`]'s output (also `false-positive`, `fp`).
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "open" => Status::Open,
            "fixed" => Status::Fixed,
            "reopened" => Status::Reopened,
            "accepted" => Status::Accepted,
            "false_positive" | "false-positive" | "fp" => Status::FalsePositive,
            _ => return None,
        })
    }

    /// Open or reopened: the finding needs work and has an SLA.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Reopened)
    }
}

/// The lifecycle part of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Status.
    pub status: Status,
    /// First seen.
    pub first_seen: i64,
    /// Last seen present.
    pub last_seen: i64,
    /// When it was found fixed (fixed status only).
    pub fixed_at: Option<i64>,
    /// When the current status began; the SLA clock of open and reopened
    /// findings starts here.
    pub since: i64,
    /// Expiry of a risk acceptance.
    pub accepted_until: Option<i64>,
}

impl State {
    /// A finding first seen at `now`.
    pub fn new(now: i64) -> State {
        State {
            status: Status::Open,
            first_seen: now,
            last_seen: now,
            fixed_at: None,
            since: now,
            accepted_until: None,
        }
    }

    fn set(&mut self, status: Status, now: i64) {
        if self.status != status {
            self.status = status;
            self.since = now;
        }
    }
}

/// A risk acceptance that has expired at `now` turns the finding open
/// again; any other state is returned unchanged.
pub fn expire(mut s: State, now: i64) -> State {
    if s.status == Status::Accepted && s.accepted_until.is_none_or(|u| u <= now) {
        s.set(Status::Open, now);
        s.accepted_until = None;
    }
    s
}

/// The state after an import from the finding's source at `now`: `present`
/// tells whether the import still has the vulnerable version. `None` when
/// there is no finding before and none now.
pub fn observe(prev: Option<State>, present: bool, now: i64) -> Option<State> {
    let Some(prev) = prev else {
        return present.then(|| State::new(now));
    };
    let mut s = expire(prev, now);
    match (s.status, present) {
        (Status::FalsePositive, p) => {
            if p {
                s.last_seen = now;
            }
        }
        (Status::Fixed, true) => {
            s.set(Status::Reopened, now);
            s.fixed_at = None;
            s.last_seen = now;
        }
        (_, true) => s.last_seen = now,
        (Status::Fixed, false) => {}
        (_, false) => {
            s.set(Status::Fixed, now);
            s.fixed_at = Some(now);
            s.accepted_until = None;
        }
    }
    Some(s)
}

/// Remediation deadlines in days, by the SSVC deployer decision, with a
/// shorter cap for vulnerabilities exploited in the wild (CISA KEV).
///
/// Defaults: Immediate 2 days, Out-of-Cycle 7, Scheduled 30, Defer 90, KEV
/// at most 14 (and never later than CISA's own due date when the caller
/// passes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    /// Days for Immediate. Default: 2.
    pub immediate: u32,
    /// Days for Out-of-Cycle. Default: 7.
    pub out_of_cycle: u32,
    /// Days for Scheduled. Default: 30.
    pub scheduled: u32,
    /// Days for Defer. Default: 90.
    pub defer: u32,
    /// Most days for a vulnerability in CISA KEV. Default: 14.
    pub kev: u32,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            immediate: 2,
            out_of_cycle: 7,
            scheduled: 30,
            defer: 90,
            kev: 14,
        }
    }
}

impl SlaPolicy {
    /// Days allowed for a decision given by its rank: 0 Defer, 1 Scheduled,
    /// 2 Out-of-Cycle, 3 Immediate (SSVC's order); higher ranks count as
    /// Immediate.
    pub fn days(&self, decision_rank: usize) -> u32 {
        match decision_rank {
            0 => self.defer,
            1 => self.scheduled,
            2 => self.out_of_cycle,
            _ => self.immediate,
        }
    }

    /// The due date of a finding: `None` unless it is open or reopened;
    /// otherwise its `since` plus the decision's days, capped by the KEV
    /// days when `in_kev`, and by `kev_due` (CISA's due date, epoch µs)
    /// when given and later than `since`.
    pub fn due(
        &self,
        state: &State,
        decision_rank: usize,
        in_kev: bool,
        kev_due: Option<i64>,
    ) -> Option<i64> {
        if !state.status.is_active() {
            return None;
        }
        let mut days = self.days(decision_rank);
        if in_kev {
            days = days.min(self.kev);
        }
        let mut due = state
            .since
            .saturating_add(i64::from(days).saturating_mul(DAY_MICROS));
        if let Some(k) = kev_due.filter(|k| *k > state.since) {
            due = due.min(k);
        }
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: i64 = DAY_MICROS;

    fn check(steps: &[(bool, i64)], want: &str) {
        let mut s = None;
        let mut got = Vec::new();
        for &(present, now) in steps {
            s = observe(s, present, now);
            got.push(s.map_or("-", |x| x.status.as_str()));
        }
        assert_eq!(got.join(" "), want);
    }

    #[test]
    fn transitions() {
        check(&[(false, D)], "-");
        check(
            &[(true, D), (true, 2 * D), (false, 3 * D), (true, 4 * D)],
            "open open fixed reopened",
        );
        check(
            &[(true, D), (false, 2 * D), (false, 3 * D)],
            "open fixed fixed",
        );
    }

    #[test]
    fn acceptance_expires() {
        let mut s = State::new(0);
        s.status = Status::Accepted;
        s.accepted_until = Some(10 * D);
        let kept = observe(Some(s), true, 5 * D).unwrap();
        assert_eq!(kept.status, Status::Accepted);
        let back = observe(Some(s), true, 10 * D).unwrap();
        assert_eq!(back.status, Status::Open);
        assert_eq!(back.since, 10 * D);
        assert_eq!(expire(s, 11 * D).status, Status::Open);
        let fp = State {
            status: Status::FalsePositive,
            ..State::new(0)
        };
        assert_eq!(
            observe(Some(fp), false, D).unwrap().status,
            Status::FalsePositive
        );
    }

    #[test]
    fn sla() {
        let p = SlaPolicy::default();
        let s = State::new(D);
        assert_eq!(p.due(&s, 3, false, None), Some(3 * D));
        assert_eq!(p.due(&s, 2, false, None), Some(8 * D));
        assert_eq!(p.due(&s, 1, false, None), Some(31 * D));
        assert_eq!(p.due(&s, 0, false, None), Some(91 * D));
        assert_eq!(p.due(&s, 0, true, None), Some(15 * D));
        assert_eq!(p.due(&s, 0, true, Some(5 * D)), Some(5 * D));
        let fixed = observe(Some(s), false, 2 * D).unwrap();
        assert_eq!(p.due(&fixed, 3, false, None), None);
        assert_eq!(Status::parse("fp"), Some(Status::FalsePositive));
    }
}
