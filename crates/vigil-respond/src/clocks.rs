//! Regulatory clocks: the notification deadlines an incident incurs.
//!
//! An incident carries facts ([`Facts`]): when the organisation became aware
//! of it and which flags apply (personal-data breach, health-data breach,
//! essential or important entity under NIS2, …). A rule table ([`Rule`])
//! says which clocks each flag starts and how long each runs. The built-in
//! table ([`builtin_rules`]):
//!
//! | clock | applies when | runs from | due after |
//! |---|---|---|---|
//! | GDPR Art. 33 notification to the supervisory authority | `personal_data` | awareness | 72 hours |
//! | HIPAA breach notification (45 CFR 164.404) | `health_data` | discovery | 60 days |
//! | NIS2 Art. 23(4)(a) early warning | `nis2_entity` | awareness | 24 hours |
//! | NIS2 Art. 23(4)(b) incident notification | `nis2_entity` | awareness | 72 hours |
//! | NIS2 Art. 23(4)(d) final report | `nis2_entity` | submission of the incident notification | 1 month |
//!
//! A clock that runs from another clock (`after`) starts when that clock was
//! completed, or at its deadline while it is not completed. Months are
//! calendar months (31 January + 1 month = 28/29 February).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Months;
use serde::{Deserialize, Serialize};
use vigil_model::Timestamp;

use crate::{Error, Result};

/// A duration as written in the rule table: `72h`, `60d`, `2w`, `30m`,
/// `1mo` / `1 month` (calendar months).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Span {
    /// Fixed number of seconds.
    Seconds(i64),
    /// Calendar months.
    Months(u32),
}

impl Span {
    /// Parses `72h`, `60 days`, `1 month`, …
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: i64 = num.parse().map_err(|_| {
            Error::Config(format!(
                "duration {s:?}: expected a number then a unit (72h, 60d, 1 month)"
            ))
        })?;
        let unit = unit.trim();
        let secs = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 7 * 86_400,
            "mo" | "month" | "months" => {
                let m = u32::try_from(n)
                    .ok()
                    .filter(|m| *m <= 1200)
                    .ok_or_else(|| Error::Config(format!("duration {s:?}: too many months")))?;
                return Ok(Self::Months(m));
            }
            _ => {
                return Err(Error::Config(format!(
                    "duration {s:?}: unknown unit {unit:?} (s, m, h, d, w, month)"
                )));
            }
        };
        n.checked_mul(secs)
            .filter(|v| *v <= 100 * 365 * 86_400)
            .map(Self::Seconds)
            .ok_or_else(|| Error::Config(format!("duration {s:?}: too long")))
    }

    /// `t` plus this span.
    pub fn after(self, t: Timestamp) -> Timestamp {
        match self {
            Self::Seconds(s) => t.add_micros(s.saturating_mul(1_000_000)),
            Self::Months(m) => match t.to_datetime() {
                Some(d) => {
                    let sub = d.timestamp_subsec_micros();
                    d.checked_add_months(Months::new(m))
                        .map(|x| Timestamp::from_micros(x.timestamp() * 1_000_000 + i64::from(sub)))
                        .unwrap_or(Timestamp::from_micros(i64::MAX))
                }
                None => Timestamp::from_micros(i64::MAX),
            },
        }
    }
}

impl TryFrom<String> for Span {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(&s)
    }
}

impl From<Span> for String {
    fn from(s: Span) -> String {
        match s {
            Span::Seconds(n) if n % 86_400 == 0 => format!("{}d", n / 86_400),
            Span::Seconds(n) if n % 3600 == 0 => format!("{}h", n / 3600),
            Span::Seconds(n) => format!("{n}s"),
            Span::Months(m) => format!("{m} month{}", if m == 1 { "" } else { "s" }),
        }
    }
}

/// One row of the rule table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id (`gdpr-art33`).
    pub id: String,
    /// Regime (`GDPR`, `HIPAA`, `NIS2`, …).
    pub regime: String,
    /// What must be done by the deadline.
    pub name: String,
    /// The incident flag that starts this clock (`personal_data`, …).
    pub applies_when: String,
    /// Runs from the completion of another clock (its id) instead of from
    /// awareness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// How long the clock runs.
    pub due: Span,
}

