//! The `vigil` binary: command-line parsing, configuration and wiring of the
//! library crates. No domain logic lives here.

mod builtin_rules;
mod cli;
mod commands;
mod config;
mod context;
mod lock;
mod output;
mod sigma;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, LogFormat};

/// mimalloc instead of glibc malloc: ingest allocates many small, short-lived
/// buffers (framed messages, field values, bind arguments) across threads,
/// where glibc's arenas spent about a quarter of the server's CPU time in
/// `malloc`/`free`/`malloc_consolidate` under sustained syslog load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // rustls with ring for every HTTP client (reqwest is built without a
    // provider of its own). Fails only if one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    init_tracing(
        cli.global.log.as_deref().unwrap_or(default_level),
        cli.global.log_format,
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(filter: &str, format: Option<LogFormat>) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if format == Some(LogFormat::Json) {
        b.json().init();
    } else {
        b.init();
    }
}
