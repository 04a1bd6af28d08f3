//! The discovery endpoints (RFC 7644 §4): what this service provider
//! supports, its resource types and its schemas, rendered from the one
//! attribute catalogue.

use serde_json::{json, Value};

use super::schema::{Attr, ResourceType, Schema, GROUPS, LIST_RESPONSE, USERS};

/// The most resources one list response holds.
pub const MAX_RESULTS: i64 = 200;
/// The largest request body accepted.
pub const MAX_PAYLOAD: usize = 1024 * 1024;

const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `/ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC],
        "documentationUri": "https://prep.example/docs/scim",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM bearer token",
            "description": "A per-tenant token created by a tenant admin in Prep.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

/// Every resource type.
pub const RESOURCE_TYPES: [&ResourceType; 2] = [&USERS, &GROUPS];

/// One resource type.
pub fn resource_type(rt: &ResourceType, base: &str) -> Value {
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|s| json!({ "schema": s.id, "required": false }))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE],
        "id": rt.name,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", rt.name),
        },
    })
}

/// Every schema, core first.
pub fn schemas() -> Vec<&'static Schema> {
    let mut all = Vec::new();
    for rt in RESOURCE_TYPES {
        all.push(rt.schema);
        all.extend(rt.extensions.iter().copied());
    }
    all
}

/// One schema definition.
pub fn schema(s: &Schema, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{}", s.id),
        },
    })
}

fn attribute(a: &Attr) -> Value {
    let mut v = json!({
        "name": a.name,
        "type": a.kind.as_str(),
        "multiValued": a.multi,
        "description": a.description,
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": a.mutability.as_str(),
        "returned": a.returned.as_str(),
        "uniqueness": if a.unique { "server" } else { "none" },
    });
    if !a.canonical.is_empty() {
        v["canonicalValues"] = json!(a.canonical);
    }
    if !a.reference_types.is_empty() {
        v["referenceTypes"] = json!(a.reference_types);
    }
    if !a.sub.is_empty() {
        v["subAttributes"] = Value::Array(a.sub.iter().map(attribute).collect());
    }
    v
}

/// A list response of everything given (discovery lists are not paged).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}
