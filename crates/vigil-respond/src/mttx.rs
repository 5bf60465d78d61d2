//! Response-time metrics: MTTD, MTTA, MTTC and MTTR per severity and period.
//!
//! | metric | from | to | over |
//! |---|---|---|---|
//! | MTTD (detect) | the triggering event's time | the alert's creation | alerts |
//! | MTTA (acknowledge) | the alert's creation | its first triage change away from `new` | alerts |
//! | MTTC (contain) | the incident's creation | the first move past containment | incidents |
//! | MTTR (resolve) | the incident's creation | its closing | incidents |
//!
//! Each sample falls in the period of its start time (UTC day, ISO week
//! starting Monday, or calendar month). Samples still open at the end of the
//! report are counted as `open`, not averaged. Mean, median and 90th
//! percentile (nearest rank) are in whole seconds.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use vigil_model::Timestamp;

use crate::{Error, Result};

/// Which metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Metric {
    /// Mean time to detect.
    #[serde(rename = "mttd")]
    Detect,
    /// Mean time to acknowledge.
    #[serde(rename = "mtta")]
    Acknowledge,
    /// Mean time to contain.
    #[serde(rename = "mttc")]
    Contain,
    /// Mean time to resolve.
    #[serde(rename = "mttr")]
    Resolve,
}

impl Metric {
    /// `mttd`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detect => "mttd",
            Self::Acknowledge => "mtta",
            Self::Contain => "mttc",
            Self::Resolve => "mttr",
        }
    }
}

/// Report bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// UTC day.
    Day,
    /// ISO week (Monday).
    Week,
    /// Calendar month.
    Month,
    /// Everything in one bucket.
    All,
}

impl std::str::FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Ok(Self::Day),
            "week" | "weekly" => Ok(Self::Week),
            "month" | "monthly" => Ok(Self::Month),
            "all" => Ok(Self::All),
            _ => Err(Error::Config(format!(
                "unknown period {s:?}; one of day, week, month, all"
            ))),
        }
    }
}

/// One measured interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Metric.
    pub metric: Metric,
    /// Severity of the alert or incident (`high`, …).
    pub severity: String,
    /// Start of the interval.
    pub start: Timestamp,
    /// End; `None` while open.
    pub end: Option<Timestamp>,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// Metric.
    pub metric: Metric,
    /// Severity.
    pub severity: String,
    /// First day of the period (`YYYY-MM-DD`), or `all`.
    pub period: String,
    /// Closed samples.
    pub count: usize,
    /// Samples still open.
    pub open: usize,
    /// Mean seconds (`None` without closed samples).
    pub mean_secs: Option<i64>,
    /// Median seconds.
    pub median_secs: Option<i64>,
    /// 90th percentile seconds (nearest rank).
    pub p90_secs: Option<i64>,
}

fn period_key(t: Timestamp, p: Period) -> String {
    let Some(d) = t.to_datetime() else {
        return "invalid".into();
    };
    let day = d.date_naive();
    let start = match p {
        Period::All => return "all".into(),
        Period::Day => day,
        Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Period::Month => NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap_or(day),
    };
    start.format("%Y-%m-%d").to_string()
}

