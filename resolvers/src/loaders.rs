//! One set of DataLoaders per request, all reading through the request's
//! tenant scope: a nested field costs one statement per level of the
//! response, not one per parent object.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::ErrorExtensions as _;
use prep_tenancy::TenantScope;
use uuid::Uuid;

use crate::alerts::{Alert, AlertsByLocation};
use crate::error::ApiError;
use crate::facilities::{
    FindingsByInspection, Inspection, InspectionsByLocation, Permit, PermitsByLocation,
};
use crate::locations::LocationLoader;
use crate::members::GrantsByUser;
use crate::reference::{JurisdictionChains, RequirementLoader, RequirementStatusesByLocation};
use crate::workforce::{Credential, CredentialsByEmployee, EmployeeLoader, EmployeesByLocation};

/// Maps a shared loader error to the GraphQL error it stands for.
pub fn load_err(err: Arc<ApiError>) -> async_graphql::Error {
    err.as_ref().extend()
}

/// Groups rows that arrive sorted by parent into per-parent lists.
pub fn group_by<K: Hash + Eq, T>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut out: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}

macro_rules! by_id_loader {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $sql:literal) => {
        $(#[$doc])*
        pub struct $name(pub(crate) TenantScope);

        impl Loader<Uuid> for $name {
            type Value = $ty;
            type Error = Arc<ApiError>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, $ty>, Self::Error> {
                let mut db = self.0.read().await.map_err(|e| Arc::new(e.into()))?;
                let rows = sqlx::query_as!($ty, $sql, keys)
                    .fetch_all(db.conn())
                    .await
                    .map_err(|e| Arc::new(e.into()))?;
                Ok(rows.into_iter().map(|r| (r.id, r)).collect())
            }
        }
    };
}

by_id_loader!(
    /// Credentials by id.
    CredentialLoader,
    Credential,
    "select id, employee_id, external_id, kind, issuer, certificate_number, issued_on, expires_on from credentials where id = any ($1)"
);
by_id_loader!(
    /// Permits by id.
    PermitLoader,
    Permit,
    "select id, location_id, kind, permit_number, issuing_authority, issued_on, expires_on from permits where id = any ($1)"
);
by_id_loader!(
    /// Inspections by id.
    InspectionLoader,
    Inspection,
    "select id, location_id, inspected_on, kind, agency, score, result from inspections where id = any ($1)"
);
by_id_loader!(
    /// Alerts by id.
    AlertLoader,
    Alert,
    "select id, location_id, kind, severity, subject_type, subject_id, message, due_on, created_at, resolved_at from alerts where id = any ($1)"
);

/// The request's loaders.
pub struct Loaders {
    /// Locations by id.
    pub locations: DataLoader<LocationLoader>,
    /// Employees by id.
    pub employees: DataLoader<EmployeeLoader>,
    /// Credentials by id.
    pub credentials: DataLoader<CredentialLoader>,
    /// Permits by id.
    pub permits: DataLoader<PermitLoader>,
    /// Inspections by id.
    pub inspections: DataLoader<InspectionLoader>,
    /// Requirements by id.
    pub requirements: DataLoader<RequirementLoader>,
    /// Alerts by id.
    pub alerts: DataLoader<AlertLoader>,
    /// Current employees per location.
    pub employees_by_location: DataLoader<EmployeesByLocation>,
    /// Credentials per employee.
    pub credentials_by_employee: DataLoader<CredentialsByEmployee>,
    /// Jurisdiction chains.
    pub jurisdiction_chains: DataLoader<JurisdictionChains>,
    /// Requirement statuses per location.
    pub requirement_statuses: DataLoader<RequirementStatusesByLocation>,
    /// Permits per location.
    pub permits_by_location: DataLoader<PermitsByLocation>,
    /// Inspections per location.
    pub inspections_by_location: DataLoader<InspectionsByLocation>,
    /// Findings per inspection.
    pub findings_by_inspection: DataLoader<FindingsByInspection>,
    /// Open alerts per location.
    pub alerts_by_location: DataLoader<AlertsByLocation>,
    /// Role grants per user.
    pub grants_by_user: DataLoader<GrantsByUser>,
}

fn loader<T: Loader<Uuid>>(inner: T) -> DataLoader<T> {
    DataLoader::new(inner, tokio::spawn)
}

impl Loaders {
    /// Creates the loaders for one request's scope.
    pub fn new(scope: &TenantScope) -> Self {
        let s = || scope.clone();
        Self {
            locations: loader(LocationLoader(s())),
            employees: loader(EmployeeLoader(s())),
            credentials: loader(CredentialLoader(s())),
            permits: loader(PermitLoader(s())),
            inspections: loader(InspectionLoader(s())),
            requirements: loader(RequirementLoader(s())),
            alerts: loader(AlertLoader(s())),
            employees_by_location: loader(EmployeesByLocation(s())),
            credentials_by_employee: loader(CredentialsByEmployee(s())),
            jurisdiction_chains: loader(JurisdictionChains(s())),
            requirement_statuses: loader(RequirementStatusesByLocation(s())),
            permits_by_location: loader(PermitsByLocation(s())),
            inspections_by_location: loader(InspectionsByLocation(s())),
            findings_by_inspection: loader(FindingsByInspection(s())),
            alerts_by_location: loader(AlertsByLocation(s())),
            grants_by_user: loader(GrantsByUser(s())),
        }
    }
}
