//! The compact per-indicator context the live detector keeps beside the
//! [`MatchIndex`](crate::MatchIndex): what an alert needs to say about the
//! indicator that matched, and when the indicator is active — nothing more.
//! Full records (every provenance with its object id, markings, kill-chain
//! phases, sighting counts) live in the store.
//!
//! Per indicator: a 32-byte entry (type, confidence, TLP, active window, the
//! value's place in one shared string arena, a profile number) plus the
//! value's bytes. Feeds, techniques, related names and labels are kept once
//! per distinct combination (a *profile*): a feed's indicators usually share
//! one, so a million indicators from a handful of feeds cost a handful of
//! profiles.
//!
//! The active window folds validity and decay together: an indicator is
//! active from `valid_from` until the earlier of `valid_until` and the
//! moment its decay score falls below the model's threshold
//! ([`DecayModel::inactive_after`]); the detector checks the window on every
//! hit, so an indicator stops matching when it expires, without a rebuild.

use rustc_hash::FxHashMap;
use vigil_model::Timestamp;

use crate::decay::DecayModel;
use crate::indicator::{Indicator, IndicatorId, IndicatorType, Tlp};

/// Feeds, techniques, related names and labels shared by many indicators.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Profile {
    /// Source feeds, deduplicated, in order.
    pub feeds: Box<[Box<str>]>,
    /// ATT&CK technique ids.
    pub techniques: Box<[Box<str>]>,
    /// Related actors, malware, campaigns.
    pub related: Box<[Box<str>]>,
    /// Labels and tags.
    pub labels: Box<[Box<str>]>,
}

impl Profile {
    fn heap_bytes(&self) -> usize {
        let list =
            |l: &[Box<str>]| std::mem::size_of_val(l) + l.iter().map(|s| s.len()).sum::<usize>();
        list(&self.feeds) + list(&self.techniques) + list(&self.related) + list(&self.labels)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Active from (µs; `i64::MIN` = always).
    from: i64,
    /// Active until, exclusive (µs; `i64::MAX` = open-ended).
    until: i64,
    value_start: u32,
    value_len: u32,
    profile: u32,
    kind: IndicatorType,
    confidence: u8,
    tlp: Option<Tlp>,
}

/// One indicator's context, borrowed from [`Contexts`].
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Type.
    pub kind: IndicatorType,
    /// Normalised value.
    pub value: &'a str,
    /// 0–100.
    pub confidence: u8,
    /// Most restrictive TLP.
    pub tlp: Option<Tlp>,
    /// Feeds, techniques, related names, labels.
    pub profile: &'a Profile,
    /// Valid until (`None` = open-ended or past the decay horizon only).
    pub valid_until: Option<Timestamp>,
    from: i64,
    until: i64,
}

impl Context<'_> {
    /// True when the indicator is valid and not decayed at `now`.
    pub fn active_at(&self, now: Timestamp) -> bool {
        let t = now.as_micros();
        self.from <= t && t < self.until
    }

    /// When the indicator stops matching (`None` = never).
    pub fn active_until(&self) -> Option<Timestamp> {
        (self.until != i64::MAX).then(|| Timestamp::from_micros(self.until))
    }
}

/// Compact contexts, indexed by [`IndicatorId`] (the ids the matching
/// [`MatchIndex`](crate::MatchIndex) returns).
#[derive(Debug, Default)]
pub struct Contexts {
    values: String,
    entries: Vec<Entry>,
    /// `valid_until` of the entries that have one before the decay horizon
    /// (rare enough to keep apart: most feeds give none).
    valid_until: FxHashMap<u32, i64>,
    profiles: Vec<Profile>,
}

impl Contexts {
    /// The context of `id`.
    pub fn get(&self, id: IndicatorId) -> Option<Context<'_>> {
        let e = self.entries.get(id.0 as usize)?;
        let start = e.value_start as usize;
        let value = self.values.get(start..start + e.value_len as usize)?;
        Some(Context {
            kind: e.kind,
            value,
            confidence: e.confidence,
            tlp: e.tlp,
            profile: self.profiles.get(e.profile as usize)?,
            valid_until: self
                .valid_until
                .get(&id.0)
                .map(|u| Timestamp::from_micros(*u)),
            from: e.from,
            until: e.until,
        })
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of distinct profiles.
    pub fn profiles(&self) -> usize {
        self.profiles.len()
    }

    /// Heap bytes held (entries, the value arena, profiles, the
    /// `valid_until` side table).
    pub fn heap_bytes(&self) -> usize {
        let map = {
            let cap = self.valid_until.capacity();
            if cap == 0 {
                0
            } else {
                (cap * 8 / 7).next_power_of_two() * (std::mem::size_of::<(u32, i64)>() + 1) + 16
            }
        };
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.values.capacity()
            + self.profiles.capacity() * std::mem::size_of::<Profile>()
            + self.profiles.iter().map(Profile::heap_bytes).sum::<usize>()
            + map
    }
}

