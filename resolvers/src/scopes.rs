//! What each field of the schema needs from a connector's scopes.
//!
//! Every field declares its need here, by its type's default or by a field
//! of its own: a scope, `Open` (structural, or public reference data), or
//! `Never` (administration: members, SSO, audit, connectors). A field with
//! no declaration is denied to connectors, and a test walks the whole
//! schema so no field goes undeclared. Users are not affected: their roles
//! decide, in the resolvers.
//!
//! The check runs as an async-graphql extension on the schema that serves
//! connectors only, before each field resolves: a denied field answers
//! `FORBIDDEN` naming the missing scope and never runs (a denied mutation
//! changes nothing). The request's denied uses become one audit event.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo,
};
use async_graphql::{PathSegment, Response, ServerError, ServerResult, Value};
use prep_auth::{Action, Permission, Resource};
use serde_json::json;

use crate::audit::{AuditLog, QueuedEvent};
use crate::context::RequestContext;
use crate::ids::NodeType;

/// What a field needs from a connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: structure around a checked field, or public reference data.
    Open,
    /// This scope (or the write scope of its resource, for a read).
    Scope(Permission),
    /// Not available to connectors at all.
    Never,
}

const fn read(r: Resource) -> Needs {
    Needs::Scope(Permission(r, Action::Read))
}

const fn write(r: Resource) -> Needs {
    Needs::Scope(Permission(r, Action::Write))
}

/// The need of one field, or `None` when nothing declares it.
pub fn needs(parent: &str, field: &str) -> Option<Needs> {
    use Resource::*;
    let own = match (parent, field) {
        ("QueryRoot", "node" | "nodes" | "viewer" | "rateLimit") => Some(Needs::Open),
        ("QueryRoot", "jurisdictions" | "requirements") => Some(Needs::Open),
        ("QueryRoot", "location" | "locations") => Some(read(Locations)),
        ("QueryRoot", "employee" | "employees") => Some(read(Employees)),
        ("QueryRoot", "credentials") => Some(read(Credentials)),
        ("QueryRoot", "permits") => Some(read(Permits)),
        ("QueryRoot", "inspections") => Some(read(Inspections)),
        ("QueryRoot", "complianceSummary") => Some(read(Compliance)),
        ("QueryRoot", "alerts") => Some(read(Alerts)),
        (
            "QueryRoot",
            "auditEvents" | "members" | "groups" | "ssoConnections" | "scimTokens" | "connectors"
            | "connector" | "connectorPolicy",
        ) => Some(Needs::Never),

        ("MutationRoot", "createLocation" | "updateLocation" | "syncLocations") => {
            Some(write(Locations))
        }
        (
            "MutationRoot",
            "createEmployee" | "updateEmployee" | "terminateEmployee" | "syncEmployees"
            | "terminateEmployees",
        ) => Some(write(Employees)),
        ("MutationRoot", "recordCredential" | "deleteCredential" | "syncCredentials") => {
            Some(write(Credentials))
        }
        ("MutationRoot", "recordPermit") => Some(write(Permits)),
        ("MutationRoot", "recordInspection" | "resolveFinding") => Some(write(Inspections)),
        ("MutationRoot", _) => Some(Needs::Never),

        ("Location", "employees") => Some(read(Employees)),
        ("Location", "permits") => Some(read(Permits)),
        ("Location", "inspections") => Some(read(Inspections)),
        ("Location", "alerts") => Some(read(Alerts)),
        ("Location", "compliance" | "complianceStatus") => Some(read(Compliance)),
        ("Employee", "credentials") => Some(read(Credentials)),
        ("Credential", "employee") => Some(read(Employees)),
        ("Employee" | "Permit" | "Inspection" | "Alert", "location") => Some(read(Locations)),
        ("Viewer", "user" | "roles" | "tenant" | "connector") => Some(Needs::Open),
        _ => None,
    };
    own.or_else(|| type_needs(parent))
}

