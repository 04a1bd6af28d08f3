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
//!
//! Federation. The `platform` subgraph schema adds `Query._entities`
//! (objects by key, for a federation router) and `Query._service` (the
//! subgraph's SDL). On the connector subgraph schema:
//!
//! - `_entities` needs, before it runs, the read scope of the type of every
//!   representation it is asked for ([`Needs::PerEntity`]): the check reads
//!   the `representations` argument (with the request's variables) and
//!   refuses the whole field when one `__typename` is not readable, is not
//!   declared here, or cannot be read at all (fail closed). A router only
//!   asks `_entities` on behalf of a client field that reached the object,
//!   and the client's own fields are checked as usual, but this check does
//!   not trust that: without it `... on Location { __typename }` would let
//!   a connector without `locations:read` probe which ids exist, which
//!   `node(id:)` refuses too. The entity resolvers check the same again
//!   ([`check_node_read`]), and every field of a returned entity is still
//!   checked by its type here; row-level security keeps the connector's
//!   locations.
//! - `_service` is never available to connectors: it prints the schema
//!   whether or not introspection is on, and the gateway composes with
//!   the SDL it builds in process, so no connector needs it.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextResolve,
    ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{PathSegment, Response, ServerError, ServerResult, Value, Variables};
use prep_auth::{Action, Permission, Resource};
use serde_json::json;

use crate::audit::{AuditLog, QueuedEvent};
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};
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
    /// `Query._entities`: the read scope of the type of each representation
    /// asked for, checked from the `representations` argument before the
    /// field runs.
    PerEntity,
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
        ("Query", "node" | "nodes" | "viewer" | "rateLimit") => Some(Needs::Open),
        ("Query", "jurisdictions" | "requirements") => Some(Needs::Open),
        ("Query", "location" | "locations") => Some(read(Locations)),
        ("Query", "employee" | "employees") => Some(read(Employees)),
        ("Query", "credentials") => Some(read(Credentials)),
        ("Query", "permits") => Some(read(Permits)),
        ("Query", "inspections") => Some(read(Inspections)),
        ("Query", "complianceSummary") => Some(read(Compliance)),
        ("Query", "alerts") => Some(read(Alerts)),
        (
            "Query",
            "auditEvents" | "members" | "groups" | "ssoConnections" | "scimTokens" | "connectors"
            | "connector" | "connectorPolicy",
        ) => Some(Needs::Never),

        ("Mutation", "createLocation" | "updateLocation" | "syncLocations") => {
            Some(write(Locations))
        }
        (
            "Mutation",
            "createEmployee" | "updateEmployee" | "terminateEmployee" | "syncEmployees"
            | "terminateEmployees",
        ) => Some(write(Employees)),
        ("Mutation", "recordCredential" | "deleteCredential" | "syncCredentials") => {
            Some(write(Credentials))
        }
        ("Mutation", "recordPermit") => Some(write(Permits)),
        ("Mutation", "recordInspection" | "resolveFinding") => Some(write(Inspections)),
        ("Mutation", _) => Some(Needs::Never),

        ("Location", "employees") => Some(read(Employees)),
        ("Location", "permits") => Some(read(Permits)),
        ("Location", "inspections") => Some(read(Inspections)),
        ("Location", "alerts") => Some(read(Alerts)),
        ("Location", "compliance" | "complianceStatus") => Some(read(Compliance)),
        ("Employee", "credentials") => Some(read(Credentials)),
        ("Credential", "employee") => Some(read(Employees)),
        ("Employee" | "Permit" | "Inspection" | "Alert", "location") => Some(read(Locations)),
        ("Viewer", "user" | "roles" | "tenant" | "connector") => Some(Needs::Open),
        // federation, on the subgraph schema only (see the module's docs)
        ("Query", "_entities") => Some(Needs::PerEntity),
        ("Query", "_service") => Some(Needs::Never),
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
        // the subgraph's SDL, behind `Query._service`
        "_Service" => Needs::Never,
        _ => return None,
    };
    Some(need)
}

/// What reading an object found by `node(id)` needs.
pub fn node_needs(ty: NodeType) -> Needs {
    match type_needs(ty.name()) {
        Some(need @ (Needs::Open | Needs::Scope(_))) => need,
        Some(Needs::Never | Needs::PerEntity) | None => Needs::Never,
    }
}

