//! Carrying out playbook commands: effects inside Vigil (incidents, tasks,
//! notes — idempotent by the step's key), enrichment lookups, and outbound
//! HTTP and SMTP (`mail`) through the egress guard.
//!
//! HTTP requests: the URL must pass the guard; the connection goes only to
//! the addresses the guard cleared (resolved once, no second lookup that a
//! rebinding name could answer differently); redirects are not followed;
//! the body is signed with HMAC-SHA256 when the step asks; the
//! `Idempotency-Key` header carries the step's key, identical on every
//! attempt and after a restart. Secrets come from the secret store by name
//! and never enter the run state or log.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde_json::json;
use vigil_model::{Clock, Principal, Severity, TenantId};
use vigil_respond::egress::{Guard, Resolver};
use vigil_respond::incident::IncidentStatus;
use vigil_respond::playbook::model::AuthSpec;
use vigil_respond::playbook::run::{self, Command, Effect, HttpRequest, Outcome, RunState};
use vigil_store::{NewIncident, SecretKey, Store};

use super::SmtpSection;

/// Most response bytes kept as a step's output.
const MAX_RESPONSE: usize = 64 * 1024;

/// Static host → address overrides consulted before DNS (like
/// `/etc/hosts`; also how tests run without DNS).
#[derive(Debug, Clone, Default)]
pub struct HostTable(HashMap<String, Vec<IpAddr>>);

impl HostTable {
    /// From `[respond.egress.hosts]`.
    pub fn new(map: &HashMap<String, Vec<String>>) -> Result<Self> {
        let mut out = HashMap::new();
        for (host, addrs) in map {
            let ips = addrs
                .iter()
                .map(|a| {
                    a.parse::<IpAddr>()
                        .with_context(|| format!("{host}: {a:?} is not an IP address"))
                })
                .collect::<Result<Vec<_>>>()?;
            out.insert(host.trim_end_matches('.').to_ascii_lowercase(), ips);
        }
        Ok(Self(out))
    }
}

impl Resolver for HostTable {
    fn resolve(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        if let Some(ips) = self.0.get(host) {
            return Ok(ips.clone());
        }
        use std::net::ToSocketAddrs;
        Ok((host, 0).to_socket_addrs()?.map(|a| a.ip()).collect())
    }
}

/// The effect executor.
pub struct Effects {
    store: Store,
    guard: Arc<Guard>,
    hosts: Arc<HostTable>,
    key: SecretKey,
    smtp: Option<SmtpSection>,
    clock: Arc<dyn Clock>,
    task_templates: HashMap<String, Vec<String>>,
}

fn err(message: impl Into<String>, retryable: bool) -> Outcome {
    Outcome::Err {
        message: message.into(),
        retryable,
    }
}

impl Effects {
    /// An executor.
    pub fn new(
        store: Store,
        guard: Guard,
        hosts: HostTable,
        key: SecretKey,
        smtp: Option<SmtpSection>,
        clock: Arc<dyn Clock>,
        task_templates: HashMap<String, Vec<String>>,
    ) -> Self {
        Self {
            store,
            guard: Arc::new(guard),
            hosts: Arc::new(hosts),
            key,
            smtp,
            clock,
            task_templates,
        }
    }

    /// Carries out one command; never panics, every failure is an outcome.
    pub async fn execute(
        &self,
        tenant: TenantId,
        st: &RunState,
        cmd: &Command,
        who: &Principal,
    ) -> Outcome {
        match self.execute_inner(tenant, st, cmd, who).await {
            Ok(o) => o,
            Err(e) => err(format!("{e:#}"), false),
        }
    }

