//! Intel sightings (block 4): the intel detector's `intel.sighting` effects
//! are committed with its alerts into the change feed (exactly once, by the
//! detect checkpoint); [`Store::apply_intel_sightings`] consumes them in
//! order and counts them on the indicators (`sightings`, `first_sighting`,
//! `last_sighting`), moving its own checkpoint in the same transaction — so
//! every sighting is counted once, also across crashes.
//!
//! The block's later migrations (sightings, the blocklist, ATT&CK ids;
//! 40020–40029)
//! are listed in [`INTEL_OPS_MIGRATIONS`].

use vigil_model::{TenantId, Timestamp};

use crate::Store;
use crate::changes::ChangeOps;
use crate::error::{Result, db};
use crate::migrations::{BLOCK_INTEL, Migration, version};
use crate::row::RowExt;

/// Block 4 migrations for sightings, blocklists and ATT&CK ids
/// (40020–40029). The
/// binary lists them after [`crate::INTEL_MIGRATIONS`].
pub const INTEL_OPS_MIGRATIONS: &[Migration] = &[
    Migration {
        version: version(BLOCK_INTEL, 20),
        name: "intel_sightings",
        sqlite: include_str!("../migrations/sqlite/40020_intel_sightings.sql"),
        postgres: include_str!("../migrations/postgres/40020_intel_sightings.sql"),
    },
    Migration {
        version: version(BLOCK_INTEL, 21),
        name: "intel_blocklist",
        sqlite: include_str!("../migrations/sqlite/40021_blocklist.sql"),
        postgres: include_str!("../migrations/postgres/40021_blocklist.sql"),
    },
    Migration {
        version: version(BLOCK_INTEL, 22),
        name: "attack_ids",
        sqlite: include_str!("../migrations/sqlite/40022_attack_ids.sql"),
        postgres: include_str!("../migrations/postgres/40022_attack_ids.sql"),
    },
];

/// The change-feed object type of a sighting effect.
pub const SIGHTING_CHANGE: &str = "intel.sighting";

/// What one [`Store::apply_intel_sightings`] step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SightingsApplied {
    /// Sighting changes read.
    pub read: usize,
    /// Indicator rows counted (a sighting of an indicator deleted since is
    /// read but counts nothing).
    pub counted: usize,
    /// The consumer's checkpoint afterwards.
    pub checkpoint: i64,
}

/// The Vigil-observed sightings of one indicator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndicatorSightings {
    /// How many times Vigil matched it.
    pub count: i64,
    /// First match (event time).
    pub first: Option<Timestamp>,
    /// Latest match (event time).
    pub last: Option<Timestamp>,
}

/// `(kind, value, at)` of a sighting change: the payload's `type`, `value`
/// and `at` (RFC 3339), else the key `kind:value` and the change time.
fn sighting_of(
    key: &str,
    payload: &serde_json::Value,
    at: Timestamp,
) -> Option<(String, String, Timestamp)> {
    let (kind, value) = match (payload["type"].as_str(), payload["value"].as_str()) {
        (Some(k), Some(v)) => (k.to_string(), v.to_string()),
        _ => {
            let (k, v) = key.split_once(':')?;
            (k.to_string(), v.to_string())
        }
    };
    let at = payload["at"]
        .as_str()
        .and_then(Timestamp::parse_rfc3339)
        .unwrap_or(at);
    Some((kind, value, at))
}