/// `Ok` when the caller may learn whether an object of type `ty` exists
/// (by `node(id:)`, `nodes(ids:)` or an entity resolver): always for users
/// (their reach is row-level security's business), and for a connector
/// only with the type's read scope; otherwise `FORBIDDEN`.
pub fn check_node_read(rc: &RequestContext, ty: NodeType) -> ApiResult<()> {
    let Some(scopes) = rc.principal.access.scopes() else {
        return Ok(());
    };
    match node_needs(ty) {
        Needs::Open => Ok(()),
        Needs::Scope(p) if scopes.allows(p) => Ok(()),
        Needs::Scope(p) => Err(ApiError::Forbidden(format!(
            "this connector lacks the scope `{p}` that reading a {} needs",
            ty.name()
        ))),
        Needs::Never | Needs::PerEntity => Err(ApiError::Forbidden(format!(
            "a {} is not available to connectors",
            ty.name()
        ))),
    }
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
    /// The request's variables, kept only when the document may ask for
    /// `_entities` (whose `representations` usually arrive as one).
    variables: Mutex<Option<Variables>>,
}

/// The longest `__typename` quoted back in an error.
const MAX_QUOTED_TYPE: usize = 64;

impl ScopeCheck {
    /// The `__typename` of every representation `_entities` is asked for,
    /// or `None` when the argument cannot be read (a variable that was not
    /// kept or not given, a representation that is not an object with a
    /// string `__typename`): the caller then refuses the field.
    fn entity_types(&self, info: &ResolveInfo<'_>) -> Option<BTreeSet<String>> {
        let arg = info.field.get_argument("representations")?;
        let variables = self.variables.lock().unwrap_or_else(|e| e.into_inner());
        let value = arg
            .node
            .clone()
            .into_const_with(|name| {
                variables
                    .as_ref()
                    .and_then(|v| v.get(&name).cloned())
                    .ok_or(())
            })
            .ok()?;
        let Value::List(items) = value else {
            return None;
        };
        items
            .iter()
            .map(|item| match item {
                Value::Object(fields) => match fields.get("__typename") {
                    Some(Value::String(ty)) => Some(ty.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// `Ok` when the connector may read every entity type `_entities` is
    /// asked for; otherwise the error refusing the whole field.
    fn check_entities(
        &self,
        info: &ResolveInfo<'_>,
        scopes: prep_auth::connectors::ScopeSet,
    ) -> Result<(), ServerError> {
        let Some(types) = self.entity_types(info) else {
            let message = format!(
                "`{}.{}` needs `representations` whose every item names its `__typename`",
                info.parent_type, info.name
            );
            return Err(self.deny(info, "never", message));
        };
        for ty in &types {
            let quoted: String = ty.chars().take(MAX_QUOTED_TYPE).collect();
            match type_needs(ty) {
                Some(Needs::Open) => {}
                Some(Needs::Scope(p)) if scopes.allows(p) => {}
                Some(Needs::Scope(p)) => {
                    let message = format!(
                        "this connector lacks the scope `{p}` that `{}.{}` of a {quoted} needs",
                        info.parent_type, info.name
                    );
                    return Err(self.deny(info, &p.to_string(), message));
                }
                Some(Needs::Never | Needs::PerEntity) | None => {
                    let message = format!(
                        "`{}.{}` of a {quoted} is not available to connectors",
                        info.parent_type, info.name
                    );
                    return Err(self.deny(info, "never", message));
                }
            }
        }
        Ok(())
    }

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
            (Some(Needs::PerEntity), Some(s)) => {
                self.check_entities(&info, s)?;
                next.run(ctx, info).await
            }
            (Some(Needs::Never | Needs::PerEntity) | None, _) => {
                let message = format!(
                    "`{}.{}` is not available to connectors",
                    info.parent_type, info.name
                );
                Err(self.deny(&info, "never", message))
            }
        }
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // A field's name always appears in the text, aliased or not; other
        // documents need no copy of their (possibly large) variables.
        if query.contains("_entities") {
            *self.variables.lock().unwrap_or_else(|e| e.into_inner()) = Some(variables.clone());
        }
        next.run(ctx, query, variables).await
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
