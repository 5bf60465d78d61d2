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
    let mut detectors = context::detectors(&cfg, &registry)?;
    // Threat intel: the stored indicators valid now (rebuilt on SIGHUP).
    if let Some(d) = crate::commands::intel::detector(&store, &registry, clock.now()).await? {
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
        ..ServerConfig::default()
    };
    let reloader = tokio::spawn(reload_on_sighup(
        globals,
        args.rules,
        pipeline.clone(),
        store.clone(),
        clock.clone(),
        intel_changed.clone(),
    ));
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
    let sink = crate::commands::intel_sink::StoreSink {
        store: store.clone(),
        clock: clock.clone(),
        changed: intel_changed,
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
    let state = AppState::new(store.clone(), pipeline, clock, server_cfg)
        .with_vuln_settings(cfg.vuln.clone())
        .with_metrics(|r| listener_metrics.register(r))
        .with_intel_sink(Arc::new(sink));
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
    println!(
        "Vigil listening on http://{addr} (data: {})",
        data_label(&cfg)
    );
    tracing::info!(%addr, "listening");
    vigil_server::serve(listener, state, shutdown)
        .await
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

/// SIGHUP re-reads the configuration (and the Sigma rules, `--rules`
/// included) and hot-reloads the detectors; their state carries over by
/// detector id. A bad configuration keeps the old one. `intel_changed`
/// (TAXII posts, feed syncs) triggers the same reload, so new indicators
/// are matched.
async fn reload_on_sighup(
    globals: crate::cli::GlobalArgs,
    rules: Vec<std::path::PathBuf>,
    pipeline: vigil_pipeline::PipelineHandle,
    store: vigil_store::Store,
    clock: Arc<dyn vigil_model::Clock>,
    intel_changed: Arc<tokio::sync::Notify>,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup()).ok();
        loop {
            let hup_recv = async {
                match hup.as_mut() {
                    Some(h) => h.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = hup_recv => if r.is_none() { break },
                _ = intel_changed.notified() => {
                    // Let a burst of posts and syncs settle into one rebuild
                    // (a rebuild recompiles every detector).
                    tokio::time::sleep(INTEL_RELOAD_SETTLE).await;
                    tracing::info!("intel indicators changed; rebuilding the detectors");
                }
            }
            // Compiling rules is CPU work: off the async threads.
            let (g, r, reg) = (globals.clone(), rules.clone(), pipeline.registry().clone());
            let new = tokio::task::spawn_blocking(move || {
                Config::load(&g).and_then(|mut c| {
                    c.detect.sigma.rules.extend(r);
                    context::detectors(&c, &reg)
                })
            })
            .await
            .unwrap_or_else(|e| Err(anyhow::anyhow!("detector build task failed: {e}")));
            let new = match new {
                Ok(mut d) => {
                    match crate::commands::intel::detector(&store, pipeline.registry(), clock.now())
                        .await
                    {
                        Ok(Some(i)) => d.push(Box::new(i)),
                        Ok(None) => {}
                        Err(e) => tracing::error!(
                            error = format!("{e:#}"),
                            "intel indicators not reloaded"
                        ),
                    }
                    Ok(d)
                }
                Err(e) => Err(e),
            };
            match new {
                Ok(detectors) => match pipeline.reload(detectors).await {
                    Ok(()) => tracing::info!("configuration reloaded"),
                    Err(e) => {
                        tracing::error!(error = %e, "detector reload failed; keeping the previous detectors")
                    }
                },
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "invalid configuration; keeping the previous detectors"
                ),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (globals, rules, pipeline, store, clock, intel_changed);
    }
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
