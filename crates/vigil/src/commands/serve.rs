//! `vigil serve`: the pipeline, the HTTP server and the scheduler in one
//! process, with graceful shutdown that drains the pipeline.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use vigil_model::{Role, TenantId};
use vigil_pipeline::{Metrics, Pipeline};
use vigil_server::{AppState, ServerConfig};

use crate::cli::ServeArgs;
use crate::commands::scheduler;
use crate::config::Config;
use crate::{context, lock};

pub async fn run(
    mut cfg: Config,
    args: ServeArgs,
    globals: crate::cli::GlobalArgs,
) -> Result<ExitCode> {
    if let Some(l) = args.listen {
        cfg.server.listen = l;
    }
    cfg.detect.sigma.rules.extend(args.rules.iter().cloned());
    let _lock = if cfg.is_sqlite() {
        Some(lock::acquire(&cfg.data_dir, "serve")?)
    } else {
        None
    };
    let store = context::open_store(&cfg).await?;
    let secret_key = context::secret_key(&cfg)?;
    // Notified when TAXII posts or feed syncs changed indicators.
    let intel_changed = Arc::new(tokio::sync::Notify::new());
    let (registry, clock) = context::runtime();
    // The built-in pack and the rules of the configured directories in the
    // stored rule state (new rules enabled, known ones keep their state).
    let by = vigil_model::Principal::system("serve");
    let dirs: Vec<&std::path::Path> = cfg.detect.sigma.rules.iter().map(|p| p.as_path()).collect();
    crate::builtin_rules::register(&store, &dirs, &by, clock.as_ref()).await?;
    let sigma_metrics = crate::sigma::SigmaMetrics::default();
    // What each build leaves out, for the console's rules page.
    let rule_errors = vigil_server::RuleLoadErrors::default();
    let sigma = crate::sigma::SigmaRuntime {
        state: context::sigma_state(&store).await?,
        metrics: Some(sigma_metrics.clone()),
        errors: Some(rule_errors.clone()),
    };
    let mut detectors = context::detectors(&cfg, &registry, &sigma)?;
    // Threat intel: the stored indicators active now (rebuilt on SIGHUP and
    // when they change; expiry and decay apply per hit).
    if let Some(d) = crate::commands::intel::detector(
        &store,
        &registry,
        clock.now(),
        cfg.detect.intel.decay_model(),
    )
    .await?
    {
        detectors.push(Box::new(d));
    }
    let metrics = Arc::new(Metrics::default());
    let (pipeline, tasks) = Pipeline::start(
        store.clone(),
        registry,
        detectors,
        clock.clone(),
        cfg.pipeline_config(),
        metrics,
    )
    .await
    .context("cannot start the pipeline")?;

    if store.count_active_tokens().await? == 0 {
        let by = context::cli_principal();
        let (rec, plaintext) = store
            .create_token(
                TenantId::DEFAULT,
                "bootstrap-admin",
                Role::Admin,
                None,
                &by,
                clock.now(),
            )
            .await?;
        println!(
            "No API token existed, so an admin token was created (id {}).",
            rec.id
        );
        println!("Admin token (shown once; store it now): {plaintext}");
    }

    scheduler::register(&store, &cfg, clock.as_ref()).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let owner = format!("{}:{}", hostname(), std::process::id());
    let env = scheduler::JobEnv {
        key: Some(secret_key.clone()),
        intel_changed: intel_changed.clone(),
    };
    let sched = tokio::spawn(scheduler::run(
        store.clone(),
        clock.clone(),
        owner,
        env,
        stop_rx.clone(),
    ));
    // Playbooks: the configured directories into the store, then the
    // runner (triggers from the change feed, schedules, due runs — which
    // resumes every run a previous process left unfinished).
    let loaded =
        crate::commands::respond::sync_playbook_dirs(&store, &cfg.respond.playbooks, &by).await?;
    if loaded > 0 {
        println!("Playbooks: {loaded} new or changed version(s) loaded");
    }
    let runner = Arc::new(
        crate::commands::respond::runner::Runner::new(
            store.clone(),
            clock.clone(),
            &cfg.respond,
            secret_key,
        )
        .context("cannot start the playbook runner")?,
    );
    let runner_task = tokio::spawn(runner.run_forever(
        std::time::Duration::from_secs(cfg.respond.interval_secs.max(1)),
        stop_rx,
    ));
    // Intel sightings committed with the alerts, counted on the indicators;
    // stopped after the pipeline drained, so its last ones count too.
    let (sightings_stop, sightings_rx) = tokio::sync::watch::channel(false);
    let sightings = tokio::spawn(crate::commands::intel_ops::sightings::run(
        store.clone(),
        clock.clone(),
        sightings_rx,
    ));

    let server_cfg = ServerConfig {
        max_event_bytes: cfg.server.max_event_bytes,
        max_body_bytes: cfg.server.max_body_bytes,
        max_decompressed_bytes: cfg.server.max_decompressed_bytes,
        max_evtx_bytes: cfg.server.max_evtx_bytes,
        hec_ack: cfg.server.hec_ack,
        clock_rules: cfg.respond.clock_rules(),
        task_templates: cfg.respond.task_templates.clone(),
        rule_status: crate::commands::threats::rule_statuses(&cfg.detect.sigma.rules),
        console: vigil_server::ConsoleConfig {
            secure_cookies: cfg.server.secure_cookies,
            session_idle: std::time::Duration::from_secs(
                cfg.server.session_idle_mins.max(1).saturating_mul(60),
            ),
            ..vigil_server::ConsoleConfig::default()
        },
        builtin_rules: crate::builtin_rules::PACK,
        ..ServerConfig::default()
    };
    // Listeners feed the running pipeline; they stop before it on shutdown.
    let listener_metrics = vigil_listeners::ListenerMetrics::default();
    let listeners = vigil_listeners::Listeners::start(
        &cfg.listeners.syslog,
        pipeline.clone(),
        clock.clone(),
        listener_metrics.clone(),
    )
    .await
    .context("cannot start the listeners")?;
    for b in listeners.bound() {
        println!("Syslog listener {} on {}://{}", b.name, b.protocol, b.addr);
    }
    let mut server_cfg = server_cfg;
    server_cfg.listeners = listeners
        .bound()
        .iter()
        .map(|b| vigil_server::ListenerInfo {
            name: b.name.clone(),
            protocol: b.protocol.to_string(),
            address: b.addr.to_string(),
            tls: b.protocol == vigil_listeners::Protocol::Tls,
        })
        .chain([vigil_server::ListenerInfo {
            name: "hec".into(),
            protocol: "hec".into(),
            address: format!("{}/services/collector", cfg.server.listen),
            tls: cfg.server.tls_cert.is_some(),
        }])
        .collect();
    let sink = crate::commands::intel_sink::StoreSink {
        store: store.clone(),
        clock: clock.clone(),
        changed: intel_changed.clone(),
    };
    // Hosts seen in events become (or link to) assets.
    let discovery = (cfg.vuln.discovery_interval_secs > 0).then(|| {
        tokio::spawn(crate::commands::vuln::discovery::run(
            store.clone(),
            pipeline.registry().clone(),
            clock.clone(),
            std::time::Duration::from_secs(cfg.vuln.discovery_interval_secs),
        ))
    });
    let state = AppState::new(store.clone(), pipeline.clone(), clock.clone(), server_cfg)
        .with_vuln_settings(cfg.vuln.clone())
        .with_sigma_config(crate::commands::rules::sigma_config(
            &cfg.detect.sigma.mappings,
        )?)
        .with_rule_errors(rule_errors.clone())
        .with_metrics(|r| {
            listener_metrics.register(r);
            sigma_metrics.register(r);
        })
        .with_intel_sink(Arc::new(sink));
    let reloader = tokio::spawn(reload_detectors(
        Reload {
            globals,
            rules: args.rules,
            pipeline,
            store: store.clone(),
            clock,
            metrics: sigma_metrics,
            rule_errors,
        },
        state.rules_changed(),
        intel_changed,
    ));
    let tls = match (&cfg.server.tls_cert, &cfg.server.tls_key) {
        (Some(c), Some(k)) => Some(
            vigil_server::TlsConfig::from_pem_files(c, k)
                .map_err(anyhow::Error::msg)
                .context("cannot set up HTTPS ([server] tls_cert, tls_key)")?,
        ),
        (None, None) => None,
        _ => anyhow::bail!("[server] tls_cert and tls_key go together"),
    };
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another server running there?)",
                cfg.server.listen
            )
        })?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "Vigil listening on {scheme}://{addr} (data: {})",
        data_label(&cfg)
    );
    tracing::info!(%addr, scheme, "listening");
    match tls {
        Some(tls) => vigil_server::serve_tls(listener, tls, state, shutdown).await,
        None => vigil_server::serve(listener, state, shutdown).await,
    }
    .context("HTTP server failed")?;

    tracing::info!("shutting down: stopping the listeners, then draining the pipeline");
    listeners.shutdown().await;
    let _ = stop_tx.send(true);
    tasks.shutdown().await.context("pipeline shutdown")?;
    let _ = sched.await;
    let _ = sightings_stop.send(true);
    let _ = sightings.await;
    let _ = runner_task.await;
    reloader.abort();
    if let Some(d) = discovery {
        d.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// How long an intel change waits before the detectors are rebuilt, so
/// changes arriving together cause one rebuild.
const INTEL_RELOAD_SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// What a detector reload needs.
struct Reload {
    globals: crate::cli::GlobalArgs,
    rules: Vec<std::path::PathBuf>,
    pipeline: vigil_pipeline::PipelineHandle,
    store: vigil_store::Store,
    clock: Arc<dyn vigil_model::Clock>,
    metrics: crate::sigma::SigmaMetrics,
    rule_errors: vigil_server::RuleLoadErrors,
}

/// Hot-reloads the detectors on SIGHUP, when the rule state changes
/// through the API (`rules_changed`) and when TAXII posts or feed syncs
/// change the indicators (`intel_changed`, settled for a moment): re-reads the configuration (and the
/// Sigma rules, `--rules` included), registers new rule files, reads the
/// stored rule state (enabled flags, overrides, uploads) and swaps the
/// detectors between batches, so no event is dropped; their state
/// (correlation windows) carries over by detector id. A bad configuration
/// keeps the old detectors.
async fn reload_detectors(
    r: Reload,
    rules_changed: Arc<tokio::sync::Notify>,
    intel_changed: Arc<tokio::sync::Notify>,
) {
    #[cfg(unix)]
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(h) => Some(h),
        Err(e) => {
            tracing::warn!(error = %e, "cannot install the SIGHUP handler; reloads only on rule changes");
            None
        }
    };
    loop {
        #[cfg(unix)]
        let why = tokio::select! {
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "sighup",
            () = rules_changed.notified() => "rule state changed",
            () = intel_changed.notified() => {
                // Let a burst of TAXII posts and feed syncs settle into one
                // rebuild (a rebuild recompiles every detector).
                tokio::time::sleep(INTEL_RELOAD_SETTLE).await;
                "intel indicators changed"
            }
        };
        #[cfg(not(unix))]
        let why = tokio::select! {
            () = rules_changed.notified() => "rule state changed",
            () = intel_changed.notified() => {
                tokio::time::sleep(INTEL_RELOAD_SETTLE).await;
                "intel indicators changed"
            }
        };
        tracing::info!(reason = why, "reloading the detectors");
        match build(&r).await {
            Ok(detectors) => match r.pipeline.reload(detectors).await {
                Ok(()) => tracing::info!(reason = why, "detectors reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "detector reload failed; keeping the previous detectors")
                }
            },
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "invalid configuration or rules; keeping the previous detectors"
            ),
        }
    }
}

