//! `vigil users …`: people who sign in to the web console. Passwords are
//! read from stdin (the first line) or, on a terminal, prompted for twice
//! with echo off; never taken from the command line, where other users of
//! the machine could see them.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use vigil_model::{Clock, Role, SystemClock, TenantId, Timestamp};
use vigil_store::UserRecord;

use crate::cli::UsersCommand;
use crate::config::Config;
use crate::context;
use crate::output::{self, Row};

#[derive(Serialize)]
struct UserRow {
    username: String,
    role: Role,
    created_at: String,
    created_by: String,
    last_login_at: Option<String>,
    state: &'static str,
}

impl UserRow {
    fn new(u: UserRecord, now: Timestamp) -> Self {
        let state = if u.disabled_at.is_some() {
            "disabled"
        } else if u.is_locked(now) {
            "locked"
        } else {
            "active"
        };
        Self {
            username: u.username,
            role: u.role,
            created_at: u.created_at.to_rfc3339(),
            created_by: u.created_by,
            last_login_at: u.last_login_at.map(|t| t.to_rfc3339()),
            state,
        }
    }
}

impl Row for UserRow {
    fn headers() -> &'static [&'static str] {
        &["username", "role", "state", "created", "last login"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.username.clone(),
            self.role.to_string(),
            self.state.to_owned(),
            self.created_at.clone(),
            self.last_login_at.clone().unwrap_or_else(|| "-".into()),
        ]
    }
}

/// Turns terminal echo off while it lives (via `stty`; restored on drop).
struct NoEcho(bool);

impl NoEcho {
    fn new() -> Self {
        let ok = std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success());
        Self(ok)
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        if self.0 {
            let _ = std::process::Command::new("stty")
                .arg("echo")
                .stdin(std::process::Stdio::inherit())
                .status();
        }
    }
}

fn read_line(prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let _guard = tty.then(|| {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        NoEcho::new()
    });
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    if tty {
        eprintln!();
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The new password: one line of stdin, or typed twice on a terminal.
fn new_password() -> Result<String> {
    let first = read_line("New password: ")?;
    if std::io::stdin().is_terminal() {
        let again = read_line("Repeat it: ")?;
        if again != first {
            bail!("the passwords differ");
        }
    }
    vigil_store::check_password(&first).map_err(anyhow::Error::msg)?;
    Ok(first)
}

pub async fn run(cfg: Config, cmd: UsersCommand) -> Result<ExitCode> {
    let store = context::open_store(&cfg).await?;
    let by = context::cli_principal();
    let now = SystemClock.now();
    match cmd {
        UsersCommand::Add { username, role } => {
            let role: Role = role.parse()?;
            let password = new_password()?;
            let u = store
                .create_user(TenantId::DEFAULT, &username, role, &password, &by, now)
                .await
                .map_err(|e| match e {
                    e if e.is_conflict() => anyhow::anyhow!("user {username:?} already exists"),
                    e => anyhow::Error::new(e),
                })?;
            println!("Added {} user {:?}.", u.role, u.username);
        }
        UsersCommand::List { format } => {
            let rows: Vec<UserRow> = store
                .list_users(TenantId::DEFAULT)
                .await?
                .into_iter()
                .map(|u| UserRow::new(u, now))
                .collect();
            output::print(&rows, format)?;
        }
        UsersCommand::Passwd { username } => {
            if store.find_user(&username).await?.is_none() {
                bail!("no user {username:?} (see `vigil users list`)");
            }
            let password = new_password()?;
            store
                .set_user_password(&username, &password, &by, now)
                .await?;
            println!("Password of {username:?} changed; its sessions ended.");
        }
        UsersCommand::Disable { username } => {
            if store.find_user(&username).await?.is_none() {
                bail!("no user {username:?} (see `vigil users list`)");
            }
            store.disable_user(&username, &by, now).await?;
            println!("Disabled {username:?}; its sessions ended.");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
