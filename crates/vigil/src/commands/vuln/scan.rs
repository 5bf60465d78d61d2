//! `vigil scan host`: the host's (or a mounted root's) OS packages from the
//! dpkg, apk and RPM (sqlite backend) databases, plus given lock files, as
//! components with purls.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde::Serialize;
use vigil_vuln::Component;
use vigil_vuln::inventory::{self, OsRelease};

use super::args::{ScanCommand, ScanHostArgs};
use super::{TENANT, asset_or_create, now};
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

/// One component as printed.
#[derive(Serialize)]
struct ComponentRow {
    name: String,
    version: Option<String>,
    ecosystem: Option<String>,
    purl: String,
    source: String,
}

impl Row for ComponentRow {
    fn headers() -> &'static [&'static str] {
        &["name", "version", "ecosystem", "purl", "source"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.version.clone().unwrap_or_default(),
            self.ecosystem.clone().unwrap_or_default(),
            self.purl.clone(),
            self.source.clone(),
        ]
    }
}

fn read_opt(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

pub async fn run(cfg: Config, cmd: ScanCommand) -> Result<ExitCode> {
    let ScanCommand::Host(a) = cmd;
    let (comps, problems) = inventory_host(&a).await?;
    for p in &problems {
        eprintln!("{p}");
    }
    let rows: Vec<ComponentRow> = comps
        .iter()
        .map(|(c, src)| ComponentRow {
            name: c.name.clone(),
            version: c.version.clone(),
            ecosystem: c.ecosystem.map(|e| e.osv_name().to_owned()),
            purl: c.key(),
            source: src.clone(),
        })
        .collect();
    output::print(&rows, a.format.format)?;
    if let Some(name) = &a.asset {
        let store = context::open_store(&cfg).await?;
        let now = now()?;
        let asset = asset_or_create(&store, name, now).await?;
        let list: Vec<Component> = comps.into_iter().map(|(c, _)| c).collect();
        let out = vigil_vulnops::import_sbom(&store, TENANT, &cfg.vuln, &asset, "host", list, now)
            .await?;
        let (n, s) = (out.components, out.findings);
        eprintln!(
            "asset {}: {n} components stored; findings: {} new, {} fixed, {} reopened",
            asset.asset.name, s.opened, s.fixed, s.reopened
        );
        store.close().await;
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Components with the file they came from, and problems with locations.
/// Components with the file each came from.
type Found = Vec<(Component, String)>;

async fn inventory_host(a: &ScanHostArgs) -> Result<(Found, Vec<String>)> {
    let root = &a.root;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let os = match read_opt(&root.join("etc/os-release"))? {
        Some(t) => Some(OsRelease::parse(&t)),
        None => read_opt(&root.join("usr/lib/os-release"))?.map(|t| OsRelease::parse(&t)),
    };
    let mut unknown = Vec::new();
    let mut add = |label: &str, res: vigil_vuln::Result<inventory::Inventory>| match res {
        Ok(inv) => {
            problems.extend(inv.problems.into_iter().map(|p| format!("{label}: {p}")));
            out.extend(inv.components.into_iter().map(|c| (c, label.to_owned())));
        }
        Err(e) => problems.push(format!("{label}: {e}")),
    };
    let dpkg = root.join("var/lib/dpkg/status");
    if let Some(t) = read_opt(&dpkg)? {
        add(
            &dpkg.display().to_string(),
            inventory::parse_dpkg_status(&t, os.as_ref()),
        );
    }
    let apk = root.join("lib/apk/db/installed");
    if let Some(t) = read_opt(&apk)? {
        add(
            &apk.display().to_string(),
            inventory::parse_apk_installed(&t, os.as_ref()),
        );
    }
    for f in &a.lockfiles {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read lock file {}", f.display()))?;
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match inventory::parse_lockfile(name, &text) {
            Some(res) => add(&f.display().to_string(), res),
            None => unknown.push(format!(
                "{}: unknown lock file name (Cargo.lock, package-lock.json, poetry.lock, requirements*.txt, go.sum)",
                f.display()
            )),
        }
    }
    problems.append(&mut unknown);
    let sqlite = root.join("var/lib/rpm/rpmdb.sqlite");
    if sqlite.exists() {
        let label = sqlite.display().to_string();
        match read_rpmdb_sqlite(&sqlite, os.as_ref()).await {
            Ok(inv) => {
                problems.extend(inv.problems.into_iter().map(|p| format!("{label}: {p}")));
                out.extend(inv.components.into_iter().map(|c| (c, label.clone())));
            }
            Err(e) => problems.push(format!("{label}: {e:#}")),
        }
    }
    for old in ["var/lib/rpm/Packages", "var/lib/rpm/Packages.db"] {
        if root.join(old).exists() && !sqlite.exists() {
            eprintln!(
                "warning: {}: Berkeley DB and ndb RPM databases are not read (only rpmdb.sqlite, as on Fedora 33+ and RHEL 9); import a scanner report (Trivy, Grype) with `vigil vulns import scan` instead",
                root.join(old).display()
            );
        }
    }
    Ok((out, problems))
}

/// Most rows read from an RPM database.
const MAX_RPM_PACKAGES: i64 = 1_000_000;

/// Reads the RPM sqlite database (`Packages(hnum, blob)`, each blob an RPM
/// header) read-only and immutable (no lock, no WAL writes), so a mounted
/// image or a live system is never changed. gpg-pubkey pseudo-packages are
/// skipped; a damaged header is reported with its `hnum` and skipped.
async fn read_rpmdb_sqlite(path: &Path, os: Option<&OsRelease>) -> Result<inventory::Inventory> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions, Row};
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true)
        .connect()
        .await
        .context("cannot open the RPM database")?;
    let rows = sqlx::query("SELECT hnum, blob FROM Packages ORDER BY hnum LIMIT ?")
        .bind(MAX_RPM_PACKAGES)
        .fetch_all(&mut conn)
        .await
        .context("cannot read the Packages table")?;
    let mut inv = inventory::Inventory::default();
    for r in &rows {
        let hnum: i64 = r.try_get("hnum").unwrap_or(-1);
        let blob: Vec<u8> = match r.try_get("blob") {
            Ok(b) => b,
            Err(e) => {
                inv.problems.push(format!("Packages hnum {hnum}: {e}"));
                continue;
            }
        };
        let parsed = inventory::parse_rpm_header(&blob).and_then(|h| {
            if h.name == "gpg-pubkey" {
                Ok(None)
            } else {
                h.component(os).map(Some)
            }
        });
        match parsed {
            Ok(Some(c)) => inv.components.push(c),
            Ok(None) => {}
            Err(e) => inv.problems.push(format!("Packages hnum {hnum}: {e}")),
        }
    }
    Ok(inv)
}
