//! The command line: `serve`, `migrate`, `seed`, `tenant create`,
//! `token mint` and `sdl`. Every command takes `--config` and `--help`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use prep_auth::users;
use prep_auth::{Grant, Keyring, MasterKey, Role, Rotation, TokenSubject};
use prep_tenancy::{Database, NewTenant, TenantId, TenantSlug};

use crate::app::{App, AppState};
use crate::config::Settings;

/// Prep Gateway: the federated GraphQL front door of the Prep compliance platform.
#[derive(Parser, Debug)]
#[command(name = "prep-gateway", version, about)]
pub struct Cli {
    /// TOML configuration file; environment variables `PREP_<SECTION>__<KEY>` override it.
    #[arg(long, global = true, env = "PREP_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Create the database, roles and schema, or bring them up to date.
    Migrate,
    /// Create a tenant (if missing) and fill it with deterministic seed data.
    Seed(SeedArgs),
    /// Tenant administration.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Token administration.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The gateway's signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// SSO administration that needs an operator.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Print the public GraphQL schema (SDL).
    Sdl,
}

/// `serve` options.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Local development: migrate, create a signing key if missing, seed the
    /// sandbox tenant if it is empty, and print the URL and a bearer token.
    #[arg(long)]
    pub dev: bool,
}

/// Seed sizes.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SeedSize {
    /// 25 locations, about 300 employees.
    Demo,
    /// 500 locations, 10,000 employees (benchmarks).
    Bench,
}

/// `seed` options.
#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Tenant slug; created if missing.
    #[arg(long, default_value = "sandbox")]
    pub tenant: String,
    /// How much data.
    #[arg(long, value_enum, default_value = "demo")]
    pub size: SeedSize,
    /// Delete the tenant's existing domain data first (restores the seed exactly).
    #[arg(long)]
    pub reset: bool,
}

/// Tenant commands.
#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// URL-safe name: lower-case letters, digits, inner hyphens.
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Plan tier.
        #[arg(long, default_value = "standard", value_parser = ["free", "standard", "enterprise"])]
        plan: String,
        /// Mark as a sandbox tenant.
        #[arg(long)]
        sandbox: bool,
    },
}

/// Token commands.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Mint a short-lived bearer token for a user of a tenant (the user is
    /// created if missing). Prints only the token.
    Mint {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// Lifetime in seconds (60 to 86400; default `auth.token_ttl_secs`).
        #[arg(long, value_parser = clap::value_parser!(u64).range(60..=86_400))]
        ttl_secs: Option<u64>,
        /// Grant this role first (repeatable): `owner`, `admin`,
        /// `compliance_manager`, `auditor`, `staff`, or `ROLE@LOCATION_UUID`
        /// for one location. A user without roles sees nothing.
        #[arg(long = "role", value_parser = parse_grant)]
        roles: Vec<Grant>,
    },
}

/// Signing key commands.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// List the published keys.
    List,
    /// Rotate now. Planned: the new key is published first and signs after
    /// `auth.key_publish_ahead_secs`; the old one verifies until its tokens
    /// expire. `--emergency`: the new key signs at once and every token of
    /// the old key stops working.
    Rotate {
        /// The old key is compromised.
        #[arg(long)]
        emergency: bool,
    },
}

/// SSO operator commands.
#[derive(Subcommand, Debug)]
pub enum SsoCommand {
    /// Mark a tenant's claimed e-mail domain verified (after checking its
    /// DNS TXT record `_prep-verification.<domain>`), so it routes sign-ins.
    VerifyDomain {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// The domain, e.g. `acme.com`.
        #[arg(long)]
        domain: String,
    },
}

