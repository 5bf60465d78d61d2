//! MISP: event JSON (attributes and objects, `to_ids`, tags including
//! `tlp:*`, galaxies → ATT&CK technique ids and related actors/tools) and
//! the MISP feed layout (`manifest.json`, `<uuid>.json`, `hashes.csv`), all
//! as functions over bytes the caller fetched.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_model::Timestamp;

use crate::indicator::{Indicator, IndicatorType, Tlp};
use crate::report::ImportReport;
use crate::stix::ImportOptions;
use crate::{Error, Result};

/// The event-level facts of one MISP event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MispEvent {
    /// Event uuid.
    pub uuid: String,
    /// `info` (the title).
    pub info: String,
    /// `date`.
    pub date: Option<String>,
    /// `timestamp` (last change, epoch seconds).
    pub timestamp: Option<i64>,
    /// `threat_level_id` (1 high … 4 undefined).
    pub threat_level: Option<u8>,
    /// Event TLP.
    pub tlp: Option<Tlp>,
    /// Tags that are neither TLP nor galaxies.
    pub tags: BTreeSet<String>,
    /// ATT&CK technique ids from galaxies and galaxy tags.
    pub techniques: BTreeSet<String>,
    /// Related actors, tools and malware from galaxies.
    pub related: BTreeSet<String>,
    /// Attributes read (including those inside objects).
    pub attributes: usize,
}

/// What [`parse_events`] read.
#[derive(Debug, Default)]
pub struct MispImport {
    /// Events.
    pub events: Vec<MispEvent>,
    /// Indicators from `to_ids` attributes of indicator types.
    pub indicators: Vec<Indicator>,
    /// Counts and rejected attributes.
    pub report: ImportReport,
}

/// Indicator types of a MISP attribute type: for each, the type and which
/// `|`-separated part of the value holds it.
fn attr_types(t: &str) -> &'static [(IndicatorType, usize)] {
    use IndicatorType as T;
    match t {
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" => &[(T::Ipv4, 0)],
        "domain" => &[(T::Domain, 0)],
        "hostname" | "hostname|port" => &[(T::Hostname, 0)],
        "domain|ip" => &[(T::Domain, 0), (T::Ipv4, 1)],
        "url" => &[(T::Url, 0)],
        "email" | "email-src" | "email-dst" | "email-reply-to" => &[(T::Email, 0)],
        "md5" => &[(T::Md5, 0)],
        "sha1" => &[(T::Sha1, 0)],
        "sha256" => &[(T::Sha256, 0)],
        "sha512" => &[(T::Sha512, 0)],
        "filename|md5" | "malware-sample" => &[(T::Md5, 1)],
        "filename|sha1" => &[(T::Sha1, 1)],
        "filename|sha256" => &[(T::Sha256, 1)],
        "filename|sha512" => &[(T::Sha512, 1)],
        "filename" => &[(T::FileName, 0)],
        "user-agent" => &[(T::UserAgent, 0)],
        "ja3-fingerprint-md5" => &[(T::Ja3, 0)],
        "regkey" | "regkey|value" => &[(T::RegistryKey, 0)],
        "vulnerability" => &[(T::Cve, 0)],
        _ => &[],
    }
}

/// `T1059` / `T1059.001` inside a string.
fn technique_id(s: &str) -> Option<String> {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'T' && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            let d = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if d == 4 {
                let mut end = i + 5;
                if b.get(end) == Some(&b'.')
                    && b[end + 1..]
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .count()
                        == 3
                {
                    end += 4;
                }
                if b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                    return s.get(i..end).map(str::to_string);
                }
            }
        }
    }
    None
}

const RELATED_GALAXIES: &[&str] = &[
    "threat-actor",
    "mitre-intrusion-set",
    "mitre-malware",
    "mitre-tool",
    "tool",
    "rat",
    "backdoor",
    "banker",
    "botnet",
    "malpedia",
    "ransomware",
    "stealer",
    "exploit-kit",
];

#[derive(Default, Clone)]
struct TagCtx {
    tlp: Option<Tlp>,
    labels: BTreeSet<String>,
    techniques: BTreeSet<String>,
    related: BTreeSet<String>,
}

