//! Indicator decay: a score that falls with the time since an indicator was
//! last asserted or seen, in the spirit of MISP's decaying model:
//!
//! ```text
//! score(t) = base × (1 − (t / lifetime)^(1 / speed))     for t < lifetime, else 0
//! base     = confidence (0–100);  t = now − max(last_seen, valid_from, first_seen)
//! ```
//!
//! Per type defaults (lifetime, speed): IP addresses 30 days, 3.0 (fast at
//! first: addresses are re-assigned); CIDRs 90 days, 1.0; domains and host
//! names 180 days, 1.0; URLs 90 days, 1.0; emails 365 days, 1.0; file hashes,
//! JA3/JA4 and CVEs never decay; file names, user agents and registry keys
//! 365 days, 0.5 (slow at first). An indicator without any time never
//! decays. Below [`DecayModel::threshold`] (default 20) it stops matching,
//! as it does past `valid_until`.

use serde::{Deserialize, Serialize};
use vigil_model::Timestamp;

use crate::indicator::{Indicator, IndicatorType};

/// Lifetime and speed of one type; `lifetime_days = 0` means no decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decay {
    /// Days until the score reaches 0; 0 disables decay.
    pub lifetime_days: u32,
    /// Shape: above 1 decays fast early, below 1 slow early.
    pub speed: f64,
}

/// The per-type decay model and the threshold below which indicators stop
/// matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecayModel {
    /// Score below which an indicator is inactive. By default, 20.
    pub threshold: f64,
    /// Per-type parameters, indexed like [`IndicatorType::ALL`].
    pub per_type: Vec<(IndicatorType, Decay)>,
}

impl Default for DecayModel {
    fn default() -> Self {
        use IndicatorType as T;
        let d = |lifetime_days, speed| Decay {
            lifetime_days,
            speed,
        };
        let per_type = T::ALL
            .into_iter()
            .map(|t| {
                let p = match t {
                    T::Ipv4 | T::Ipv6 => d(30, 3.0),
                    T::Ipv4Cidr | T::Ipv6Cidr => d(90, 1.0),
                    T::Domain | T::Hostname => d(180, 1.0),
                    T::Url => d(90, 1.0),
                    T::Email => d(365, 1.0),
                    T::Md5 | T::Sha1 | T::Sha256 | T::Sha512 | T::Ja3 | T::Ja4 | T::Cve => {
                        d(0, 1.0)
                    }
                    _ => d(365, 0.5),
                };
                (t, p)
            })
            .collect();
        Self {
            threshold: 20.0,
            per_type,
        }
    }
}

const DAY_US: f64 = 86_400.0 * 1e6;

impl DecayModel {
    fn params(&self, kind: IndicatorType) -> Decay {
        self.per_type.iter().find(|(t, _)| *t == kind).map_or(
            Decay {
                lifetime_days: 0,
                speed: 1.0,
            },
            |(_, d)| *d,
        )
    }

    /// The indicator's score at `now` (0–100).
    pub fn score(&self, ind: &Indicator, now: Timestamp) -> f64 {
        let base = f64::from(ind.confidence);
        let p = self.params(ind.kind);
        let Some(since) = Self::since(ind) else {
            return base;
        };
        if p.lifetime_days == 0 || p.speed <= 0.0 {
            return base;
        }
        let t = (now.as_micros().saturating_sub(since.as_micros())).max(0) as f64 / DAY_US;
        let life = f64::from(p.lifetime_days);
        if t >= life {
            return 0.0;
        }
        base * (1.0 - (t / life).powf(1.0 / p.speed))
    }

    /// When the indicator's score falls below the threshold, whatever
    /// `now` is (`None`: it never does). See [`inactive_after_since`](Self::inactive_after_since).
    pub fn inactive_after(&self, ind: &Indicator) -> Option<Timestamp> {
        self.inactive_after_since(ind.kind, ind.confidence, Self::since(ind))
    }

    /// The time decay counts from: the latest of last seen, valid from and
    /// first seen.
    pub fn since(ind: &Indicator) -> Option<Timestamp> {
        [ind.last_seen, ind.valid_from, ind.first_seen]
            .into_iter()
            .flatten()
            .max()
    }

    /// When an indicator of `kind` with `confidence`, last asserted or seen
    /// at `since`, scores below the threshold (`None`: never — no time, a
    /// type that does not decay, threshold 0). The score is monotone in
    /// time, so the moment is exact: `base (1 − (t / life)^(1/speed)) ≥
    /// threshold ⇔ t ≤ life (1 − threshold / base)^speed`. Confidence
    /// already below the threshold is inactive from the start
    /// (`Some(MIN)`).
    pub fn inactive_after_since(
        &self,
        kind: IndicatorType,
        confidence: u8,
        since: Option<Timestamp>,
    ) -> Option<Timestamp> {
        let base = f64::from(confidence);
        if self.threshold <= 0.0 {
            return None;
        }
        if base < self.threshold {
            return Some(Timestamp::from_micros(i64::MIN));
        }
        let p = self.params(kind);
        if p.lifetime_days == 0 || p.speed <= 0.0 {
            return None;
        }
        let since = since?;
        let horizon_days =
            f64::from(p.lifetime_days) * (1.0 - self.threshold / base).max(0.0).powf(p.speed);
        // Active while t ≤ horizon: the first inactive microsecond is
        // one past it.
        let horizon_us = (horizon_days * DAY_US).floor() as i64;
        Some(Timestamp::from_micros(
            since
                .as_micros()
                .saturating_add(horizon_us)
                .saturating_add(1),
        ))
    }

    /// Valid at `now` and scoring at least the threshold.
    pub fn is_active(&self, ind: &Indicator, now: Timestamp) -> bool {
        ind.is_valid_at(now) && self.score(ind, now) >= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        let m = DecayModel::default();
        let day = |d: i64| Timestamp::from_secs(d * 86_400);
        let mut ip = Indicator::new(IndicatorType::Ipv4, "198.51.100.1", "t", None).unwrap();
        ip.confidence = 80;
        ip.last_seen = Some(day(100));
        assert_eq!(m.score(&ip, day(100)), 80.0);
        let s10 = m.score(&ip, day(110));
        assert!(s10 > 0.0 && s10 < 40.0, "{s10}");
        assert_eq!(m.score(&ip, day(131)), 0.0);
        assert!(m.is_active(&ip, day(101)) && !m.is_active(&ip, day(125)));
        let mut h = Indicator::new(IndicatorType::Md5, &"a".repeat(32), "t", None).unwrap();
        h.last_seen = Some(day(0));
        assert_eq!(m.score(&h, day(10_000)), 50.0);
        h.valid_until = Some(day(5));
        assert!(!m.is_active(&h, day(6)));
    }
}
