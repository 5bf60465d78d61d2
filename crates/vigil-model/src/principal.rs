//! Who acted: API tokens, users, playbooks, the system itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::TenantId;

/// A role. Enforced server-side on every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens and settings.
    Admin,
    /// Read and triage; no tokens or settings.
    Analyst,
    /// Read only.
    Viewer,
    /// Machines that send events; nothing else.
    Ingest,
    /// Machines that read blocklist and TAXII feeds; nothing else.
    Feed,
}

/// A role name did not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid role {0:?}: expected admin, analyst, viewer, ingest or feed")]
pub struct RoleParseError(String);

impl Role {
    /// All roles.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Analyst,
        Role::Viewer,
        Role::Ingest,
        Role::Feed,
    ];

    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::Ingest => "ingest",
            Role::Feed => "feed",
        }
    }

    /// Can this role read alerts, events and other analyst data?
    pub const fn can_read(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst | Role::Viewer)
    }

    /// Can this role change analyst data (triage, cases)?
    pub const fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// Can this role send events?
    pub const fn can_ingest(self) -> bool {
        matches!(self, Role::Admin | Role::Ingest)
    }

    /// Can this role read feeds (blocklists, TAXII)?
    pub const fn can_read_feeds(self) -> bool {
        matches!(
            self,
            Role::Admin | Role::Analyst | Role::Viewer | Role::Feed
        )
    }

    /// Can this role administer tokens, users and settings?
    pub const fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = RoleParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| RoleParseError(s.chars().take(32).collect()))
    }
}

/// What kind of actor a [`Principal`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// An API token.
    Token,
    /// A person signed in to the console.
    User,
    /// An automation playbook.
    Playbook,
    /// Vigil itself (migrations, scheduler, CLI run by the operator).
    System,
}

impl PrincipalKind {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Token => "token",
            PrincipalKind::User => "user",
            PrincipalKind::Playbook => "playbook",
            PrincipalKind::System => "system",
        }
    }
}

/// The actor behind a request or job; carried into every audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// Token, user, playbook or system.
    pub kind: PrincipalKind,
    /// Stable id (token id, user id, playbook id, `cli`, …).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// The tenant it acts in.
    pub tenant: TenantId,
    /// Its role.
    pub role: Role,
}

impl Principal {
    /// The system principal of the default tenant (CLI run by the operator).
    pub fn system(id: &str) -> Self {
        Self {
            kind: PrincipalKind::System,
            id: id.to_owned(),
            name: id.to_owned(),
            tenant: TenantId::DEFAULT,
            role: Role::Admin,
        }
    }

    /// `kind:id`, the form written into audit entries.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_gate() {
        assert_eq!("Viewer".parse::<Role>().unwrap(), Role::Viewer);
        assert!(!Role::Viewer.can_ingest());
        assert!(!Role::Ingest.can_read());
        assert!(Role::Feed.can_read_feeds() && !Role::Feed.can_read());
        assert!("root".parse::<Role>().is_err());
    }
}