impl TagCtx {
    fn tags(&mut self, v: Option<&Value>) {
        for t in v.and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = t.get("name").and_then(Value::as_str) else {
                continue;
            };
            self.tag(name);
        }
    }

    fn tag(&mut self, name: &str) {
        if let Some(t) = name.strip_prefix("tlp:").and_then(|_| Tlp::parse(name)) {
            self.tlp = Some(self.tlp.map_or(t, |x| x.max(t)));
        } else if let Some(rest) = name.strip_prefix("misp-galaxy:") {
            let (galaxy, value) = rest.split_once('=').unwrap_or((rest, ""));
            let value = value.trim_matches('"');
            if galaxy.contains("attack-pattern") {
                if let Some(t) = technique_id(value) {
                    self.techniques.insert(t);
                }
            } else if RELATED_GALAXIES.contains(&galaxy) && !value.is_empty() {
                self.related.insert(value.to_string());
            } else {
                self.labels.insert(name.to_string());
            }
        } else if !name.is_empty() {
            self.labels.insert(name.to_string());
        }
    }

    fn galaxies(&mut self, v: Option<&Value>) {
        for g in v.and_then(Value::as_array).into_iter().flatten() {
            let gtype = g.get("type").and_then(Value::as_str).unwrap_or("");
            for c in g
                .get("GalaxyCluster")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let value = c.get("value").and_then(Value::as_str).unwrap_or("");
                if gtype.contains("attack-pattern") {
                    let ext = c
                        .get("meta")
                        .and_then(|m| m.get("external_id"))
                        .and_then(Value::as_array)
                        .and_then(|a| a.iter().filter_map(Value::as_str).find_map(technique_id));
                    if let Some(t) = ext.or_else(|| technique_id(value)) {
                        self.techniques.insert(t);
                    }
                } else if RELATED_GALAXIES.contains(&gtype) && !value.is_empty() {
                    self.related.insert(value.to_string());
                }
            }
        }
    }
}

