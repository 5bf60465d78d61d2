//! MISP galaxy cluster files (`clusters/threat-actor.json`,
//! `mitre-intrusion-set.json`, `country.json`, …; gzip or not): each
//! cluster's value, synonyms and the meta the threat register reads —
//! victim countries (`cfr-suspected-victims`), target categories
//! (`cfr-target-category`, `targeted-sector`), the origin country, ATT&CK
//! group ids (in `synonyms`, `name-attribution`, `external_id`), `similar`
//! relations, and for countries their ISO code and continent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result};

/// One galaxy cluster, reduced to what the register uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// The galaxy's `type` (`threat-actor`, `mitre-intrusion-set`,
    /// `country`, …).
    pub galaxy: String,
    /// Cluster UUID.
    pub uuid: String,
    /// Its name.
    pub value: String,
    /// Description.
    pub description: Option<String>,
    /// `synonyms` (aliases).
    pub synonyms: Vec<String>,
    /// Origin or sponsor country (`country`, `cfr-suspected-state-sponsor`).
    pub origin: Option<String>,
    /// Countries or regions it targeted (`cfr-suspected-victims`,
    /// `suspected-victims`).
    pub victims: Vec<String>,
    /// Sectors it targeted (`cfr-target-category`, `targeted-sector`).
    pub sectors: Vec<String>,
    /// ATT&CK group ids it names (`G0007`).
    pub attack_ids: Vec<String>,
    /// UUIDs of clusters it is `similar` to (or `same-as`).
    pub similar: Vec<String>,
    /// Incident type or motive (`Espionage`, `Financial gain`).
    pub motive: Option<String>,
    /// Active since (`since`), as written.
    pub since: Option<String>,
    /// Countries: ISO 3166 alpha-2.
    pub iso: Option<String>,
    /// Countries: continent code.
    pub continent: Option<String>,
}

/// Largest accepted file after decompression.
const MAX_BYTES: usize = 256 << 20;

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

fn is_group_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5 && b[0] == b'G' && b[1..].iter().all(u8::is_ascii_digit)
}

/// Parses one cluster file. Entries without a `value` or `uuid` are
/// skipped and counted in the second element.
pub fn parse_clusters(bytes: &[u8], source: &str) -> Result<(Vec<Cluster>, usize)> {
    let err = |reason: String| Error::Galaxy {
        source_name: source.to_string(),
        reason,
    };
    let bytes = vigil_intel::decode_input(bytes, MAX_BYTES).map_err(|e| err(e.to_string()))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| err(e.to_string()))?;
    let galaxy = doc
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| err("no galaxy `type`".into()))?
        .to_string();
    let values = doc
        .get("values")
        .and_then(Value::as_array)
        .ok_or_else(|| err("no `values` array".into()))?;
    let mut out = Vec::with_capacity(values.len());
    let mut skipped = 0;
    for v in values {
        let (Some(value), Some(uuid)) = (
            v.get("value").and_then(Value::as_str),
            v.get("uuid").and_then(Value::as_str),
        ) else {
            skipped += 1;
            continue;
        };
        let meta = v.get("meta").cloned().unwrap_or(Value::Null);
        let m = |k: &str| meta.get(k);
        let synonyms = strings(m("synonyms"));
        let mut attack_ids: Vec<String> = synonyms
            .iter()
            .cloned()
            .chain(
                strings(m("name-attribution"))
                    .into_iter()
                    .map(|s| s.split(':').next().unwrap_or_default().to_string()),
            )
            .chain(strings(m("external_id")))
            .filter(|s| is_group_id(s))
            .collect();
        attack_ids.sort();
        attack_ids.dedup();
        let mut victims = strings(m("cfr-suspected-victims"));
        victims.extend(strings(m("suspected-victims")));
        let mut sectors = strings(m("cfr-target-category"));
        sectors.extend(strings(m("targeted-sector")));
        let similar = v
            .get("related")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|r| {
                        matches!(
                            r.get("type").and_then(Value::as_str),
                            Some("similar" | "same-as")
                        )
                    })
                    .filter_map(|r| r.get("dest-uuid").and_then(Value::as_str))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let first = |k: &str| strings(m(k)).into_iter().next();
        out.push(Cluster {
            galaxy: galaxy.clone(),
            uuid: uuid.to_string(),
            value: value.trim().to_string(),
            description: v
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
            synonyms,
            origin: first("country").or_else(|| first("cfr-suspected-state-sponsor")),
            victims,
            sectors,
            attack_ids,
            similar,
            motive: first("cfr-type-of-incident").or_else(|| first("motive")),
            since: first("since"),
            iso: first("ISO"),
            continent: first("Continent"),
        });
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threat_actor_meta() {
        let f = br#"{"type":"threat-actor","values":[
          {"value":"Sofacy","uuid":"u1","meta":{"synonyms":["APT28","Fancy Bear","G0007"],
            "country":"RU","cfr-suspected-victims":["Germany","Europe"],
            "cfr-target-category":["Government","Private sector"],"targeted-sector":["Finance"],
            "name-attribution":["G0007:abc"]},
           "related":[{"dest-uuid":"bef4c620-0787-42a8-a96d-b7eb6e85917c","type":"similar"},
                      {"dest-uuid":"x","type":"uses"}]},
          {"uuid":"no-value"}]}"#;
        let (c, skipped) = parse_clusters(f, "t").unwrap_or_default();
        assert_eq!(skipped, 1);
        let a = &c[0];
        assert_eq!(a.attack_ids, ["G0007"]);
        assert_eq!(a.victims, ["Germany", "Europe"]);
        assert_eq!(a.sectors, ["Government", "Private sector", "Finance"]);
        assert_eq!(a.similar, ["bef4c620-0787-42a8-a96d-b7eb6e85917c"]);
        assert_eq!(a.origin.as_deref(), Some("RU"));
        assert!(matches!(
            parse_clusters(b"{}", "x"),
            Err(Error::Galaxy { .. })
        ));
    }
}