/// Why [`ContextsBuilder::push`] left an indicator out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// Past `valid_until`, or decayed below the threshold, at build time.
    Inactive,
    /// More than 4 GiB of values or 2³² indicators.
    Full,
}

/// Builds [`Contexts`]; profiles are deduplicated while building.
#[derive(Debug)]
pub struct ContextsBuilder {
    out: Contexts,
    dedup: FxHashMap<Profile, u32>,
    now: Timestamp,
    decay: Option<DecayModel>,
    asserted: FxHashMap<String, Timestamp>,
}

impl ContextsBuilder {
    /// A builder that leaves out indicators inactive at `now`; with
    /// `decay`, decayed indicators count as inactive (and the rest stop
    /// matching when they decay).
    pub fn new(now: Timestamp, decay: Option<DecayModel>) -> Self {
        Self {
            out: Contexts::default(),
            dedup: FxHashMap::default(),
            now,
            decay,
            asserted: FxHashMap::default(),
        }
    }

    /// When each feed last asserted its indicators (its last successful
    /// sync: a feed that still lists an indicator re-asserts it). Decay
    /// counts from the latest of these for the indicator's feeds and its
    /// own times, so what a live feed still lists never decays away.
    pub fn feed_assertions(&mut self, asserted: impl IntoIterator<Item = (String, Timestamp)>) {
        self.asserted.extend(asserted);
    }

    /// Adds `ind`; its id, or why it was left out.
    pub fn push(&mut self, ind: &Indicator) -> Result<IndicatorId, Skipped> {
        let from = ind.valid_from.map_or(i64::MIN, Timestamp::as_micros);
        let mut until = ind.valid_until.map_or(i64::MAX, Timestamp::as_micros);
        if let Some(model) = &self.decay {
            let asserted = ind
                .provenance
                .iter()
                .filter_map(|p| self.asserted.get(&p.feed).copied())
                .max();
            let since = DecayModel::since(ind).max(asserted);
            if let Some(t) = model.inactive_after_since(ind.kind, ind.confidence, since) {
                until = until.min(t.as_micros());
            }
        }
        if self.now.as_micros() >= until {
            return Err(Skipped::Inactive);
        }
        let id = u32::try_from(self.out.entries.len()).map_err(|_| Skipped::Full)?;
        let value_start = u32::try_from(self.out.values.len()).map_err(|_| Skipped::Full)?;
        let value_len = u32::try_from(ind.value.len()).map_err(|_| Skipped::Full)?;
        if value_start.checked_add(value_len).is_none() {
            return Err(Skipped::Full);
        }
        let list = |s: &mut dyn Iterator<Item = &String>| -> Box<[Box<str>]> {
            s.map(|v| Box::<str>::from(v.as_str())).collect()
        };
        let mut feeds: Vec<Box<str>> = Vec::new();
        for p in &ind.provenance {
            if !feeds.iter().any(|f| **f == *p.feed) {
                feeds.push(p.feed.as_str().into());
            }
        }
        let profile = Profile {
            feeds: feeds.into_boxed_slice(),
            techniques: list(&mut ind.techniques.iter()),
            related: list(&mut ind.related.iter()),
            labels: list(&mut ind.labels.iter()),
        };
        let next = u32::try_from(self.out.profiles.len()).map_err(|_| Skipped::Full)?;
        let profile = match self.dedup.get(&profile) {
            Some(p) => *p,
            None => {
                self.out.profiles.push(profile.clone());
                self.dedup.insert(profile, next);
                next
            }
        };
        self.out.values.push_str(&ind.value);
        if let Some(u) = ind.valid_until {
            self.out.valid_until.insert(id, u.as_micros());
        }
        self.out.entries.push(Entry {
            from,
            until,
            value_start,
            value_len,
            profile,
            kind: ind.kind,
            confidence: ind.confidence,
            tlp: ind.tlp,
        });
        Ok(IndicatorId(id))
    }