/// The built-in rule table (see the module docs).
pub fn builtin_rules() -> Vec<Rule> {
    let r = |id: &str, regime: &str, name: &str, when: &str, after: Option<&str>, due: &str| Rule {
        id: id.into(),
        regime: regime.into(),
        name: name.into(),
        applies_when: when.into(),
        after: after.map(str::to_string),
        due: Span::parse(due).unwrap_or(Span::Seconds(0)),
    };
    vec![
        r(
            "gdpr-art33",
            "GDPR",
            "Notify the supervisory authority (Art. 33)",
            "personal_data",
            None,
            "72h",
        ),
        r(
            "hipaa-breach",
            "HIPAA",
            "Notify affected individuals (45 CFR 164.404)",
            "health_data",
            None,
            "60d",
        ),
        r(
            "nis2-early-warning",
            "NIS2",
            "Early warning to the CSIRT (Art. 23(4)(a))",
            "nis2_entity",
            None,
            "24h",
        ),
        r(
            "nis2-notification",
            "NIS2",
            "Incident notification (Art. 23(4)(b))",
            "nis2_entity",
            None,
            "72h",
        ),
        r(
            "nis2-final-report",
            "NIS2",
            "Final report (Art. 23(4)(d))",
            "nis2_entity",
            Some("nis2-notification"),
            "1 month",
        ),
    ]
}

/// Checks a rule table: unique ids, `after` names a clock of the same flag
/// defined earlier in the table (so there are no cycles).
pub fn validate(rules: &[Rule]) -> Result<()> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for r in rules {
        if r.id.trim().is_empty() || r.applies_when.trim().is_empty() {
            return Err(Error::Config(
                "a clock rule needs an id and applies_when".into(),
            ));
        }
        if let Some(a) = &r.after {
            match seen.get(a.as_str()) {
                Some(flag) if *flag == r.applies_when => {}
                Some(_) => {
                    return Err(Error::Config(format!(
                        "clock {}: runs after {a}, which applies to another flag",
                        r.id
                    )));
                }
                None => {
                    return Err(Error::Config(format!(
                        "clock {}: runs after {a}, which is not defined before it",
                        r.id
                    )));
                }
            }
        }
        if seen.insert(&r.id, &r.applies_when).is_some() {
            return Err(Error::Config(format!("clock id {} appears twice", r.id)));
        }
    }
    Ok(())
}

/// What is known about an incident for its clocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// When the organisation became aware (usually: when the incident was
    /// opened or flagged).
    pub aware_at: Timestamp,
    /// Flags set on the incident.
    pub flags: BTreeSet<String>,
    /// Clocks marked done, with when.
    pub completed: BTreeMap<String, Timestamp>,
}

/// State of one clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockStatus {
    /// Still running.
    Running,
    /// Past its deadline and not done.
    Overdue,
    /// Done in time.
    Met,
    /// Done after the deadline.
    MetLate,
}

/// One clock of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    /// Rule id.
    pub id: String,
    /// Regime.
    pub regime: String,
    /// What is due.
    pub name: String,
    /// When it started.
    pub started_at: Timestamp,
    /// Deadline.
    pub due_at: Timestamp,
    /// When it was done.
    pub completed_at: Option<Timestamp>,
    /// Seconds left at `now` (negative when overdue; 0 once done).
    pub remaining_secs: i64,
    /// Status at `now`.
    pub status: ClockStatus,
}

/// The clocks of an incident at `now`, in table order.
pub fn evaluate(rules: &[Rule], facts: &Facts, now: Timestamp) -> Vec<Clock> {
    let mut out: Vec<Clock> = Vec::new();
    for r in rules {
        if !facts.flags.contains(&r.applies_when) {
            continue;
        }
        let started_at = match &r.after {
            None => facts.aware_at,
            Some(a) => match out.iter().find(|c| &c.id == a) {
                Some(prev) => prev.completed_at.unwrap_or(prev.due_at),
                None => continue,
            },
        };
        let due_at = r.due.after(started_at);
        let completed_at = facts.completed.get(&r.id).copied();
        let (status, remaining_secs) = match completed_at {
            Some(done) if done <= due_at => (ClockStatus::Met, 0),
            Some(_) => (ClockStatus::MetLate, 0),
            None => {
                let left =
                    (due_at.as_micros().saturating_sub(now.as_micros())).div_euclid(1_000_000);
                if now > due_at {
                    (ClockStatus::Overdue, left)
                } else {
                    (ClockStatus::Running, left)
                }
            }
        };
        out.push(Clock {
            id: r.id.clone(),
            regime: r.regime.clone(),
            name: r.name.clone(),
            started_at,
            due_at,
            completed_at,
            remaining_secs,
            status,
        });
    }
    out
}

