//! Deterministic seed data for sandbox and demo tenants: a restaurant chain
//! with kitchens across California, Texas, Florida and Illinois, its crew,
//! their credentials, permits, inspections and findings.
//!
//! The data is planned in memory first (plain rows, tested without a
//! database) and then bulk-inserted through the tenant's own RLS-scoped
//! transaction, so seeding obeys exactly the rules the gateway does. Every
//! date is an offset from a `today` anchor, so the demo tells the same story
//! (a card expiring next week, a permit lapsed last month) whenever it runs.

mod catalog;
mod cities;
mod facility;
mod insert;
mod people;
mod plan;
pub mod playground;
mod rng;

#[cfg(test)]
mod plan_tests;

use chrono::NaiveDate;
use prep_tenancy::{Database, TenantId, TenantTx};

/// How big a chain to seed, and from which seed: the same spec and anchor
/// day always give the same rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeedSpec {
    /// PRNG seed; another seed gives another, equally plausible chain.
    pub seed: u64,
    /// Stores in the chain, numbered from 0001.
    pub locations: u32,
    /// Crew per store, including its general and kitchen managers.
    pub employees_per_location: u32,
}

impl SeedSpec {
    /// Small enough to browse by hand, big enough that every kind of alert
    /// and every jurisdiction shows up.
    pub fn demo() -> Self {
        Self {
            seed: 42,
            locations: 25,
            employees_per_location: 12,
        }
    }

    /// Realistic chain size (10,000 employees) for load tests and benchmarks.
    pub fn bench() -> Self {
        Self {
            seed: 7,
            locations: 500,
            employees_per_location: 20,
        }
    }
}

/// Rows inserted, so callers can log or assert what a seed produced
/// without querying for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Locations inserted.
    pub locations: u32,
    /// Employees inserted.
    pub employees: u32,
    /// Credentials inserted.
    pub credentials: u32,
    /// Permits inserted.
    pub permits: u32,
    /// Inspections inserted.
    pub inspections: u32,
    /// Findings inserted.
    pub findings: u32,
}

/// Why seeding or resetting failed; nothing is kept in either case, since
/// each runs in a single transaction.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The tenant transaction could not be begun or committed.
    #[error("tenant transaction failed: {0}")]
    Tenancy(#[from] prep_tenancy::TenancyError),
    /// A statement failed, e.g. because the tenant was not empty.
    #[error("database error while seeding: {0}")]
    Database(#[from] sqlx::Error),
    /// The compliance engine could not evaluate a seeded location.
    #[error("compliance evaluation of seeded data failed: {0}")]
    Compliance(String),
}

/// Locations per batch of insert statements: bounds the size of each
/// statement's arrays while keeping round trips few (six per batch).
const CHUNK: usize = 50;

/// Inserts the seed into an (empty) tenant. `today` anchors every date so
/// that the data looks the same relative to any run date.
///
/// One transaction for the whole seed: a failure leaves the tenant as it
/// was, and a reader never sees a chain without its compliance statuses.
/// Row ids are drawn from the seed salted with the tenant, so a reset and
/// reseed restores the very same ids while two tenants never share one.
pub async fn seed_tenant(
    db: &Database,
    tenant: TenantId,
    spec: &SeedSpec,
    today: NaiveDate,
) -> Result<SeedReport, SeedError> {
    let mut tx = db.begin(tenant).await?;
    let report = seed_into(&mut tx, spec, today).await?;
    tx.commit().await?;
    Ok(report)
}

/// Deletes a sandbox's domain rows and seeds it again, in one transaction:
/// nobody ever sees it half empty, and the ids come back the same (they are
/// drawn from the seed salted with the tenant).
pub async fn reseed_tenant(
    db: &Database,
    tenant: TenantId,
    spec: &SeedSpec,
    today: NaiveDate,
) -> Result<SeedReport, SeedError> {
    let mut tx = db.begin(tenant).await?;
    insert::reset(&mut tx).await?;
    let report = seed_into(&mut tx, spec, today).await?;
    tx.commit().await?;
    Ok(report)
}

async fn seed_into(
    tx: &mut TenantTx,
    spec: &SeedSpec,
    today: NaiveDate,
) -> Result<SeedReport, SeedError> {
    let tenant = tx.tenant();
    let plan = plan::generate(spec, today, rng::salt_of(tenant.as_uuid()));
    let mut report = SeedReport::default();
    for chunk in plan.locations.chunks(CHUNK) {
        report.locations += count(insert::locations(tx, chunk).await?);
        report.employees += count(insert::employees(tx, chunk).await?);
        report.credentials += count(insert::credentials(tx, chunk).await?);
        report.permits += count(insert::permits(tx, chunk).await?);
        report.inspections += count(insert::inspections(tx, chunk).await?);
        report.findings += count(insert::findings(tx, chunk).await?);
        evaluate(tx, chunk, today).await?;
    }
    Ok(report)
}

/// Runs the compliance engine on each seeded location, as the gateway does
/// after any change of facts, so statuses and alerts are there from the
/// start instead of waiting for the reviewer.
async fn evaluate(
    tx: &mut TenantTx,
    chunk: &[plan::LocationPlan],
    today: NaiveDate,
) -> Result<(), SeedError> {
    for location in chunk {
        prep_resolvers::compliance::recompute(tx, location.location.id, today)
            .await
            // ApiError deliberately has no Display (see resolvers' error.rs).
            .map_err(|e| SeedError::Compliance(format!("{e:?}")))?;
    }
    Ok(())
}

/// Deletes the tenant's domain rows (locations and everything hanging off
/// them, statuses and alerts included) so a sandbox can be reseeded to its
/// pristine state. Users, the tenant itself and the append-only audit trail
/// are kept: a reset is itself something the audit trail should outlive.
pub async fn reset_tenant(db: &Database, tenant: TenantId) -> Result<(), SeedError> {
    let mut tx = db.begin(tenant).await?;
    insert::reset(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

fn count(rows: u64) -> u32 {
    u32::try_from(rows).unwrap_or(u32::MAX)
}
