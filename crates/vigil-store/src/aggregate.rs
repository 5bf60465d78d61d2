//! Alert aggregation and suppression (core migration 10002).
//!
//! Aggregation: with a window set ([`Store::set_alert_aggregation`]), an
//! alert whose detector, rule and entities (host, user, source and
//! destination IP) equal those of an alert last seen within the window is
//! folded into that alert (`hits` + 1, `last_seen` moved forward) instead
//! of being opened. Suppression: an alert matching an active suppression
//! ([`SuppressionMatch`]) is not opened; the suppression counts it. Both
//! record the folded alert's id in `alert_merged`, so re-evaluating the
//! same events after a crash neither opens nor counts it again. Both happen
//! inside [`Store::commit_detections`]'s transaction.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use vigil_model::{Alert, AlertId, Principal, Severity, TenantId, Timestamp};

use crate::Store;
use crate::audit::{AuditOps, NewAudit};
use crate::error::{Error, Result, corrupt, db};
use crate::row::RowExt;

/// What a suppression matches; every given field must hold, and at least
/// one must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressionMatch {
    /// Rule id; `*` matches any run of characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Detector (`sigma`, `intel`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    /// `host.name`, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `user.name`, case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `source.ip`: an address or a CIDR range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `destination.ip`: an address or a CIDR range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_ip: Option<String>,
    /// Only alerts at most this severe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_severity: Option<Severity>,
}

fn parse_net(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b.trim().parse::<u8>().ok().filter(|b| *b <= max)?,
        None => max,
    };
    Some((ip, bits))
}

fn in_net(ip: &str, net: &str) -> bool {
    let (Ok(ip), Some((base, bits))) = (ip.parse::<IpAddr>(), parse_net(net)) else {
        return false;
    };
    match (ip, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.to_lowercase();
    let t = text.to_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl SuppressionMatch {
    /// Checks the matcher: at least one field, addresses that parse.
    pub fn validate(&self) -> Result<()> {
        if *self == Self::default() {
            return Err(Error::Invalid(
                "a suppression needs at least one of rule, detector, host, user, source_ip, destination_ip, max_severity".into(),
            ));
        }
        for (name, v) in [
            ("source_ip", &self.source_ip),
            ("destination_ip", &self.destination_ip),
        ] {
            if let Some(v) = v
                && parse_net(v).is_none()
            {
                return Err(Error::Invalid(format!(
                    "{name}: {v:?} is neither an IP address nor a CIDR range"
                )));
            }
        }
        Ok(())
    }

    /// Whether `a` matches.
    pub fn matches(&self, a: &Alert) -> bool {
        let eq = |want: &Option<String>, have: &Option<String>| match want {
            None => true,
            Some(w) => have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)),
        };
        let net = |want: &Option<String>, have: &Option<String>| match want {
            None => true,
            Some(w) => have.as_deref().is_some_and(|h| in_net(h, w)),
        };
        self.rule.as_deref().is_none_or(|r| glob(r, &a.rule_id))
            && self
                .detector
                .as_deref()
                .is_none_or(|d| d.eq_ignore_ascii_case(&a.detector))
            && eq(&self.host, &a.entities.host)
            && eq(&self.user, &a.entities.user)
            && net(&self.source_ip, &a.entities.source_ip)
            && net(&self.destination_ip, &a.entities.destination_ip)
            && self.max_severity.is_none_or(|m| a.severity <= m)
    }
}

/// A stored suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionRecord {
    /// Id.
    pub id: String,
    /// What it matches.
    pub matcher: SuppressionMatch,
    /// Why.
    pub reason: String,
    /// Who created it (principal label).
    pub author: String,
    /// Created.
    pub created_at: Timestamp,
    /// Expiry; `None` = until deleted.
    pub expires_at: Option<Timestamp>,
    /// Alerts it suppressed.
    pub hits: i64,
    /// Last suppressed alert.
    pub last_hit: Option<Timestamp>,
}

