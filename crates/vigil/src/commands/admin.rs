//! `vigil token …`, `vigil audit …`, `vigil secret …`: administration from the
//! command line, recorded in the audit log as the operator.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use vigil_model::{Clock, Role, SystemClock, TenantId};
use vigil_store::{AuditEntry, NewAudit, TokenRecord};

use crate::cli::{AuditCommand, SecretCommand, TokenCommand};
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

#[derive(Serialize)]
struct TokenRow {
    id: String,
    name: String,
    role: Role,
    prefix: String,
    created_at: String,
    created_by: String,
    expires_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<TokenRecord> for TokenRow {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            name: t.name,
            role: t.role,
            prefix: t.prefix,
            created_at: t.created_at.to_rfc3339(),
            created_by: t.created_by,
            expires_at: t.expires_at.map(|t| t.to_rfc3339()),
            revoked_at: t.revoked_at.map(|t| t.to_rfc3339()),
        }
    }
}

impl Row for TokenRow {
    fn headers() -> &'static [&'static str] {
        &["id", "name", "role", "created", "expires", "revoked"]
    }
    fn cells(&self) -> Vec<String> {
        let o = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        vec![
            self.id.clone(),
            self.name.clone(),
            self.role.to_string(),
            self.created_at.clone(),
            o(&self.expires_at),
            o(&self.revoked_at),
        ]
    }
}

pub async fn token(cfg: Config, cmd: TokenCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    let now = SystemClock.now();
    let code = match cmd {
        TokenCommand::Create(a) => {
            let role: Role = a.role.parse()?;
            let expires = a
                .expires_in_days
                .map(|d| now.add_micros(i64::from(d) * 86_400_000_000));
            let (rec, plaintext) = store
                .create_token(TenantId::DEFAULT, &a.name, role, expires, &by, now)
                .await?;
            if a.quiet {
                println!("{plaintext}");
            } else {
                println!("Created {} token {:?} (id {}).", rec.role, rec.name, rec.id);
                println!("Token (shown once; store it now): {plaintext}");
            }
            ExitCode::SUCCESS
        }
        TokenCommand::List { format } => {
            let rows: Vec<TokenRow> = store
                .list_tokens(TenantId::DEFAULT)
                .await?
                .into_iter()
                .map(TokenRow::from)
                .collect();
            output::print(&rows, format)?;
            ExitCode::SUCCESS
        }
        TokenCommand::Revoke { id } => {
            let id = id.trim_start_matches("vgl_");
            if !store.revoke_token(TenantId::DEFAULT, id, &by, now).await? {
                bail!("no active token with id {id:?} (see `vigil token list`)");
            }
            println!("Revoked token {id}.");
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

#[derive(Serialize)]
struct AuditRow {
    seq: i64,
    at: String,
    principal: String,
    action: String,
    target: String,
    details: serde_json::Value,
    hash: String,
}

impl From<AuditEntry> for AuditRow {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at.to_rfc3339(),
            principal: e.principal,
            action: e.action,
            target: e.target,
            details: e.details,
            hash: e.hash,
        }
    }
}

impl Row for AuditRow {
    fn headers() -> &'static [&'static str] {
        &["seq", "at", "principal", "action", "target"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.seq.to_string(),
            self.at.clone(),
            self.principal.clone(),
            self.action.clone(),
            self.target.clone(),
        ]
    }
}

pub async fn audit(cfg: Config, cmd: AuditCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let code = match cmd {
        AuditCommand::Verify => {
            let v = store.verify_audit().await?;
            match v.first_broken {
                None => {
                    println!("audit log intact: {} entries verified", v.checked);
                    ExitCode::SUCCESS
                }
                Some(b) => {
                    println!(
                        "audit log BROKEN at entry {}: {} ({} entries verified before it)",
                        b.seq, b.reason, v.checked
                    );
                    ExitCode::from(1)
                }
            }
        }
        AuditCommand::Export { output, after } => {
            export_audit(&store, output.as_deref(), after).await?
        }
        AuditCommand::List {
            format,
            limit,
            after,
        } => {
            let rows: Vec<AuditRow> = store
                .list_audit(TenantId::DEFAULT, after, limit.clamp(1, 10_000))
                .await?
                .into_iter()
                .map(AuditRow::from)
                .collect();
            output::print(&rows, format)?;
            ExitCode::SUCCESS
        }
    };
    store.close().await;
    Ok(code)
}

pub async fn secret(cfg: Config, cmd: SecretCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let key = context::secret_key(&cfg)?;
    let by = context::cli_principal();
    let now = SystemClock.now();
    match cmd {
        SecretCommand::Set { name } => {
            let mut value = Vec::new();
            std::io::stdin()
                .read_to_end(&mut value)
                .context("cannot read the secret from stdin")?;
            while value.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                value.pop();
            }
            if value.is_empty() {
                bail!(
                    "no secret on stdin; pipe it in: printf %s \"$VALUE\" | vigil secret set {name}"
                );
            }
            store
                .put_secret(&key, TenantId::DEFAULT, &name, &value, now)
                .await?;
            store
                .audit(&NewAudit::new(
                    TenantId::DEFAULT,
                    &by,
                    "secret.set",
                    &name,
                    serde_json::json!({ "bytes": value.len() }),
                    now,
                ))
                .await?;
            println!("Stored secret {name:?}.");
        }
        SecretCommand::List => {
            for n in store.list_secrets(TenantId::DEFAULT).await? {
                println!("{n}");
            }
        }
        SecretCommand::Delete { name } => {
            if !store.delete_secret(TenantId::DEFAULT, &name).await? {
                bail!("no secret named {name:?} (see `vigil secret list`)");
            }
            store
                .audit(&NewAudit::new(
                    TenantId::DEFAULT,
                    &by,
                    "secret.delete",
                    &name,
                    serde_json::Value::Null,
                    now,
                ))
                .await?;
            println!("Deleted secret {name:?}.");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `vigil audit export`: JSON lines, chain order, every tenant.
async fn export_audit(
    store: &vigil_store::Store,
    output: Option<&std::path::Path>,
    after: i64,
) -> Result<ExitCode> {
    use std::io::Write;
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let bar = match output {
        Some(_) => indicatif::ProgressBar::new_spinner().with_message("exporting the audit chain"),
        None => indicatif::ProgressBar::hidden(),
    };
    let mut last = after;
    let mut n = 0u64;
    let mut head = String::new();
    loop {
        let page = store.list_audit_all(last, 5000).await?;
        let Some(tail) = page.last() else { break };
        last = tail.seq;
        for e in &page {
            let line = serde_json::json!({
                "seq": e.seq,
                "at": e.at.to_rfc3339(),
                "at_us": e.at.as_micros(),
                "tenant": e.tenant.to_string(),
                "principal": e.principal,
                "principal_kind": e.principal_kind,
                "action": e.action,
                "target": e.target,
                "details": e.details,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
            head.clone_from(&e.hash);
        }
        n += page.len() as u64;
        bar.set_position(n);
    }
    out.flush()?;
    bar.finish_and_clear();
    eprintln!("exported {n} audit entries; last seq {last}, hash {head}");
    Ok(ExitCode::SUCCESS)
}
