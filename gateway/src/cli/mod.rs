//! The command line: `serve`, `migrate`, `seed`, `tenant create`,
//! `token mint`, `keys`, `sso` and `sdl`. Every command takes `--config`
//! and `--help`.

mod ops;
mod serve;

use ops::find_tenant;
pub use ops::{mint, seed};
use serve::serve;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use prep_auth::{Grant, Keyring, MasterKey, Rotation};
use prep_tenancy::{Database, NewTenant, TenantSlug};

use crate::app::App;
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
    /// Print the public GraphQL schema (SDL), or a subgraph's.
    Sdl {
        /// Print this subgraph's Federation v2 SDL instead: a domain, or
        /// `platform` for all of them.
        #[arg(long, value_name = "NAME", value_parser = subgraph_names())]
        subgraph: Option<String>,
    },
    /// Federation tools.
    #[command(subcommand)]
    Federation(FederationCommand),
}

/// Federation commands.
#[derive(Subcommand, Debug)]
pub enum FederationCommand {
    /// Serve a supergraph file as a plain federation router: no database,
    /// tenancy or authentication. For the conformance suite and
    /// benchmarks; never expose it to users.
    Serve {
        /// The composed supergraph SDL (`join/v0.3`).
        #[arg(long, value_name = "FILE")]
        supergraph: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:4000")]
        listen: std::net::SocketAddr,
        /// Deadline for one subgraph call, in milliseconds.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=300_000))]
        subgraph_timeout_ms: u64,
    },
}

/// `serve` options.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Local development: migrate, create a signing key if missing, seed the
    /// sandbox tenant if it is empty, and print the URL and a bearer token.
    #[arg(long, conflicts_with = "subgraph")]
    pub dev: bool,
    /// Serve only the named domain (`platform`: all of them) as a standard
    /// federation subgraph, for a gateway that declares it under
    /// `[[federation.subgraphs]]`. It takes only the gateway's signed
    /// subgraph tokens.
    #[arg(long, value_name = "NAME", value_parser = subgraph_names())]
    pub subgraph: Option<String>,
}

/// What `serve --subgraph` takes: every domain, or all of them.
fn subgraph_names() -> clap::builder::PossibleValuesParser {
    let all = prep_resolvers::domains::ALL_DOMAINS;
    clap::builder::PossibleValuesParser::new(
        std::iter::once(all).chain(prep_resolvers::domains::DOMAINS.iter().copied()),
    )
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
    /// Show or change a tenant's plan and its overrides of the plan's
    /// limits; prints the limits in force. Replicas pick changes up within
    /// `limits.tenant_cache_secs`.
    Limits {
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Move the tenant to another plan tier.
        #[arg(long, value_parser = ["free", "standard", "enterprise"])]
        plan: Option<String>,
        /// Override one limit (repeatable), e.g. `requests_per_second=500`;
        /// names as in the `limits.tiers` configuration.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Drop every override first.
        #[arg(long)]
        reset: bool,
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
    /// The app could not be built.
    #[error(transparent)]
    Build(#[from] crate::app::BuildError),
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
        Command::Tenant(TenantCommand::Limits {
            tenant,
            plan,
            set,
            reset,
        }) => {
            let db = Database::connect_lazy(&settings.pool_settings());
            let shown = ops::tenant_limits(&db, &settings, &tenant, plan, &set, reset).await?;
            println!("{shown}");
            Ok(())
        }
        Command::Token(TokenCommand::Mint {
            tenant,
            email,
            ttl_secs,
            roles,
        }) => {
            let master = MasterKey::load_or_create(&settings.auth.master_key_file, false)?;
            // Minting needs the keyring, not the subgraphs: without this the
            // command would start composing a supergraph it never serves.
            let mut settings = settings;
            settings.federation.subgraphs.clear();
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
        Command::Federation(FederationCommand::Serve {
            supergraph,
            listen,
            subgraph_timeout_ms,
        }) => {
            let options = crate::federation::http::HttpOptions {
                timeout: Duration::from_millis(subgraph_timeout_ms),
                ..Default::default()
            };
            crate::federation::standalone::serve(&supergraph, listen, options)
                .await
                .map_err(|e| CliError::Usage(e.to_string()))
        }
        Command::Sdl { subgraph } => {
            match subgraph.as_deref() {
                None => print!("{}", prep_schema::sdl()),
                Some(prep_resolvers::domains::ALL_DOMAINS) => {
                    print!("{}", prep_schema::subgraph_sdl())
                }
                Some(domain) => print!(
                    "{}",
                    prep_schema::domains::sdl_of(domain).unwrap_or_default()
                ),
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