impl Store {
    /// Counts the sighting effects committed after `consumer`'s checkpoint
    /// (at most `limit`), in change-feed order, and moves the checkpoint in
    /// the same transaction. Call it until `read` is 0 to catch up; `vigil
    /// serve` runs it after detection. A malformed sighting row is skipped
    /// (logged), never retried forever.
    pub async fn apply_intel_sightings(
        &self,
        consumer: &str,
        limit: u32,
        now: Timestamp,
    ) -> Result<SightingsApplied> {
        const OP: &str = "apply_intel_sightings";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            // Two servers on one database take turns, so no sighting is
            // counted twice.
            let (cp, max) =
                <DB as ChangeOps>::consumer_window(tx.conn(), consumer, 7419040, OP).await?;
            let rows = sqlx::query(
                "SELECT seq, at, tenant, object_id, payload FROM changes \
                 WHERE seq > $1 AND seq <= $2 AND object_type = $3 ORDER BY seq LIMIT $4",
            )
            .bind(cp)
            .bind(max)
            .bind(SIGHTING_CHANGE)
            .bind(i64::from(limit))
            .fetch_all(tx.conn())
            .await
            .map_err(db(OP))?;
            let mut out = SightingsApplied {
                read: rows.len(),
                ..Default::default()
            };
            let mut last = cp;
            for r in &rows {
                const T: &str = "changes";
                last = r.int(T, "seq")?;
                let tenant = r.text(T, "tenant")?;
                let key = r.text(T, "object_id")?;
                let payload = r.json(T, "payload")?;
                let Some((kind, value, at)) = sighting_of(&key, &payload, r.ts(T, "at")?) else {
                    tracing::warn!(seq = last, key, "malformed intel sighting skipped");
                    continue;
                };
                let res = sqlx::query(
                    "UPDATE intel_indicators SET sightings = sightings + 1, \
                     last_sighting = CASE WHEN last_sighting IS NULL OR last_sighting < $1 \
                     THEN $1 ELSE last_sighting END, \
                     first_sighting = CASE WHEN first_sighting IS NULL OR first_sighting > $1 \
                     THEN $1 ELSE first_sighting END \
                     WHERE tenant = $2 AND kind = $3 AND value = $4",
                )
                .bind(at.as_micros())
                .bind(&tenant)
                .bind(&kind)
                .bind(&value)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
                out.counted += usize::try_from(res.rows_affected()).unwrap_or(0);
            }
            if rows.len() < usize::try_from(limit).unwrap_or(usize::MAX) {
                last = last.max(max);
            }
            if last > cp {
                sqlx::query(
                    "INSERT INTO checkpoints (consumer, seq, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq, \
                     updated_at = excluded.updated_at",
                )
                .bind(consumer)
                .bind(last)
                .bind(now.as_micros())
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            }
            out.checkpoint = last.max(cp);
            tx.commit(OP).await?;
            Ok(out)
        })
    }

    /// The sightings Vigil recorded for one indicator; `None` when it is
    /// not stored.
    pub async fn indicator_sightings(
        &self,
        tenant: TenantId,
        kind: &str,
        value: &str,
    ) -> Result<Option<IndicatorSightings>> {
        const OP: &str = "indicator_sightings";
        dispatch!(self, |pool, DB| {
            let row = sqlx::query(
                "SELECT sightings, first_sighting, last_sighting FROM intel_indicators \
                 WHERE tenant = $1 AND kind = $2 AND value = $3",
            )
            .bind(tenant.to_string())
            .bind(kind)
            .bind(value)
            .fetch_optional(pool)
            .await
            .map_err(db(OP))?;
            row.map(|r| {
                const T: &str = "intel_indicators";
                Ok(IndicatorSightings {
                    count: r.int(T, "sightings")?,
                    first: r.opt_ts(T, "first_sighting")?,
                    last: r.opt_ts(T, "last_sighting")?,
                })
            })
            .transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sighting_from_payload_or_key() {
        let at = Timestamp::from_secs(5);
        let p =
            json!({"type": "url", "value": "http://a.example/x:y", "at": "1970-01-01T00:00:09Z"});
        assert_eq!(
            sighting_of("ignored", &p, at),
            Some((
                "url".into(),
                "http://a.example/x:y".into(),
                Timestamp::from_secs(9)
            ))
        );
        assert_eq!(
            sighting_of("ipv6:2001:db8::1", &json!({}), at),
            Some(("ipv6".into(), "2001:db8::1".into(), at))
        );
        assert_eq!(sighting_of("nokey", &json!({}), at), None);
    }
}