fn parse_grant(raw: &str) -> Result<Grant, String> {
    Grant::from_claim(raw)
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Configuration problems.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Migration problems.
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    /// Key problems.
    #[error(transparent)]
    Auth(#[from] prep_auth::AuthError),
    /// Tenant creation problems.
    #[error(transparent)]
    CreateTenant(#[from] prep_tenancy::CreateTenantError),
    /// Database problems.
    #[error(transparent)]
    Tenancy(#[from] prep_tenancy::TenancyError),
    /// Seeding problems.
    #[error("seeding failed: {0}")]
    Seed(#[from] prep_sandbox::SeedError),
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// I/O problems.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(&settings.telemetry);
    match cli.command {
        Command::Serve(args) => serve(settings, args).await,
        Command::Migrate => {
            crate::admin::migrate(&settings).await?;
            println!("database {} is up to date", settings.database.name);
            Ok(())
        }
        Command::Seed(args) => {
            let db = Database::connect_lazy(&settings.pool_settings());
            let (tenant, report) = seed(&db, &args.tenant, args.size, args.reset).await?;
            println!(
                "tenant {} ({tenant}): {} locations, {} employees, {} credentials, {} permits, {} inspections",
                args.tenant, report.locations, report.employees, report.credentials, report.permits, report.inspections
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::Create {
            slug,
            name,
            plan,
            sandbox,
        }) => {
            let db = Database::connect_lazy(&settings.pool_settings());
            let slug = TenantSlug::parse(&slug).map_err(CliError::Usage)?;
            let id = db
                .create_tenant(&NewTenant {
                    slug: slug.clone(),
                    name,
                    plan,
                    is_sandbox: sandbox,
                })
                .await?;
            println!("created tenant {slug} ({id})");
            Ok(())
        }
        Command::Token(TokenCommand::Mint {
            tenant,
            email,
            ttl_secs,
            roles,
        }) => {
            let master = MasterKey::load_or_create(&settings.auth.master_key_file, false)?;
            let state = App::build(settings, master).await?;
            let ttl = Duration::from_secs(ttl_secs.unwrap_or(state.settings.auth.token_ttl_secs));
            let token = mint(&state, &tenant, &email, &roles, ttl).await?;
            println!("{token}");
            Ok(())
        }
        Command::Keys(command) => {
            let master = MasterKey::load_or_create(&settings.auth.master_key_file, false)?;
            let keyring = Keyring::open(
                Database::connect_lazy(&settings.pool_settings()),
                &master,
                settings.rotation_policy(),
            )
            .await?;
            if let KeysCommand::Rotate { emergency } = command {
                let how = if emergency {
                    Rotation::Emergency
                } else {
                    Rotation::Planned
                };
                let kid = keyring.rotate(how).await?;
                println!("rotated: new key {kid} ({how:?})");
            }
            for kid in keyring.kids() {
                println!("{kid}");
            }
            Ok(())
        }
        Command::Sso(SsoCommand::VerifyDomain { tenant, domain }) => {
            let db = Database::connect_lazy(&settings.pool_settings());
            let tenant = find_tenant(&db, &tenant).await?;
            let mut tx = db.begin(tenant).await?;
            prep_auth::sso::admin::verify_domain(&mut tx, &domain)
                .await
                .map_err(|e| match e {
                    prep_auth::sso::admin::AdminError::NotFound => {
                        CliError::Usage(format!("the tenant has not claimed {domain:?}"))
                    }
                    prep_auth::sso::admin::AdminError::Invalid(p) => CliError::Usage(
                        p.into_iter()
                            .map(|p| p.message)
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                    other => CliError::Usage(other.to_string()),
                })?;
            tx.commit().await?;
            println!("verified {domain}");
            Ok(())
        }
        Command::Sdl => {
            print!("{}", prep_schema::sdl());
            Ok(())
        }
    }
}

async fn find_tenant(db: &Database, slug: &str) -> Result<TenantId, CliError> {
    let slug = TenantSlug::parse(slug).map_err(CliError::Usage)?;
    db.tenant_by_slug(&slug)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no tenant with slug {slug:?}")))
}

/// Mints a token for `email` in tenant `slug`, creating the user if missing
/// and granting `roles` first (by the operator).
pub async fn mint(
    state: &AppState,
    slug: &str,
    email: &str,
    roles: &[Grant],
    ttl: Duration,
) -> Result<String, CliError> {
    if !(3..=320).contains(&email.len()) || !email.contains('@') {
        return Err(CliError::Usage(format!(
            "{email:?} is not an e-mail address"
        )));
    }
    let tenant = find_tenant(&state.db, slug).await?;
    let mut tx = state.db.begin(tenant).await?;
    let user = users::ensure_user(&mut tx, email, "").await?;
    for grant in roles {
        users::grant_role(&mut tx, user, *grant, "operator").await?;
    }
    let grants = users::grants_of(&mut tx, user).await?;
    tx.commit().await?;
    let subject = TokenSubject {
        tenant,
        tenant_slug: slug,
        user,
        grants: &grants,
    };
    Ok(state.tokens.issue(&subject, ttl)?)
}

/// Creates the tenant if missing and seeds it (only if it has no locations,
/// unless `reset`).
pub async fn seed(
    db: &Database,
    slug: &str,
    size: SeedSize,
    reset: bool,
) -> Result<(TenantId, prep_sandbox::SeedReport), CliError> {
    let parsed = TenantSlug::parse(slug).map_err(CliError::Usage)?;
    let tenant = match db.tenant_by_slug(&parsed).await? {
        Some(id) => id,
        None => {
            db.create_tenant(&NewTenant {
                slug: parsed.clone(),
                name: format!("{} (seeded)", slug),
                plan: if slug == "sandbox" {
                    "free".into()
                } else {
                    "standard".into()
                },
                is_sandbox: slug == "sandbox",
            })
            .await?
        }
    };
    if reset {
        prep_sandbox::reset_tenant(db, tenant).await?;
    }
    let spec = match size {
        SeedSize::Demo => prep_sandbox::SeedSpec::demo(),
        SeedSize::Bench => prep_sandbox::SeedSpec::bench(),
    };
    let report =
        prep_sandbox::seed_tenant(db, tenant, &spec, prep_resolvers::clock::today()).await?;
    Ok((tenant, report))
}

async fn serve(settings: Settings, args: ServeArgs) -> Result<(), CliError> {
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
    tracing::info!(listen = %state.settings.server.listen, "serving");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let interval = state.settings.compliance.review_interval_secs;
    let reviewer = (interval > 0).then(|| {
        tokio::spawn(crate::reviewer::run(
            state.db.clone(),
            Duration::from_secs(interval),
            stop_rx,
        ))
    });
    let grace = Duration::from_secs(state.settings.server.shutdown_grace_secs);
    let app = crate::http::router(state.clone());
    let shutdown_state = state.clone();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutdown requested: draining");
        shutdown_state.draining.store(true, Ordering::Relaxed);
    });
    server.await?;
    let _ = stop_tx.send(true);
    if let Some(handle) = reviewer {
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
            Err(prep_auth::AuthError::Store(e)) if std::time::Instant::now() < deadline => {
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