fn suppression_from_row(r: &impl RowExt) -> Result<SuppressionRecord> {
    const T: &str = "suppressions";
    Ok(SuppressionRecord {
        id: r.text(T, "id")?,
        matcher: serde_json::from_value(r.json(T, "matcher")?)
            .map_err(|e| corrupt(T, format!("column matcher: {e}")))?,
        reason: r.text(T, "reason")?,
        author: r.text(T, "author")?,
        created_at: r.ts(T, "created_at")?,
        expires_at: r.opt_ts(T, "expires_at")?,
        hits: r.int(T, "hits")?,
        last_hit: r.opt_ts(T, "last_hit")?,
    })
}

/// The aggregation key of an alert: detector, rule and entities.
pub(crate) fn agg_key(a: &Alert) -> String {
    let mut h = Sha256::new();
    for part in [
        a.detector.as_str(),
        a.rule_id.as_str(),
        a.entities.host.as_deref().unwrap_or(""),
        a.entities.user.as_deref().unwrap_or(""),
        a.entities.source_ip.as_deref().unwrap_or(""),
        a.entities.destination_ip.as_deref().unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// What [`plan`] decided for a batch of alerts.
#[derive(Debug, Default)]
pub(crate) struct Plan<'a> {
    /// Open as new alerts (with their aggregation key).
    pub insert: Vec<(&'a Alert, String)>,
    /// Fold into an existing alert: (alert, target id).
    pub merged: Vec<(&'a Alert, String)>,
    /// Suppressed: (alert, suppression id).
    pub suppressed: Vec<(&'a Alert, String)>,
}

/// Reads what a batch needs inside the commit's transaction.
pub(crate) trait AggregateOps: crate::engine::Backend {
    /// Decides per alert: open, fold into an alert within `window` µs, or
    /// suppress. Alerts already stored or folded are left out.
    fn plan<'a>(
        conn: &mut Self::Connection,
        alerts: &'a [Alert],
        window: i64,
        at: Timestamp,
    ) -> impl Future<Output = Result<Plan<'a>>> + Send;

    /// Applies the folds and suppressions of a plan.
    fn apply(
        conn: &mut Self::Connection,
        plan: &Plan<'_>,
        at: Timestamp,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl_both! {
    impl AggregateOps {
        async fn plan<'a>(
            conn: &mut <Self as sqlx::Database>::Connection,
            alerts: &'a [Alert],
            window: i64,
            at: Timestamp,
        ) -> Result<Plan<'a>> {
            const OP: &str = "commit_detections";
            let mut plan = Plan::default();
            let mut supp: HashMap<TenantId, Vec<(String, SuppressionMatch)>> = HashMap::new();
            let mut open: HashMap<(TenantId, String), (String, Timestamp)> = HashMap::new();
            let mut seen = std::collections::HashSet::new();
            for a in alerts {
                let id = a.id.to_string();
                if !seen.insert(id.clone()) {
                    continue;
                }
                if let std::collections::hash_map::Entry::Vacant(slot) = supp.entry(a.tenant) {
                    let rows = sqlx::query(
                        "SELECT id, matcher, reason, author, created_at, expires_at, hits, last_hit FROM suppressions \
                         WHERE tenant = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at, id",
                    )
                    .bind(a.tenant.to_string())
                    .bind(at.as_micros())
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(db(OP))?;
                    let list = rows
                        .iter()
                        .map(suppression_from_row)
                        .collect::<Result<Vec<_>>>()?
                        .into_iter()
                        .map(|s| (s.id, s.matcher))
                        .collect();
                    slot.insert(list);
                }
                // Without aggregation or an active suppression nothing can
                // fold this alert away: the insert's ON CONFLICT already
                // skips ids stored before, so spare the per-alert lookup
                // (the common case, and the hot path of every detection).
                let tenant_suppressions = supp.get(&a.tenant).is_some_and(|l| !l.is_empty());
                if window == 0 && !tenant_suppressions {
                    plan.insert.push((a, agg_key(a)));
                    continue;
                }
                let known = sqlx::query(
                    "SELECT 1 AS x FROM alerts WHERE id = $1 UNION ALL SELECT 1 AS x FROM alert_merged WHERE id = $1",
                )
                .bind(&id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db(OP))?;
                if known.is_some() {
                    continue;
                }
                if let Some((sid, _)) = supp.get(&a.tenant).and_then(|l| l.iter().find(|(_, m)| m.matches(a))) {
                    plan.suppressed.push((a, sid.clone()));
                    continue;
                }
                let key = agg_key(a);
                if window > 0 {
                    let since = Timestamp::from_micros(a.event_time.as_micros().saturating_sub(window));
                    let slot = (a.tenant, key.clone());
                    if let Some((target, last)) = open.get(&slot)
                        && *last >= since
                    {
                        let target = target.clone();
                        if a.event_time > *last {
                            open.insert(slot, (target.clone(), a.event_time));
                        }
                        plan.merged.push((a, target));
                        continue;
                    }
                    let row = sqlx::query(
                        "SELECT id, last_seen FROM alerts WHERE tenant = $1 AND agg_key = $2 AND last_seen >= $3 \
                         ORDER BY last_seen DESC, id LIMIT 1",
                    )
                    .bind(a.tenant.to_string())
                    .bind(&key)
                    .bind(since.as_micros())
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db(OP))?;
                    if let Some(r) = row {
                        let target = r.text("alerts", "id")?;
                        let last = r.ts("alerts", "last_seen")?;
                        open.insert(slot, (target.clone(), last.max(a.event_time)));
                        plan.merged.push((a, target));
                        continue;
                    }
                    open.insert(slot, (id.clone(), a.event_time));
                }
                plan.insert.push((a, key));
            }
            Ok(plan)
        }

        async fn apply(conn: &mut <Self as sqlx::Database>::Connection, plan: &Plan<'_>, at: Timestamp) -> Result<()> {
            const OP: &str = "commit_detections";
            for (a, target) in &plan.merged {
                sqlx::query(
                    "UPDATE alerts SET hits = hits + 1, \
                     last_seen = CASE WHEN last_seen IS NULL OR last_seen < $1 THEN $1 ELSE last_seen END \
                     WHERE id = $2",
                )
                .bind(a.event_time.as_micros())
                .bind(target)
                .execute(&mut *conn)
                .await
                .map_err(db(OP))?;
                sqlx::query("INSERT INTO alert_merged (id, tenant, into_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
                    .bind(a.id.to_string())
                    .bind(a.tenant.to_string())
                    .bind(target)
                    .bind(at.as_micros())
                    .execute(&mut *conn)
                    .await
                    .map_err(db(OP))?;
            }
            for (a, sid) in &plan.suppressed {
                sqlx::query("UPDATE suppressions SET hits = hits + 1, last_hit = $1 WHERE tenant = $2 AND id = $3")
                    .bind(at.as_micros())
                    .bind(a.tenant.to_string())
                    .bind(sid)
                    .execute(&mut *conn)
                    .await
                    .map_err(db(OP))?;
                sqlx::query("INSERT INTO alert_merged (id, tenant, into_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
                    .bind(a.id.to_string())
                    .bind(a.tenant.to_string())
                    .bind(format!("suppression:{sid}"))
                    .bind(at.as_micros())
                    .execute(&mut *conn)
                    .await
                    .map_err(db(OP))?;
            }
            Ok(())
        }
    }
}

impl Store {
    /// How often each alert fired (1 + folded repeats) and when last.
    pub async fn alert_hits(&self, ids: &[AlertId]) -> Result<HashMap<AlertId, (i64, Timestamp)>> {
        const OP: &str = "alert_hits";
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, hits, COALESCE(last_seen, event_time) AS last FROM alerts WHERE id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<(AlertId, i64, Timestamp)> = dispatch!(self, |pool, DB| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(id.to_string());
                }
                let rows = q.fetch_all(pool).await.map_err(db(OP))?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.parsed("alerts", "id")?,
                            r.int("alerts", "hits")?,
                            r.ts("alerts", "last")?,
                        ))
                    })
                    .collect::<Result<Vec<_>>>()
            })?;
            for (id, hits, last) in rows {
                out.insert(id, (hits, last));
            }
        }
        Ok(out)
    }

    /// Adds a suppression, audited as `suppression.create`.
    pub async fn add_suppression(
        &self,
        tenant: TenantId,
        matcher: &SuppressionMatch,
        reason: &str,
        expires_at: Option<Timestamp>,
        by: &Principal,
        now: Timestamp,
    ) -> Result<SuppressionRecord> {
        const OP: &str = "add_suppression";
        matcher.validate()?;
        if reason.trim().is_empty() {
            return Err(Error::Invalid("a suppression needs a reason".into()));
        }
        if reason.len() > 4096 {
            return Err(Error::Invalid("reason: longer than 4096 bytes".into()));
        }
        let id = uuid::Uuid::now_v7().to_string();
        let author = by.label();
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            sqlx::query(
                "INSERT INTO suppressions (tenant, id, matcher, reason, author, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant.to_string())
            .bind(&id)
            .bind(Json(matcher))
            .bind(reason.trim())
            .bind(&author)
            .bind(now.as_micros())
            .bind(expires_at.map(Timestamp::as_micros))
            .execute(tx.conn())
            .await
            .map_err(db(OP))?;
            let target = format!("suppression:{id}");
            let details = json!({ "matcher": matcher, "reason": reason.trim(), "expires_at": expires_at.map(Timestamp::to_rfc3339) });
            let audit = NewAudit::new(tenant, by, "suppression.create", &target, details, now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
            Ok::<(), Error>(())
        })?;
        Ok(SuppressionRecord {
            id,
            matcher: matcher.clone(),
            reason: reason.trim().to_string(),
            author,
            created_at: now,
            expires_at,
            hits: 0,
            last_hit: None,
        })
    }

    /// A tenant's suppressions (expired ones included), oldest first.
    pub async fn list_suppressions(&self, tenant: TenantId) -> Result<Vec<SuppressionRecord>> {
        const OP: &str = "list_suppressions";
        dispatch!(self, |pool, DB| {
            let rows = sqlx::query(
                "SELECT id, matcher, reason, author, created_at, expires_at, hits, last_hit FROM suppressions \
                 WHERE tenant = $1 ORDER BY created_at, id",
            )
            .bind(tenant.to_string())
            .fetch_all(pool)
            .await
            .map_err(db(OP))?;
            rows.iter().map(suppression_from_row).collect()
        })
    }

    /// Deletes a suppression, audited; `false` if there was none.
    pub async fn delete_suppression(
        &self,
        tenant: TenantId,
        id: &str,
        by: &Principal,
        now: Timestamp,
    ) -> Result<bool> {
        const OP: &str = "delete_suppression";
        dispatch!(self, |pool, DB| {
            let mut tx = self.begin_write(pool, OP).await?;
            let r = sqlx::query("DELETE FROM suppressions WHERE tenant = $1 AND id = $2")
                .bind(tenant.to_string())
                .bind(id)
                .execute(tx.conn())
                .await
                .map_err(db(OP))?;
            if r.rows_affected() == 0 {
                return Ok(false);
            }
            let target = format!("suppression:{id}");
            let audit = NewAudit::new(tenant, by, "suppression.delete", &target, json!({}), now);
            <DB as AuditOps>::append_audit(tx.conn(), &audit).await?;
            tx.commit(OP).await?;
            Ok::<bool, Error>(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets_and_globs() {
        assert!(in_net("10.1.2.3", "10.0.0.0/8"));
        assert!(!in_net("11.1.2.3", "10.0.0.0/8"));
        assert!(in_net("2001:db8::1", "2001:db8::/32"));
        assert!(!in_net("2001:db8::1", "10.0.0.0/8"));
        assert!(in_net("192.0.2.1", "192.0.2.1"));
        assert!(in_net("192.0.2.1", "0.0.0.0/0"));
        assert!(glob("ssh-*", "ssh-brute"));
        assert!(glob("*brute*", "ssh-brute-force"));
        assert!(!glob("ssh-*", "rdp-brute"));
        assert!(SuppressionMatch::default().validate().is_err());
        let bad = SuppressionMatch {
            source_ip: Some("10.0.0.0/40".into()),
            ..SuppressionMatch::default()
        };
        assert!(bad.validate().is_err());
    }
}