/// Clocks that became overdue in `(since, now]`: the ones to notify about
/// once (the caller remembers `since` between runs).
pub fn newly_overdue(
    rules: &[Rule],
    facts: &Facts,
    since: Timestamp,
    now: Timestamp,
) -> Vec<Clock> {
    evaluate(rules, facts, now)
        .into_iter()
        .filter(|c| c.status == ClockStatus::Overdue && c.due_at > since && c.due_at <= now)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn facts(aware: &str, flags: &[&str]) -> Facts {
        Facts {
            aware_at: ts(aware),
            flags: flags.iter().map(|s| s.to_string()).collect(),
            completed: BTreeMap::new(),
        }
    }

    #[test]
    fn spans() {
        assert_eq!(Span::parse("72h").unwrap(), Span::Seconds(259_200));
        assert_eq!(Span::parse("60 days").unwrap(), Span::Seconds(5_184_000));
        assert_eq!(Span::parse("1 month").unwrap(), Span::Months(1));
        assert!(Span::parse("h").is_err());
        assert!(Span::parse("3 fortnights").is_err());
        assert!(Span::parse("99999999999999d").is_err());
        // Calendar months clamp to the month's end.
        assert_eq!(
            Span::Months(1).after(ts("2026-01-31T10:00:00Z")),
            ts("2026-02-28T10:00:00Z")
        );
        assert_eq!(String::from(Span::parse("72h").unwrap()), "3d");
    }

    #[test]
    fn builtin_table_is_valid() {
        validate(&builtin_rules()).unwrap();
        let mut bad = builtin_rules();
        bad[4].after = Some("gdpr-art33".into());
        assert!(
            validate(&bad)
                .unwrap_err()
                .to_string()
                .contains("another flag")
        );
        let mut dup = builtin_rules();
        dup.push(dup[0].clone());
        assert!(validate(&dup).is_err());
    }

    #[test]
    fn gdpr_and_nis2_deadlines_with_known_answers() {
        let rules = builtin_rules();
        let f = facts("2026-03-02T09:30:00Z", &["personal_data", "nis2_entity"]);
        let now = ts("2026-03-03T10:30:00Z"); // 25 h after awareness
        let c = evaluate(&rules, &f, now);
        let ids: Vec<_> = c.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "gdpr-art33",
                "nis2-early-warning",
                "nis2-notification",
                "nis2-final-report"
            ]
        );
        assert_eq!(c[0].due_at, ts("2026-03-05T09:30:00Z"));
        assert_eq!(c[0].remaining_secs, 47 * 3600);
        assert_eq!(c[0].status, ClockStatus::Running);
        assert_eq!(c[1].due_at, ts("2026-03-03T09:30:00Z"));
        assert_eq!(c[1].status, ClockStatus::Overdue);
        assert_eq!(c[1].remaining_secs, -3600);
        // Final report: one month after the notification's deadline while
        // the notification is not submitted …
        assert_eq!(c[3].started_at, ts("2026-03-05T09:30:00Z"));
        assert_eq!(c[3].due_at, ts("2026-04-05T09:30:00Z"));
        // … and one month after its submission once it is.
        let mut f2 = f.clone();
        f2.completed
            .insert("nis2-notification".into(), ts("2026-03-04T12:00:00Z"));
        f2.completed
            .insert("nis2-early-warning".into(), ts("2026-03-03T11:00:00Z"));
        let c = evaluate(&rules, &f2, now);
        assert_eq!(c[1].status, ClockStatus::MetLate);
        assert_eq!(c[2].status, ClockStatus::Met);
        assert_eq!(c[3].due_at, ts("2026-04-04T12:00:00Z"));
    }

    #[test]
    fn hipaa_sixty_days_and_unflagged_incidents() {
        let rules = builtin_rules();
        let f = facts("2026-01-10T00:00:00Z", &["health_data"]);
        let c = evaluate(&rules, &f, ts("2026-01-10T00:00:00Z"));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].due_at, ts("2026-03-11T00:00:00Z"));
        assert!(
            evaluate(
                &rules,
                &facts("2026-01-10T00:00:00Z", &[]),
                ts("2026-02-01T00:00:00Z")
            )
            .is_empty()
        );
    }

    #[test]
    fn overdue_notifications_fire_once() {
        let rules = builtin_rules();
        let f = facts("2026-03-02T09:30:00Z", &["personal_data"]);
        let t = |s| ts(s);
        assert!(
            newly_overdue(
                &rules,
                &f,
                t("2026-03-05T09:00:00Z"),
                t("2026-03-05T09:29:00Z")
            )
            .is_empty()
        );
        let n = newly_overdue(
            &rules,
            &f,
            t("2026-03-05T09:29:00Z"),
            t("2026-03-05T09:31:00Z"),
        );
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].id, "gdpr-art33");
        assert!(
            newly_overdue(
                &rules,
                &f,
                t("2026-03-05T09:31:00Z"),
                t("2026-03-05T10:31:00Z")
            )
            .is_empty()
        );
    }
}