/// Aggregates samples into rows ordered by metric, severity, period.
/// Negative intervals (clock skew: an event stamped after its alert) count
/// as zero.
pub fn report(samples: &[Sample], period: Period) -> Vec<Row> {
    let mut groups: BTreeMap<(Metric, String, String), (Vec<i64>, usize)> = BTreeMap::new();
    for s in samples {
        let g = groups
            .entry((s.metric, s.severity.clone(), period_key(s.start, period)))
            .or_default();
        match s.end {
            Some(end) => {
                g.0.push((end.as_micros().saturating_sub(s.start.as_micros())).max(0) / 1_000_000)
            }
            None => g.1 += 1,
        }
    }
    groups
        .into_iter()
        .map(|((metric, severity, period), (mut v, open))| {
            v.sort_unstable();
            let n = v.len();
            let mean = (n > 0).then(|| {
                let sum: i128 = v.iter().map(|x| i128::from(*x)).sum();
                (sum / n as i128) as i64
            });
            let median = (n > 0).then(|| {
                if n % 2 == 1 {
                    v[n / 2]
                } else {
                    (v[n / 2 - 1] + v[n / 2]) / 2
                }
            });
            let p90 = (n > 0).then(|| v[(n * 9).div_ceil(10).saturating_sub(1)]);
            Row {
                metric,
                severity,
                period,
                count: n,
                open,
                mean_secs: mean,
                median_secs: median,
                p90_secs: p90,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    fn s(metric: Metric, sev: &str, start: &str, secs: Option<i64>) -> Sample {
        let start = ts(start);
        Sample {
            metric,
            severity: sev.into(),
            start,
            end: secs.map(|x| start.add_micros(x * 1_000_000)),
        }
    }

    #[test]
    fn known_answers_by_week() {
        use Metric::*;
        let samples = vec![
            // Week of Monday 2026-03-02.
            s(Detect, "high", "2026-03-02T10:00:00Z", Some(30)),
            s(Detect, "high", "2026-03-04T10:00:00Z", Some(90)),
            s(Detect, "high", "2026-03-08T23:59:59Z", Some(60)),
            // Next week.
            s(Detect, "high", "2026-03-09T00:00:00Z", Some(10)),
            s(Acknowledge, "high", "2026-03-02T10:00:30Z", Some(600)),
            s(Acknowledge, "high", "2026-03-03T10:00:30Z", None),
            s(Resolve, "critical", "2026-03-05T00:00:00Z", Some(86_400)),
            s(
                Resolve,
                "critical",
                "2026-03-05T00:00:00Z",
                Some(3 * 86_400),
            ),
            // Clock skew counts as zero.
            s(Detect, "low", "2026-03-02T10:00:00Z", Some(-5)),
        ];
        let rows = report(&samples, Period::Week);
        let find = |m: Metric, sev: &str, p: &str| {
            rows.iter()
                .find(|r| r.metric == m && r.severity == sev && r.period == p)
                .cloned()
                .unwrap()
        };
        let d = find(Detect, "high", "2026-03-02");
        assert_eq!(
            (d.count, d.mean_secs, d.median_secs, d.p90_secs),
            (3, Some(60), Some(60), Some(90))
        );
        assert_eq!(find(Detect, "high", "2026-03-09").mean_secs, Some(10));
        let a = find(Acknowledge, "high", "2026-03-02");
        assert_eq!((a.count, a.open, a.mean_secs), (1, 1, Some(600)));
        let r = find(Resolve, "critical", "2026-03-02");
        assert_eq!((r.mean_secs, r.median_secs), (Some(172_800), Some(172_800)));
        assert_eq!(find(Detect, "low", "2026-03-02").mean_secs, Some(0));
        assert_eq!(rows.len(), 5);
    }

    #[test]
    fn months_days_and_all() {
        let samples = vec![
            s(
                Metric::Contain,
                "medium",
                "2026-02-28T23:00:00Z",
                Some(7200),
            ),
            s(
                Metric::Contain,
                "medium",
                "2026-03-01T01:00:00Z",
                Some(3600),
            ),
        ];
        let m = report(&samples, Period::Month);
        assert_eq!(
            m.iter().map(|r| r.period.as_str()).collect::<Vec<_>>(),
            ["2026-02-01", "2026-03-01"]
        );
        let d = report(&samples, Period::Day);
        assert_eq!(d[0].period, "2026-02-28");
        let all = report(&samples, Period::All);
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].count, all[0].mean_secs, all[0].median_secs),
            (2, Some(5400), Some(5400))
        );
        assert!("fortnight".parse::<Period>().is_err());
    }
}