/// The detectors a reload installs.
async fn build(r: &Reload) -> Result<Vec<Box<dyn vigil_model::Detector>>> {
    let mut cfg = Config::load(&r.globals)?;
    cfg.detect.sigma.rules.extend(r.rules.iter().cloned());
    let by = vigil_model::Principal::system("serve");
    let dirs: Vec<&std::path::Path> = cfg.detect.sigma.rules.iter().map(|p| p.as_path()).collect();
    crate::builtin_rules::register(&r.store, &dirs, &by, r.clock.as_ref()).await?;
    let sigma = crate::sigma::SigmaRuntime {
        state: context::sigma_state(&r.store).await?,
        metrics: Some(r.metrics.clone()),
        errors: Some(r.rule_errors.clone()),
    };
    let decay = cfg.detect.intel.decay_model();
    // Compiling rules is CPU work: off the async threads.
    let reg = r.pipeline.registry().clone();
    let mut d = tokio::task::spawn_blocking(move || context::detectors(&cfg, &reg, &sigma))
        .await
        .map_err(|e| anyhow::anyhow!("detector build task failed: {e}"))??;
    match crate::commands::intel::detector(&r.store, r.pipeline.registry(), r.clock.now(), decay)
        .await
    {
        Ok(Some(i)) => d.push(Box::new(i)),
        Ok(None) => {}
        Err(e) => tracing::error!(error = format!("{e:#}"), "intel indicators not reloaded"),
    }
    Ok(d)
}

fn data_label(cfg: &Config) -> String {
    if cfg.is_sqlite() {
        format!("SQLite {}", cfg.sqlite_path().display())
    } else {
        "PostgreSQL".into()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "vigil".into())
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called (before the server announces itself), not when first polled.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    })
}
