//! Operator-side database work: creating the database, roles and schema.
//! Only `migrate` (and `serve --dev`) connect as the administrative role;
//! everything else runs as the runtime role.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _, Executor as _, PgConnection};

use crate::config::Settings;

/// The numbered migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Cluster roles and ownership; runs before the migrations.
const BOOTSTRAP: &str = include_str!("../../migrations/bootstrap/roles.sql");

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A statement failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

fn admin_options(settings: &Settings, database: &str) -> PgConnectOptions {
    let d = &settings.database;
    let mut options = PgConnectOptions::new()
        .host(&d.host)
        .port(d.port)
        .username(&d.admin_user)
        .database(database)
        .application_name("prep-gateway-migrate")
        // the bootstrap's "already a member" notices are not news
        .options([("client_min_messages", "warning")])
        .log_statements(tracing::log::LevelFilter::Debug);
    if let Some(password) = &d.admin_password {
        options = options.password(password.expose());
    }
    options
}

/// Creates the database when missing, then the roles, then applies every
/// pending migration as `prep_owner`. Idempotent.
pub async fn migrate(settings: &Settings) -> Result<(), AdminError> {
    let name = &settings.database.name;
    let mut maint = PgConnection::connect_with(&admin_options(settings, "postgres")).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut maint)
            .await?;
    if !exists {
        // identifiers cannot be bound; quote_ident does the quoting
        let create: String = sqlx::query_scalar("select format('create database %I', $1::text)")
            .bind(name)
            .fetch_one(&mut maint)
            .await?;
        match maint.execute(create.as_str()).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // a concurrent creator won the race
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }

    let mut admin = PgConnection::connect_with(&admin_options(settings, name)).await?;
    // Roles and their grants are cluster-wide, and concurrent ALTER ROLE
    // fails ("tuple concurrently updated"): serialise the bootstraps of all
    // databases with a lock in the one database they share (advisory locks
    // are per database).
    sqlx::query("select pg_advisory_lock(727274)")
        .execute(&mut maint)
        .await?;
    let boot = sqlx::raw_sql(BOOTSTRAP).execute(&mut admin).await;
    sqlx::query("select pg_advisory_unlock(727274)")
        .execute(&mut maint)
        .await?;
    maint.close().await?;
    boot?;
    if let Some(password) = &settings.database.password {
        let alter: String =
            sqlx::query_scalar("select format('alter role %I password %L', $1::text, $2::text)")
                .bind(&settings.database.user)
                .bind(password.expose())
                .fetch_one(&mut admin)
                .await?;
        admin.execute(alter.as_str()).await?;
    }
    admin.close().await?;

    // Every object the migrations create is owned by prep_owner.
    let owner = PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("set role prep_owner").await?;
                Ok(())
            })
        })
        .connect_with(admin_options(settings, name))
        .await?;
    MIGRATOR.run(&owner).await?;
    owner.close().await;
    Ok(())
}