    /// The finished contexts, spare capacity released.
    pub fn finish(self) -> Contexts {
        let mut out = self.out;
        out.values.shrink_to_fit();
        out.entries.shrink_to_fit();
        out.profiles.shrink_to_fit();
        out.valid_until.shrink_to_fit();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(kind: IndicatorType, v: &str, feed: &str) -> Indicator {
        match Indicator::new(kind, v, feed, None) {
            Ok(i) => i,
            Err(e) => panic!("{v}: {e}"),
        }
    }

    #[test]
    fn keeps_context_and_shares_profiles() {
        let mut b = ContextsBuilder::new(Timestamp::from_secs(100), None);
        let mut a = ind(IndicatorType::Domain, "Evil.Example", "unit42");
        a.confidence = 90;
        a.tlp = Some(Tlp::Amber);
        a.techniques.insert("T1071.004".into());
        a.related.insert("BadRAT".into());
        let ia = b.push(&a).unwrap();
        let mut c = ind(IndicatorType::Ipv4, "10.0.0.1", "unit42");
        c.techniques.insert("T1071.004".into());
        c.related.insert("BadRAT".into());
        let ic = b.push(&c).unwrap();
        let d = ind(IndicatorType::Ipv4, "10.0.0.2", "abuse.ch");
        let id = b.push(&d).unwrap();
        let ctx = b.finish();
        assert_eq!(ctx.len(), 3);
        assert_eq!(ctx.profiles(), 2, "a and c share one profile");
        let x = ctx.get(ia).unwrap();
        assert_eq!(
            (x.kind, x.value, x.confidence),
            (IndicatorType::Domain, "evil.example", 90)
        );
        assert_eq!(x.tlp, Some(Tlp::Amber));
        assert_eq!(&*x.profile.feeds[0], "unit42");
        assert_eq!(&*x.profile.related[0], "BadRAT");
        assert_eq!(ctx.get(ic).unwrap().value, "10.0.0.1");
        assert_eq!(&*ctx.get(id).unwrap().profile.feeds[0], "abuse.ch");
        assert!(ctx.get(IndicatorId(3)).is_none());
        assert!(ctx.heap_bytes() > 0);
    }

    #[test]
    fn active_window_follows_validity() {
        let mut b = ContextsBuilder::new(Timestamp::from_secs(100), None);
        let mut expired = ind(IndicatorType::Ipv4, "10.0.0.1", "f");
        expired.valid_until = Some(Timestamp::from_secs(100));
        assert_eq!(b.push(&expired), Err(Skipped::Inactive));
        let mut later = ind(IndicatorType::Ipv4, "10.0.0.2", "f");
        later.valid_from = Some(Timestamp::from_secs(200));
        later.valid_until = Some(Timestamp::from_secs(300));
        let id = b.push(&later).unwrap();
        let ctx = b.finish();
        let c = ctx.get(id).unwrap();
        assert!(!c.active_at(Timestamp::from_secs(199)));
        assert!(c.active_at(Timestamp::from_secs(200)));
        assert!(c.active_at(Timestamp::from_secs(299)));
        assert!(!c.active_at(Timestamp::from_secs(300)));
        assert_eq!(c.valid_until, Some(Timestamp::from_secs(300)));
        assert_eq!(c.active_until(), Some(Timestamp::from_secs(300)));
    }

    #[test]
    fn decayed_indicators_stop_matching() {
        const DAY: i64 = 86_400;
        let model = DecayModel::default();
        let mut ip = ind(IndicatorType::Ipv4, "10.0.0.1", "f");
        ip.confidence = 80;
        ip.last_seen = Some(Timestamp::from_secs(0));
        // IPv4: lifetime 30 days, speed 3: score(t) = 80 (1 − (t/30)^(1/3))
        // ≥ 20 ⇔ t ≤ 30 · 0.75³ = 12.656 25 days.
        let mut b = ContextsBuilder::new(Timestamp::from_secs(DAY), Some(model.clone()));
        let id = b.push(&ip).unwrap();
        let ctx = b.finish();
        let c = ctx.get(id).unwrap();
        assert!(c.active_at(Timestamp::from_secs(12 * DAY)));
        assert!(!c.active_at(Timestamp::from_secs(13 * DAY)));
        for d in [1, 5, 12, 13, 20] {
            let now = Timestamp::from_secs(d * DAY);
            assert_eq!(c.active_at(now), model.is_active(&ip, now), "day {d}");
        }
        let mut late = ContextsBuilder::new(Timestamp::from_secs(13 * DAY), Some(model.clone()));
        assert_eq!(late.push(&ip), Err(Skipped::Inactive));
        // A feed that synced on day 20 still lists it: decay counts from
        // then (active until day 32.66).
        let mut fed = ContextsBuilder::new(Timestamp::from_secs(21 * DAY), Some(model));
        fed.feed_assertions([("f".to_string(), Timestamp::from_secs(20 * DAY))]);
        let id = fed.push(&ip).unwrap();
        let ctx = fed.finish();
        let c = ctx.get(id).unwrap();
        assert!(c.active_at(Timestamp::from_secs(32 * DAY)));
        assert!(!c.active_at(Timestamp::from_secs(33 * DAY)));
    }
}
