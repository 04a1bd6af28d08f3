//! `serve`: the long-running process.

use std::sync::atomic::Ordering;
use std::time::Duration;

use prep_auth::{Grant, MasterKey, Role};
use prep_tenancy::TenantSlug;

use super::{mint, seed, CliError, SeedSize, ServeArgs};
use crate::app::{App, AppState};
use crate::config::Settings;

pub(super) async fn serve(mut settings: Settings, args: ServeArgs) -> Result<(), CliError> {
    if args.subgraph.is_some() {
        // A subgraph composes nothing: the gateway in front does.
        settings.federation.subgraphs.clear();
    }
    if args.dev {
        crate::admin::migrate(&settings).await?;
    }
    let master = MasterKey::load_or_create(&settings.auth.master_key_file, args.dev)?;
    let state = build_when_database_answers(settings, master).await?;
    let listener = tokio::net::TcpListener::bind(state.settings.server.listen).await?;
    let url = state
        .settings
        .server
        .public_url
        .trim_end_matches('/')
        .to_owned();
    if args.dev {
        let slug = TenantSlug::parse("sandbox").map_err(CliError::Usage)?;
        let seeded = match state.db.tenant_by_slug(&slug).await? {
            Some(_) => false,
            None => {
                seed(&state.db, "sandbox", SeedSize::Demo, false).await?;
                true
            }
        };
        let token = mint(
            &state,
            "sandbox",
            "developer@sandbox.prep.test",
            &[Grant {
                role: Role::Owner,
                location: None,
            }],
            Duration::from_secs(8 * 3600),
        )
        .await?;
        println!();
        println!("  Prep Gateway is listening on {url}");
        println!("  Playground:        {url}/sandbox   (create your own sandbox there)");
        println!("  GraphQL endpoint:  POST {url}/graphql");
        println!(
            "  Sandbox tenant:    sandbox ({})",
            if seeded {
                "seeded just now"
            } else {
                "already seeded"
            }
        );
        println!("  Bearer token (8h): {token}");
        println!();
        println!("  Try it:");
        println!(
            "  curl -s {url}/graphql -H 'content-type: application/json' -H \"authorization: Bearer $TOKEN\" \\"
        );
        println!("    -d '{{\"query\":\"{{ complianceSummary {{ totals {{ locations compliant atRisk nonCompliant }} }} }}\"}}'");
        println!();
    }
    match &args.subgraph {
        Some(name) => tracing::info!(
            listen = %state.settings.server.listen,
            subgraph = %name,
            "serving the subgraph alone; only the gateway's signed tokens are accepted"
        ),
        None => tracing::info!(listen = %state.settings.server.listen, "serving"),
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let interval = state.settings.compliance.review_interval_secs;
    let reviewer = (interval > 0).then(|| {
        tokio::spawn(crate::reviewer::run(
            state.db.clone(),
            Duration::from_secs(interval),
            stop_rx.clone(),
        ))
    });
    let sandbox = &state.settings.sandbox;
    let sandbox_end = (sandbox.end_sweep_secs > 0 && args.subgraph.is_none()).then(|| {
        tokio::spawn(crate::sandbox_end::run(
            state.db.clone(),
            Duration::from_secs(sandbox.end_sweep_secs),
            Duration::from_secs(sandbox.token_ttl_secs),
            stop_rx.clone(),
        ))
    });
    let grace = Duration::from_secs(state.settings.server.shutdown_grace_secs);
    let app = match &args.subgraph {
        Some(name) => crate::http::subgraph_router(state.clone(), name),
        None => crate::http::router(state.clone()),
    };
    let shutdown_state = state.clone();
    // the peer address feeds connector address ranges and per-IP limits
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: draining");
        shutdown_state.draining.store(true, Ordering::Relaxed);
    });
    server.await?;
    let _ = stop_tx.send(true);
    for handle in [reviewer, sandbox_end].into_iter().flatten() {
        let _ = tokio::time::timeout(grace, handle).await;
    }
    let _ = tokio::time::timeout(grace, state.db.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// The keyring lives in PostgreSQL: a replica that starts before the
/// database is reachable waits for it (up to a minute) instead of dying.
async fn build_when_database_answers(
    settings: Settings,
    master: MasterKey,
) -> Result<AppState, CliError> {
    let key = std::fs::read_to_string(&settings.auth.master_key_file)?;
    let mut delay = Duration::from_millis(250);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut master = Some(master);
    loop {
        let attempt = master
            .take()
            .map_or_else(|| MasterKey::from_base64(&key), Ok)?;
        match App::build(settings.clone(), attempt).await {
            Ok(state) => return Ok(state),
            Err(crate::app::BuildError::Auth(prep_auth::AuthError::Store(e)))
                if std::time::Instant::now() < deadline =>
            {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
