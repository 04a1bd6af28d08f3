//! Which domain owns each part of the API: the domains as federation
//! subgraphs.
//!
//! One executable schema resolves every domain (they share the request's
//! transaction and DataLoaders), and each domain is also a federation
//! subgraph of its own: the root fields and entity fields it owns, the
//! entities it points at (by key), and the value types it returns. The
//! gateway composes these subgraphs with the remote ones, and one domain
//! can be served on its own (`serve --subgraph workforce`) and declared as a
//! remote of the same name without a client noticing (`docs/federation.md`).
//!
//! Ownership is declared here, by a type's default or by a field of its
//! own, as connector scopes are ([`crate::scopes`]). Only root fields and
//! the fields of entities (the `Node` types, keyed by `id`) are owned: a
//! value type goes with every field that returns it, and is `@shareable`
//! where two domains return it. A test walks the whole schema so no root
//! field or entity field goes unowned.

/// The domains, each the name of its federation subgraph.
pub const DOMAINS: &[&str] = &[
    TENANT, IDENTITY, CONNECTORS, LOCATIONS, WORKFORCE, FACILITIES, COMPLIANCE, ALERTS,
];

/// Every domain at once, as one subgraph: what `serve --subgraph platform`
/// serves, and what the gateway plans the domains it runs in process as.
pub const ALL_DOMAINS: &str = "platform";

/// The tenant itself: object identification, the viewer, its limits, its
/// audit trail, the sandbox.
pub const TENANT: &str = "tenant";
/// Users, groups, role grants, SSO and SCIM.
pub const IDENTITY: &str = "identity";
/// ERP and HRIS connectors and their keys.
pub const CONNECTORS: &str = "connectors";
/// Locations (kitchens) and their addresses.
pub const LOCATIONS: &str = "locations";
/// Employees and their credentials.
pub const WORKFORCE: &str = "workforce";
/// Permits, inspections and findings.
pub const FACILITIES: &str = "facilities";
/// Jurisdictions, requirements and compliance status.
pub const COMPLIANCE: &str = "compliance";
/// Alerts.
pub const ALERTS: &str = "alerts";

/// The domain that owns `parent.field`: a root field, or a field of an
/// entity. `None` for a value type's field (it goes with the fields that
/// return its type) or an undeclared one.
pub fn owner(parent: &str, field: &str) -> Option<&'static str> {
    let own = match (parent, field) {
        ("Query", "node" | "nodes" | "viewer" | "rateLimit" | "auditEvents") => TENANT,
        ("Mutation", "resetSandbox") => TENANT,
        ("Query", "members" | "groups" | "ssoConnections" | "scimTokens") => IDENTITY,
        (
            "Mutation",
            "grantRole"
            | "revokeRole"
            | "setUserActive"
            | "createGroup"
            | "renameGroup"
            | "deleteGroup"
            | "addGroupMembers"
            | "removeGroupMembers"
            | "createSsoConnection"
            | "updateSsoConnection"
            | "testSsoConnection"
            | "addSsoDomain"
            | "createScimToken"
            | "rotateScimToken"
            | "revokeScimToken",
        ) => IDENTITY,
        ("Query", "connectors" | "connector" | "connectorPolicy") => CONNECTORS,
        (
            "Mutation",
            "createConnector" | "updateConnector" | "rollConnectorKey" | "revokeConnector"
            | "revokeConnectorKey" | "setConnectorPolicy",
        ) => CONNECTORS,
        ("Query", "location" | "locations") => LOCATIONS,
        ("Mutation", "createLocation" | "updateLocation" | "syncLocations") => LOCATIONS,
        ("Query", "employee" | "employees" | "credentials") => WORKFORCE,
        (
            "Mutation",
            "createEmployee" | "updateEmployee" | "terminateEmployee" | "recordCredential"
            | "deleteCredential" | "syncEmployees" | "terminateEmployees" | "syncCredentials",
        ) => WORKFORCE,
        ("Query", "permits" | "inspections") => FACILITIES,
        ("Mutation", "recordPermit" | "recordInspection" | "resolveFinding") => FACILITIES,
        ("Query", "jurisdictions" | "requirements" | "complianceSummary") => COMPLIANCE,
        ("Query", "alerts") => ALERTS,

        // a location's facts belong to the domains that keep them
        ("Location", "employees") => WORKFORCE,
        ("Location", "permits" | "inspections") => FACILITIES,
        ("Location", "complianceStatus" | "compliance" | "jurisdictions") => COMPLIANCE,
        ("Location", "alerts") => ALERTS,
        _ => return entity_owner(parent),
    };
    Some(own)
}

/// The domain that keeps an entity (and, by default, its fields).
fn entity_owner(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "Location" => LOCATIONS,
        "Employee" | "Credential" => WORKFORCE,
        "Permit" | "Inspection" => FACILITIES,
        "Requirement" => COMPLIANCE,
        "Alert" => ALERTS,
        _ => return None,
    })
}

/// Whether `name` is one of the domains.
pub fn is_domain(name: &str) -> bool {
    DOMAINS.contains(&name)
}

/// Whether `name` is one of the gateway's own subgraphs (a domain, or all
/// of them): served by this code, so it checks connectors' scopes itself
/// and is told the tenant's budget.
pub fn is_own(name: &str) -> bool {
    name == ALL_DOMAINS || is_domain(name)
}
