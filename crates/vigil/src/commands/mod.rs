//! One module per subcommand; `run` dispatches.

mod admin;
mod alerts;
pub mod attack;
mod cvss;
pub mod feeds;
mod hunt;
mod ingest;
pub mod intel;
pub mod intel_ops;
mod intel_sink;
mod listeners;
pub mod respond;
pub(crate) mod rules;
mod scheduler;
mod serve;
mod taxii_client;
pub mod threats;
mod users;
pub mod vuln;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, ConfigCommand, ListenersCommand};
use crate::config::Config;

/// Runs the parsed command line; the exit code for success paths.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let cfg = Config::load(&cli.global)?;
    match cli.command {
        Command::Serve(a) => serve::run(cfg, a, cli.global.clone()).await,
        Command::Ingest(a) => ingest::run(cfg, a).await,
        Command::Alerts(a) => alerts::run(cfg, a).await,
        Command::Incidents(c) => respond::incidents(cfg, c).await,
        Command::Playbooks(c) => respond::playbooks(cfg, c).await,
        Command::Runs(c) => respond::runs(cfg, c).await,
        Command::Token(t) => admin::token(cfg, t).await,
        Command::Users(u) => users::run(cfg, u).await,
        Command::Audit(a) => admin::audit(cfg, a).await,
        Command::Secret(s) => admin::secret(cfg, s).await,
        Command::Listeners(ListenersCommand::Status(a)) => listeners::status(cfg, a).await,
        Command::Cvss(a) => cvss::run(a),
        Command::Assets(a) => vuln::assets(cfg, a).await,
        Command::Sbom(a) => vuln::sbom(cfg, a).await,
        Command::Scan(a) => vuln::scan(cfg, a).await,
        Command::Vulns(a) => vuln::vulns(cfg, a).await,
        Command::Rules(r) => rules::run(cfg, r).await,
        Command::Hunt(a) => hunt::run(a).await,
        Command::Intel(c) => intel::run(cfg, c).await,
        Command::Attack(c) => attack::run(cfg, c).await,
        Command::Threats(c) => threats::run(cfg, c).await,
        Command::Coverage(a) => threats::coverage_cmd(cfg, a).await,
        Command::Config(ConfigCommand::Show { format }) => {
            print!("{}", cfg.show(&format)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
