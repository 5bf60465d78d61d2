//! The built-in Sigma rule pack (`rules/builtin/*.yml` in the repository),
//! compiled into the binary so a fresh `vigil serve` detects common attacks
//! with nothing to download. Its test events are under
//! `rules/builtin/tests/` (see vigil-sigma's `tests/builtin.rs`).

use std::path::Path;

use anyhow::{Context, Result};
use vigil_model::{Clock, Principal, TenantId};
use vigil_sigma::{Document, parse_file};
use vigil_store::{NewRule, RuleSource, Store};

/// `(file name, YAML)` of every rule file of the pack.
pub const PACK: &[(&str, &str)] = &[
    (
        "encoded_powershell.yml",
        include_str!("../../../rules/builtin/encoded_powershell.yml"),
    ),
    (
        "log_cleared.yml",
        include_str!("../../../rules/builtin/log_cleared.yml"),
    ),
    (
        "lsass_access.yml",
        include_str!("../../../rules/builtin/lsass_access.yml"),
    ),
    (
        "service_installed.yml",
        include_str!("../../../rules/builtin/service_installed.yml"),
    ),
    (
        "ssh_brute_force.yml",
        include_str!("../../../rules/builtin/ssh_brute_force.yml"),
    ),
    (
        "webshell_process_tree.yml",
        include_str!("../../../rules/builtin/webshell_process_tree.yml"),
    ),
    (
        "wevtutil_clear.yml",
        include_str!("../../../rules/builtin/wevtutil_clear.yml"),
    ),
];

/// The stored definitions of the rules (and correlations) in `files`:
/// documents without an `id` or that do not parse are skipped (`vigil rules
/// check` reports them). Uploads keep their text.
pub fn definitions(source: RuleSource, files: &[(String, String)]) -> Vec<NewRule> {
    let mut out: Vec<NewRule> = Vec::new();
    for (path, text) in files {
        for d in parse_file(path, text).into_iter().flatten() {
            let meta = match &d {
                Document::Rule(r) => &r.meta,
                Document::Correlation(c) => &c.meta,
                Document::Filter(_) => continue,
            };
            let Some(id) = meta.id.clone() else { continue };
            if out.iter().any(|r| r.id == id) {
                continue;
            }
            out.push(NewRule {
                id,
                title: meta.title.clone(),
                source,
                path: path.clone(),
                level: meta.level.map(|l| l.to_string()),
                tags: meta.tags.clone(),
                content: (source == RuleSource::Api).then(|| text.clone()),
            });
        }
    }
    out
}

/// Registers the built-in pack and the rules of `dirs` in the store (new
/// rules enabled; known rules keep their state). Returns how many were new.
pub async fn register(
    store: &Store,
    dirs: &[&Path],
    by: &Principal,
    clock: &dyn Clock,
) -> Result<usize> {
    let pack: Vec<(String, String)> = PACK
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect();
    let mut defs = definitions(RuleSource::Builtin, &pack);
    if !dirs.is_empty() {
        let paths: Vec<std::path::PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
        let (files, _) = crate::commands::rules::read_rule_files(&paths);
        for d in definitions(RuleSource::Dir, &files) {
            if !defs.iter().any(|x| x.id == d.id) {
                defs.push(d);
            }
        }
    }
    store
        .register_rules(TenantId::DEFAULT, &defs, by, clock.now())
        .await
        .context("cannot register the rules in the store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_parses_and_every_rule_has_an_id() {
        let pack: Vec<(String, String)> = PACK
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        let defs = definitions(RuleSource::Builtin, &pack);
        // Seven detection rules and the SSH brute-force correlation.
        assert_eq!(defs.len(), 8, "{defs:#?}");
        assert!(
            defs.iter()
                .all(|d| d.level.is_some() && d.content.is_none())
        );
    }
}