    async fn execute_inner(
        &self,
        tenant: TenantId,
        st: &RunState,
        cmd: &Command,
        who: &Principal,
    ) -> Result<Outcome> {
        let key = cmd.idempotency_key.as_str();
        Ok(match &cmd.effect {
            Effect::CreateIncident {
                title,
                description,
                severity,
                category,
                tags,
                flags,
            } => {
                let severity = match severity.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    Some(s) => Some(
                        s.parse::<Severity>()
                            .map_err(|e| anyhow!("severity: {e}"))?,
                    ),
                    None => None,
                };
                let alerts = match (
                    st.ctx.get("trigger").and_then(|t| t.as_str()),
                    st.ctx.pointer("/alert/id").and_then(|v| v.as_str()),
                ) {
                    (Some("alert"), Some(id)) => {
                        vec![id.parse().map_err(|_| anyhow!("alert id {id:?}"))?]
                    }
                    _ => Vec::new(),
                };
                let new = NewIncident {
                    title: title.clone(),
                    description: description.clone(),
                    severity,
                    category: category.clone().filter(|c| !c.is_empty()),
                    tags: tags.clone(),
                    flags: flags.clone(),
                    assignee: None,
                    alerts,
                    origin_key: Some(key.to_string()),
                };
                let inc = self
                    .store
                    .create_incident(tenant, &new, who, self.clock.now())
                    .await?;
                // The category's template tasks, idempotent like the incident.
                vigil_server::incidents::apply_task_templates(
                    &self.store,
                    tenant,
                    &inc,
                    &self.task_templates,
                    who,
                    self.clock.now(),
                )
                .await?;
                Outcome::Ok(json!({ "id": inc.id, "number": inc.number, "title": inc.title }))
            }
            Effect::UpdateIncident {
                incident,
                status,
                severity,
                assignee,
                add_tags,
            } => {
                let id = incident.as_deref().ok_or_else(|| {
                    anyhow!("no incident: the run has not created one and the step names none")
                })?;
                let mut rec = self
                    .store
                    .get_incident(tenant, id)
                    .await?
                    .ok_or_else(|| anyhow!("no incident {id}"))?;
                let mut timeline = Vec::new();
                if let Some(s) = status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    let to: IncidentStatus = s.parse().map_err(|e| anyhow!("{e}"))?;
                    let from: IncidentStatus = rec.status.parse().map_err(|e| anyhow!("{e}"))?;
                    // Already there: a replayed step, nothing to do.
                    if from != to {
                        from.check_transition(to).map_err(|e| anyhow!("{e}"))?;
                        vigil_server::incidents::apply_status(&mut rec, to, self.clock.now());
                        timeline.push((
                            "status".to_string(),
                            format!("{from} → {to}"),
                            json!({ "from": from.as_str(), "to": to.as_str() }),
                        ));
                    }
                }
                if let Some(s) = severity.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    let sev: Severity = s.parse().map_err(|e| anyhow!("severity: {e}"))?;
                    if sev != rec.severity {
                        timeline.push((
                            "severity".into(),
                            format!("{} → {sev}", rec.severity),
                            json!({ "to": sev.as_str() }),
                        ));
                        rec.severity = sev;
                    }
                }
                if let Some(a) = assignee.as_deref().map(str::trim).filter(|s| !s.is_empty())
                    && rec.assignee.as_deref() != Some(a)
                {
                    rec.assignee = Some(a.to_string());
                    timeline.push((
                        "assignee".into(),
                        format!("assigned to {a}"),
                        json!({ "assignee": a }),
                    ));
                }
                for t in add_tags {
                    if !rec.tags.contains(t) {
                        rec.tags.push(t.clone());
                    }
                }
                let saved = self
                    .store
                    .save_incident(
                        tenant,
                        &rec,
                        &timeline,
                        "incident.update",
                        who,
                        self.clock.now(),
                    )
                    .await?
                    .ok_or_else(|| anyhow!("incident {id} disappeared"))?;
                Outcome::Ok(
                    json!({ "id": saved.id, "status": saved.status, "severity": saved.severity.as_str() }),
                )
            }
            Effect::AddTask {
                incident,
                title,
                description,
            } => {
                let id = incident
                    .as_deref()
                    .ok_or_else(|| anyhow!("no incident for the task"))?;
                let t = self
                    .store
                    .add_task(
                        tenant,
                        id,
                        title,
                        description,
                        Some(key),
                        who,
                        self.clock.now(),
                    )
                    .await?;
                Outcome::Ok(json!({ "id": t.id, "incident_id": t.incident_id }))
            }
            Effect::AddNote { incident, text } => {
                let id = incident
                    .as_deref()
                    .ok_or_else(|| anyhow!("no incident for the note"))?;
                self.store
                    .add_timeline(
                        tenant,
                        id,
                        "note",
                        text,
                        &json!({ "run": st.id }),
                        Some(key),
                        who,
                        self.clock.now(),
                    )
                    .await?;
                Outcome::Ok(json!({ "incident_id": id }))
            }
            Effect::Enrich {
                intel,
                asset,
                attack,
            } => {
                let mut out = serde_json::Map::new();
                if let Some(v) = intel.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    let found = self.store.search_indicators(tenant, v, 50).await?;
                    let exact: Vec<_> = found
                        .into_iter()
                        .filter(|i| i.value.eq_ignore_ascii_case(v))
                        .map(|i| json!({ "type": i.kind, "value": i.value, "confidence": i.confidence, "tlp": i.tlp, "labels": i.labels, "sightings": i.sightings }))
                        .collect();
                    out.insert("intel".into(), json!({ "value": v, "matches": exact }));
                }
                if let Some(a) = asset.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    let mut rec = self.store.get_asset(tenant, a).await?;
                    if rec.is_none() {
                        rec = self
                            .store
                            .list_assets(tenant)
                            .await?
                            .into_iter()
                            .find(|x| x.asset.ips.iter().any(|ip| ip == a));
                    }
                    out.insert(
                        "asset".into(),
                        rec.map_or(serde_json::Value::Null, |r| {
                            json!({ "id": r.id, "name": r.asset.name, "criticality": r.asset.criticality, "exposure": r.asset.exposure, "owner": r.asset.owner, "data_classes": r.asset.data_classes, "tags": r.asset.tags })
                        }),
                    );
                }
                if let Some(t) = attack.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                    out.insert("attack".into(), self.attack(tenant, t).await?);
                }
                Outcome::Ok(serde_json::Value::Object(out))
            }
            Effect::Blocklist {
                kind,
                value,
                ttl_secs,
                reason,
            } => {
                // The same manual entries `vigil intel blocklist add` and the
                // API write: served on the plain-text lists until the TTL.
                let entry = vigil_server::intel::NewManualEntry {
                    value,
                    kind: None,
                    reason,
                    ttl_micros: Some(ttl_secs.saturating_mul(1_000_000)),
                };
                match vigil_server::intel::add_manual_entry(
                    &self.store,
                    tenant,
                    &entry,
                    who,
                    self.clock.now(),
                )
                .await
                {
                    Ok((e, new)) => {
                        let served = match e.kind.as_str() {
                            "ipv4" | "ipv6" => "ip",
                            "ipv4-cidr" | "ipv6-cidr" | "cidr" => "cidr",
                            "domain" | "hostname" => "domain",
                            "url" => "url",
                            _ => "hash",
                        };
                        if served != kind && !(kind == "ip" && served == "cidr") {
                            tracing::warn!(declared = %kind, stored = %e.kind, value = %e.value, "blocklist kind differs from the value's type");
                        }
                        Outcome::Ok(json!({
                            "type": e.kind,
                            "value": e.value,
                            "expires_at": e.expires_at.map(|t| t.to_rfc3339()),
                            "new": new,
                        }))
                    }
                    Err(e) => err(format!("cannot block {value}: {e}"), false),
                }
            }
            Effect::Http(req) => self.http(tenant, req, key).await?,
            Effect::Email { to, subject, text } => {
                self.email(tenant, to, subject, text, key).await?
            }
        })
    }

    /// An ATT&CK technique (`T1059.001`, `attack.t1059.001`) from the
    /// knowledge `vigil attack import` stored: name, tactics, a description
    /// excerpt, mitigations; `{"id": …, "found": false}` when unknown.
    async fn attack(&self, tenant: TenantId, id: &str) -> Result<serde_json::Value> {
        let Some(t) = vigil_server::attack::technique(&self.store, tenant, id, &[]).await? else {
            return Ok(json!({ "id": id, "found": false }));
        };
        let description = self
            .store
            .latest_stix_objects(tenant, std::slice::from_ref(&t.stix_id))
            .await?
            .first()
            .and_then(|o| o["description"].as_str())
            .map(description_excerpt)
            .unwrap_or_default();
        let refs = |xs: &[vigil_server::attack::AttackRef]| {
            xs.iter()
                .map(|r| json!({ "id": r.id, "name": r.name }))
                .collect::<Vec<_>>()
        };
        Ok(json!({
            "id": t.id,
            "found": true,
            "name": t.name,
            "replaces": t.replaces,
            "is_subtechnique": t.is_subtechnique,
            "parent": t.parent.as_ref().map(|p| json!({ "id": p.id, "name": p.name })),
            "tactics": t.tactics.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            "tactic_ids": t.tactics.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
            "platforms": t.platforms,
            "description": description,
            "mitigations": refs(&t.mitigations),
            "url": format!("https://attack.mitre.org/techniques/{}/", t.id.replace('.', "/")),
        }))
    }

    async fn email(
        &self,
        tenant: TenantId,
        to: &[String],
        subject: &str,
        text: &str,
        key: &str,
    ) -> Result<Outcome> {
        let Some(smtp) = &self.smtp else {
            return Ok(err(
                format!(
                    "cannot e-mail {}: no [respond.smtp] server is configured",
                    to.join(", ")
                ),
                false,
            ));
        };
        let guard = self.guard.clone();
        let hosts = self.hosts.clone();
        let (host, port) = (smtp.host.clone(), smtp.port());
        let addrs = match tokio::task::spawn_blocking(move || {
            guard.check_host(&host, port, hosts.as_ref())
        })
        .await?
        {
            Ok(a) => a,
            Err(e) => return Ok(err(e.to_string(), false)),
        };
        let password = match &smtp.password_secret {
            Some(name) => {
                Some(String::from_utf8_lossy(&self.secret(tenant, name).await?).into_owned())
            }
            None => None,
        };
        let mail = super::mail::Mail {
            to,
            subject,
            text,
            key,
        };
        Ok(
            match super::mail::send(smtp, &addrs, password, &mail).await {
                Ok(reply) => Outcome::Ok(
                    json!({ "to": to, "subject": subject, "relay": smtp.host, "reply": reply }),
                ),
                Err(e) => err(
                    format!("cannot e-mail {}: {}", to.join(", "), e.message),
                    e.retryable,
                ),
            },
        )
    }

    async fn http(&self, tenant: TenantId, req: &HttpRequest, key: &str) -> Result<Outcome> {
        let guard = self.guard.clone();
        let hosts = self.hosts.clone();
        let url = req.url.clone();
        let cleared =
            match tokio::task::spawn_blocking(move || guard.check(&url, hosts.as_ref())).await? {
                Ok(c) => c,
                Err(e) => return Ok(err(e.to_string(), false)),
            };
        let body = req.body_bytes();
        let timeout = Duration::from_secs(req.timeout_secs.clamp(1, 300) as u64);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .resolve_to_addrs(&cleared.host, &cleared.addrs)
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("HTTP client")?;
        let method = reqwest::Method::from_bytes(req.method.as_bytes())
            .map_err(|_| anyhow!("method {:?}", req.method))?;
        let mut r = client
            .request(method, cleared.url.clone())
            .header("Idempotency-Key", key);
        for (k, v) in &req.headers {
            r = r.header(k.as_str(), v.as_str());
        }
        if req.body.is_some() {
            r = r.header("Content-Type", "application/json");
        }
        if let Some(h) = &req.hmac {
            let secret = self.secret(tenant, &h.secret).await?;
            r = r.header(h.header.as_str(), run::sign(&secret, &body));
        }
        match &req.auth {
            Some(AuthSpec::Bearer { secret }) => {
                let s = self.secret(tenant, secret).await?;
                r = r.bearer_auth(String::from_utf8_lossy(&s));
            }
            Some(AuthSpec::Basic { user, secret }) => {
                let s = self.secret(tenant, secret).await?;
                r = r.basic_auth(user, Some(String::from_utf8_lossy(&s)));
            }
            None => {}
        }
        if req.body.is_some() {
            r = r.body(body);
        }
        let resp = match r.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let what = if e.is_timeout() {
                    "timed out"
                } else {
                    "failed"
                };
                return Ok(err(
                    format!("{} {} {what}: {}", req.method, cleared.url, root_cause(&e)),
                    true,
                ));
            }
        };
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_RESPONSE)]).into_owned();
        if status.is_success() {
            let body = serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or(serde_json::Value::String(text));
            return Ok(Outcome::Ok(
                json!({ "status": status.as_u16(), "body": body }),
            ));
        }
        let retryable = status.is_server_error() || matches!(status.as_u16(), 408 | 425 | 429);
        let snippet: String = text.chars().take(200).collect();
        Ok(err(
            format!(
                "{} {} answered {status}: {snippet}",
                req.method, cleared.url
            ),
            retryable,
        ))
    }

    async fn secret(&self, tenant: TenantId, name: &str) -> Result<Vec<u8>> {
        self.store
            .get_secret(&self.key, tenant, name)
            .await?
            .ok_or_else(|| {
                anyhow!("no secret named {name:?} (add it with `vigil secret set {name}`)")
            })
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Most characters of an ATT&CK description kept in a step's output.
const DESCRIPTION_EXCERPT: usize = 400;

/// The start of an ATT&CK description without its `(Citation: …)` marks,
/// cut at a word boundary with an ellipsis when longer than
/// [`DESCRIPTION_EXCERPT`].
fn description_excerpt(text: &str) -> String {
    let mut clean = String::with_capacity(text.len().min(4 * DESCRIPTION_EXCERPT));
    let mut rest = text;
    while let Some(i) = rest.find("(Citation:") {
        clean.push_str(&rest[..i]);
        rest = match rest[i..].find(')') {
            Some(j) => &rest[i + j + 1..],
            None => "",
        };
    }
    clean.push_str(rest);
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= DESCRIPTION_EXCERPT {
        return clean;
    }
    let cut: String = clean.chars().take(DESCRIPTION_EXCERPT).collect();
    let cut = match cut.rfind(' ') {
        Some(i) => &cut[..i],
        None => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

#[cfg(test)]
mod tests {
    use super::description_excerpt;

    #[test]
    fn excerpts_drop_citations_and_cut_at_a_word() {
        assert_eq!(
            description_excerpt(
                "Abuse PowerShell.(Citation: TechNet) It is  powerful.(Citation: X"
            ),
            "Abuse PowerShell. It is powerful."
        );
        let long = "word ".repeat(200);
        let e = description_excerpt(&long);
        assert!(e.ends_with("word…"), "{e}");
        assert!(e.chars().count() <= 401, "{}", e.len());
    }
}