/// The events of a MISP document: `{"Event": …}`, `{"response": [{"Event":
/// …}, …]}`, a bare array of those, or a bare event object.
fn events_of(doc: &Value) -> Vec<&Value> {
    match doc {
        Value::Array(a) => a.iter().flat_map(events_of).collect(),
        Value::Object(m) => {
            if let Some(e) = m.get("Event") {
                vec![e]
            } else if let Some(r) = m.get("response") {
                events_of(r)
            } else if m.contains_key("Attribute") || m.contains_key("info") {
                vec![doc]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

fn epoch(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn ts(v: Option<&Value>) -> Option<Timestamp> {
    v.and_then(Value::as_str).and_then(Timestamp::parse_rfc3339)
}

/// Reads MISP event JSON (gzip or not). `source` names the feed in
/// provenance and errors. A document that is not JSON is an error; a bad
/// attribute is reported with its uuid and the rest are imported.
pub fn parse_events(bytes: &[u8], source: &str, opts: &ImportOptions) -> Result<MispImport> {
    let data = crate::decode_input(bytes, opts.max_bytes)?;
    let doc: Value = serde_json::from_slice(&data).map_err(|e| Error::json("MISP event", &e))?;
    let events = events_of(&doc);
    if events.is_empty() {
        return Err(Error::shape("MISP event", "no `Event` found"));
    }
    let mut out = MispImport::default();
    for e in events {
        let uuid = e
            .get("uuid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut ctx = TagCtx::default();
        ctx.tags(e.get("Tag"));
        ctx.galaxies(e.get("Galaxy"));
        let date = e.get("date").and_then(Value::as_str).map(str::to_string);
        let event_seen = date
            .as_deref()
            .and_then(|d| Timestamp::parse_rfc3339(&format!("{d}T00:00:00Z")));
        let mut ev = MispEvent {
            uuid: uuid.clone(),
            info: e
                .get("info")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            date,
            timestamp: epoch(e.get("timestamp")),
            threat_level: epoch(e.get("threat_level_id")).and_then(|x| u8::try_from(x).ok()),
            tlp: ctx.tlp,
            tags: ctx.labels.clone(),
            techniques: ctx.techniques.clone(),
            related: ctx.related.clone(),
            attributes: 0,
        };
        out.report.count_object("misp-event");
        let mut attrs: Vec<(&Value, Option<&str>)> = Vec::new();
        for a in e
            .get("Attribute")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            attrs.push((a, None));
        }
        for o in e
            .get("Object")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.report.count_object("misp-object");
            let oname = o.get("name").and_then(Value::as_str);
            for a in o
                .get("Attribute")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                attrs.push((a, oname));
            }
        }
        for (a, _object) in attrs {
            ev.attributes += 1;
            out.report.count_object("misp-attribute");
            let aid = a.get("uuid").and_then(Value::as_str).map_or_else(
                || format!("{uuid}/attribute[{}]", ev.attributes - 1),
                str::to_string,
            );
            if a.get("deleted").and_then(Value::as_bool).unwrap_or(false) {
                out.report.skipped += 1;
                continue;
            }
            let (Some(atype), Some(value)) = (
                a.get("type").and_then(Value::as_str),
                a.get("value").and_then(Value::as_str),
            ) else {
                out.report
                    .error(source, aid, "attribute without `type` or `value`");
                continue;
            };
            let to_ids = match a.get("to_ids") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s == "1" || s == "true",
                Some(Value::Number(n)) => n.as_u64() == Some(1),
                _ => false,
            };
            let kinds = attr_types(atype);
            if kinds.is_empty() || !(to_ids || opts.include_non_ids) {
                out.report.skipped += 1;
                continue;
            }
            let mut actx = ctx.clone();
            actx.tags(a.get("Tag"));
            actx.galaxies(a.get("Galaxy"));
            let parts: Vec<&str> = value.split('|').collect();
            for (kind, part) in kinds {
                let Some(raw) = parts.get(*part) else {
                    out.report.error(
                        source,
                        aid.clone(),
                        format!("{atype} value without part {part}"),
                    );
                    continue;
                };
                let mut ind = match Indicator::new(*kind, raw, source, Some(&aid)) {
                    Ok(i) => i,
                    Err(err) => {
                        out.report.error(source, aid.clone(), err.to_string());
                        continue;
                    }
                };
                ind.confidence = opts.default_confidence;
                ind.tlp = actx.tlp.or(opts.default_tlp);
                ind.labels = actx.labels.clone();
                ind.techniques = actx.techniques.clone();
                ind.related = actx.related.clone();
                ind.first_seen = ts(a.get("first_seen")).or(event_seen);
                ind.last_seen = ts(a.get("last_seen"))
                    .or_else(|| epoch(a.get("timestamp")).map(Timestamp::from_secs));
                out.report.count_indicator(ind.kind);
                out.indicators.push(ind);
            }
        }
        out.events.push(ev);
    }
    Ok(out)
}

/// One entry of a MISP feed's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Event uuid (the feed file is `<uuid>.json`).
    pub uuid: String,
    /// `info`.
    pub info: String,
    /// `timestamp` (epoch seconds of the last change).
    pub timestamp: Option<i64>,
    /// Tag names.
    pub tags: Vec<String>,
}

impl ManifestEntry {
    /// The event file's name relative to the feed root.
    pub fn file_name(&self) -> String {
        format!("{}.json", self.uuid)
    }
}

/// Parses a feed's `manifest.json` (`{uuid: {info, timestamp, Tag, …}}`),
/// sorted by uuid. Entries whose key is not a uuid are reported and skipped.
pub fn parse_manifest(bytes: &[u8]) -> Result<(Vec<ManifestEntry>, ImportReport)> {
    let data = crate::decode_input(bytes, crate::DEFAULT_MAX_DECOMPRESSED)?;
    let doc: Value = serde_json::from_slice(&data).map_err(|e| Error::json("MISP manifest", &e))?;
    let Value::Object(m) = doc else {
        return Err(Error::shape("MISP manifest", "not an object"));
    };
    let mut report = ImportReport::default();
    let mut out = Vec::new();
    for (k, v) in m {
        if k.len() != 36 || !k.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-') {
            report.error("manifest.json", k, "key is not an event uuid");
            continue;
        }
        report.count_object("misp-manifest-entry");
        out.push(ManifestEntry {
            info: v
                .get("info")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            timestamp: epoch(v.get("timestamp")),
            tags: v
                .get("Tag")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.get("name").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            uuid: k,
        });
    }
    out.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    Ok((out, report))
}