/// The default need of every field of a type.
pub fn type_needs(ty: &str) -> Option<Needs> {
    use Resource::*;
    let need = match ty {
        "Location" | "Address" => read(Locations),
        "Employee" => read(Employees),
        "Credential" => read(Credentials),
        "Permit" => read(Permits),
        "Inspection" | "Finding" => read(Inspections),
        "Alert" => read(Alerts),
        "LocationCompliance" | "RequirementStatus" | "ComplianceSummary" | "StatusCounts"
        | "StateSummary" => read(Compliance),
        // global reference data: the law, the same for everyone
        "Jurisdiction" | "Requirement" => Needs::Open,
        // an interface: its fields resolve on the concrete types, checked there
        "Node" => Needs::Open,
        // the caller's own tenant and credential
        "Tenant" | "ViewerConnector" | "RateLimit" => Needs::Open,
        // structure: reached only through a field that is checked itself
        "PageInfo" | "UserError" | "SyncRecordResult" => Needs::Open,
        t if t.ends_with("Connection") || t.ends_with("Edge") || t.ends_with("Payload") => {
            Needs::Open
        }
        "User"
        | "Group"
        | "RoleGrant"
        | "AuditEvent"
        | "SsoConnection"
        | "SsoDomain"
        | "SsoRoleMapping"
        | "ScimToken"
        | "Connector"
        | "ConnectorKey"
        | "ConnectorCredentials"
        | "ConnectorPolicy" => Needs::Never,
        _ => return None,
    };
    Some(need)
}

/// What reading an object found by `node(id)` needs.
pub fn node_needs(ty: NodeType) -> Needs {
    type_needs(ty.name()).unwrap_or(Needs::Never)
}

/// The extension that enforces [`needs`] for connectors.
pub struct ConnectorScopes;

impl ExtensionFactory for ConnectorScopes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ScopeCheck::default())
    }
}

#[derive(Default)]
struct ScopeCheck {
    /// Denied uses in this request: `Type.field` and what it needed.
    denied: Mutex<Vec<(String, String)>>,
}

impl ScopeCheck {
    fn deny(&self, info: &ResolveInfo<'_>, needed: &str, message: String) -> ServerError {
        self.denied.lock().unwrap_or_else(|e| e.into_inner()).push((
            format!("{}.{}", info.parent_type, info.name),
            needed.to_owned(),
        ));
        let mut err = ServerError::new(message, Some(info.field.name.pos));
        err.path = info
            .path_node
            .to_string_vec()
            .into_iter()
            .map(|s| match s.parse::<usize>() {
                Ok(i) => PathSegment::Index(i),
                Err(_) => PathSegment::Field(s),
            })
            .collect();
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", "FORBIDDEN");
        if needed != "never" {
            ext.set("requiredScope", needed);
        }
        err.extensions = Some(ext);
        err
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ScopeCheck {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // introspection, and the items of a list (the list's own field was
        // checked; async-graphql resolves each item under the list's type)
        if info.is_for_introspection
            || info.parent_type.starts_with("__")
            || info.parent_type.starts_with('[')
        {
            return next.run(ctx, info).await;
        }
        // fail closed: this schema serves connectors only
        let scopes = ctx
            .data_opt::<RequestContext>()
            .and_then(|rc| rc.principal.access.scopes());
        match (needs(info.parent_type, info.name), scopes) {
            (Some(Needs::Open), _) => next.run(ctx, info).await,
            (Some(Needs::Scope(p)), Some(s)) if s.allows(p) => next.run(ctx, info).await,
            (Some(Needs::Scope(p)), _) => {
                let message = format!(
                    "this connector lacks the scope `{p}` that `{}.{}` needs",
                    info.parent_type, info.name
                );
                Err(self.deny(&info, &p.to_string(), message))
            }
            (Some(Needs::Never) | None, _) => {
                let message = format!(
                    "`{}.{}` is not available to connectors",
                    info.parent_type, info.name
                );
                Err(self.deny(&info, "never", message))
            }
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        let denied = std::mem::take(&mut *self.denied.lock().unwrap_or_else(|e| e.into_inner()));
        if denied.is_empty() {
            return response;
        }
        if let (Some(rc), Some(log)) = (
            ctx.data_opt::<RequestContext>(),
            ctx.data_opt::<Arc<AuditLog>>(),
        ) {
            let fields: Vec<_> = denied
                .iter()
                .map(|(field, needed)| json!({ "field": field, "needs": needed }))
                .collect();
            log.record(QueuedEvent::of_request(
                rc,
                "connector.denied",
                (NodeType::Tenant, rc.scope.tenant().as_uuid()),
                json!({ "reason": "scope", "fields": fields }),
            ));
        }
        response
    }
}
