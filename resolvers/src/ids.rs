//! Relay global ids: opaque to clients, typed for us.
//!
//! An id is base64url("<Type>:<uuid>"). Decoding checks the type, so an
//! employee id passed where a location id belongs is rejected as bad input
//! instead of being looked up in the wrong table.

use async_graphql::ID;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use uuid::Uuid;

use crate::error::ApiError;

/// The object types that have global ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// A tenant.
    Tenant,
    /// A location (kitchen).
    Location,
    /// A jurisdiction.
    Jurisdiction,
    /// A requirement.
    Requirement,
    /// An employee.
    Employee,
    /// A credential.
    Credential,
    /// A permit.
    Permit,
    /// An inspection.
    Inspection,
    /// A finding of an inspection.
    Finding,
    /// An alert.
    Alert,
    /// An audit event.
    AuditEvent,
    /// A user.
    User,
    /// A role granted to a user or a group.
    RoleGrant,
    /// An SSO connection.
    SsoConnection,
    /// A group of users.
    Group,
    /// A SCIM bearer token.
    ScimToken,
    /// An ERP or HRIS connector client.
    Connector,
    /// One API key of a connector.
    ConnectorKey,
}

impl NodeType {
    const ALL: [NodeType; 18] = [
        NodeType::Tenant,
        NodeType::Location,
        NodeType::Jurisdiction,
        NodeType::Requirement,
        NodeType::Employee,
        NodeType::Credential,
        NodeType::Permit,
        NodeType::Inspection,
        NodeType::Finding,
        NodeType::Alert,
        NodeType::AuditEvent,
        NodeType::User,
        NodeType::RoleGrant,
        NodeType::SsoConnection,
        NodeType::Group,
        NodeType::ScimToken,
        NodeType::Connector,
        NodeType::ConnectorKey,
    ];

    /// The GraphQL type name, also the id's prefix.
    pub fn name(self) -> &'static str {
        match self {
            NodeType::Tenant => "Tenant",
            NodeType::Location => "Location",
            NodeType::Jurisdiction => "Jurisdiction",
            NodeType::Requirement => "Requirement",
            NodeType::Employee => "Employee",
            NodeType::Credential => "Credential",
            NodeType::Permit => "Permit",
            NodeType::Inspection => "Inspection",
            NodeType::Finding => "Finding",
            NodeType::Alert => "Alert",
            NodeType::AuditEvent => "AuditEvent",
            NodeType::User => "User",
            NodeType::RoleGrant => "RoleGrant",
            NodeType::SsoConnection => "SsoConnection",
            NodeType::Group => "Group",
            NodeType::ScimToken => "ScimToken",
            NodeType::Connector => "Connector",
            NodeType::ConnectorKey => "ConnectorKey",
        }
    }
}

/// Encodes a global id.
pub fn encode(ty: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", ty.name(), id)))
}

/// Decodes any global id into its type and UUID.
pub fn decode_any(id: &ID) -> Result<(NodeType, Uuid), ApiError> {
    let invalid = || ApiError::bad_input(format!("{:?} is not a valid id", truncate(id)));
    if id.len() > 128 {
        return Err(invalid());
    }
    let raw = URL_SAFE_NO_PAD
        .decode(id.as_bytes())
        .map_err(|_| invalid())?;
    let text = std::str::from_utf8(&raw).map_err(|_| invalid())?;
    let (name, uuid) = text.split_once(':').ok_or_else(invalid)?;
    let ty = NodeType::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(invalid)?;
    let uuid = Uuid::parse_str(uuid).map_err(|_| invalid())?;
    Ok((ty, uuid))
}

/// Decodes a global id that must name an object of type `ty`.
pub fn decode(id: &ID, ty: NodeType) -> Result<Uuid, ApiError> {
    match decode_any(id)? {
        (found, uuid) if found == ty => Ok(uuid),
        _ => Err(ApiError::bad_input(format!(
            "{:?} is not a {} id",
            truncate(id),
            ty.name()
        ))),
    }
}

fn truncate(id: &ID) -> String {
    id.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_typed() {
        let uuid = Uuid::new_v4();
        let id = encode(NodeType::Location, uuid);
        assert_eq!(decode(&id, NodeType::Location).ok(), Some(uuid));
        assert!(decode(&id, NodeType::Employee).is_err());
        for bad in ["", "!!!", "TG9jYXRpb246", "Tm9wZTo0"] {
            assert!(decode_any(&ID(bad.into())).is_err(), "{bad}");
        }
    }
}