/// The manifest entries newer than what was synced before: `known` gives
/// the timestamp last imported for an event uuid.
pub fn events_to_fetch(
    manifest: &[ManifestEntry],
    known: impl Fn(&str) -> Option<i64>,
) -> Vec<&ManifestEntry> {
    manifest
        .iter()
        .filter(|e| match (known(&e.uuid), e.timestamp) {
            (Some(k), Some(t)) => t > k,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .collect()
}

/// Parses a feed's `hashes.csv`: `<md5 of value>,<event uuid>` per line.
/// Malformed lines are reported with their line number.
pub fn parse_hashes_csv(bytes: &[u8]) -> Result<(Vec<(String, String)>, ImportReport)> {
    let data = crate::decode_input(bytes, crate::DEFAULT_MAX_DECOMPRESSED)?;
    let text = String::from_utf8_lossy(&data);
    let mut report = ImportReport::default();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(',') {
            Some((h, u)) if h.len() == 32 && h.bytes().all(|c| c.is_ascii_hexdigit()) => {
                report.count_object("misp-hash");
                out.push((
                    h.to_ascii_lowercase(),
                    u.trim().trim_matches('"').to_string(),
                ));
            }
            _ => report.error(
                "hashes.csv",
                format!("line {}", i + 1),
                "expected `md5,uuid`",
            ),
        }
    }
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"response":[{"Event":{"uuid":"5b2a1e5c-0000-4000-8000-000000000001","info":"Test campaign","date":"2024-03-01",
      "timestamp":"1709251200","threat_level_id":"1",
      "Tag":[{"name":"tlp:amber"},{"name":"ESET"},{"name":"misp-galaxy:mitre-attack-pattern=\"Malware - T1587.001\""}],
      "Galaxy":[{"type":"threat-actor","GalaxyCluster":[{"value":"Sednit"}]},
                {"type":"mitre-attack-pattern","GalaxyCluster":[{"value":"Phishing - T1566","meta":{"external_id":["T1566"]}}]}],
      "Attribute":[
        {"uuid":"a1","type":"ip-dst","value":"203.0.113.5","to_ids":true},
        {"uuid":"a2","type":"domain|ip","value":"evil.example|198.51.100.1","to_ids":true},
        {"uuid":"a3","type":"filename|sha256","value":"x.exe|9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","to_ids":true,
         "Tag":[{"name":"tlp:red"}]},
        {"uuid":"a4","type":"comment","value":"hello","to_ids":false},
        {"uuid":"a5","type":"md5","value":"zz","to_ids":true},
        {"uuid":"a6","type":"ip-src","value":"192.0.2.1","to_ids":false}],
      "Object":[{"name":"domain-ip","Attribute":[{"uuid":"o1","type":"hostname","value":"c2.evil.example","to_ids":true}]}]}}]}"#;

    #[test]
    fn event() {
        let imp = parse_events(EVENT.as_bytes(), "eset", &ImportOptions::default()).unwrap();
        let got: Vec<String> = imp
            .indicators
            .iter()
            .map(|i| format!("{}:{} {:?} {:?}", i.kind, i.value, i.tlp, i.techniques))
            .collect();
        assert_eq!(
            got,
            [
                "ipv4:203.0.113.5 Some(Amber) {\"T1566\", \"T1587.001\"}",
                "domain:evil.example Some(Amber) {\"T1566\", \"T1587.001\"}",
                "ipv4:198.51.100.1 Some(Amber) {\"T1566\", \"T1587.001\"}",
                "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 Some(Red) {\"T1566\", \"T1587.001\"}",
                "hostname:c2.evil.example Some(Amber) {\"T1566\", \"T1587.001\"}",
            ]
        );
        assert!(imp.indicators[0].related.contains("Sednit"));
        assert_eq!(imp.report.errors.len(), 1);
        assert_eq!(imp.report.errors[0].id, "a5");
        assert_eq!(imp.report.skipped, 2);
        let ev = &imp.events[0];
        assert_eq!(
            (ev.attributes, ev.tlp, ev.threat_level),
            (7, Some(Tlp::Amber), Some(1))
        );
        assert!(ev.tags.contains("ESET"));
        let all = parse_events(
            EVENT.as_bytes(),
            "eset",
            &ImportOptions {
                include_non_ids: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(all.indicators.len(), 6);
        assert!(parse_events(b"{\"a\":", "x", &ImportOptions::default()).is_err());
    }

    #[test]
    fn feed_layout() {
        let (m, r) = parse_manifest(br#"{"5b2a1e5c-0000-4000-8000-000000000002":{"info":"b","timestamp":"20","Tag":[{"name":"tlp:white"}]},
            "5b2a1e5c-0000-4000-8000-000000000001":{"info":"a","timestamp":"10"},"junk":{}}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].file_name(),
            "5b2a1e5c-0000-4000-8000-000000000001.json"
        );
        assert_eq!(r.errors[0].id, "junk");
        let fetch = events_to_fetch(&m, |u| (u.ends_with('1')).then_some(10));
        assert_eq!(fetch.len(), 1);
        let (h, r) = parse_hashes_csv(
            b"0123456789abcdef0123456789ABCDEF,5b2a1e5c-0000-4000-8000-000000000001\nbad\n",
        )
        .unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(r.errors[0].id, "line 2");
        assert_eq!(technique_id("Foo - T1059.001"), Some("T1059.001".into()));
        assert_eq!(technique_id("XT1059"), None);
    }
}
