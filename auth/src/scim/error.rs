//! SCIM errors (RFC 7644 §3.12): an HTTP status, the `scimType` where the
//! RFC defines one, and a detail safe to show the IdP admin. Store failures
//! carry no detail to the client; the edge logs them with the request id.

use serde_json::{json, Value};

/// The RFC's `scimType` values for 400 (and 409, 413) responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax is invalid or names an unknown attribute.
    InvalidFilter,
    /// The filter or request yields too many results or operations.
    TooMany,
    /// A value must be unique and is not (409).
    Uniqueness,
    /// An attempt to change a read-only or immutable attribute.
    Mutability,
    /// The body is not valid SCIM (or not valid JSON).
    InvalidSyntax,
    /// A PATCH path is invalid or names an unknown attribute.
    InvalidPath,
    /// A PATCH path's filter matched nothing.
    NoTarget,
    /// A value has the wrong type or is not allowed.
    InvalidValue,
    /// The `version` (ETag) sent is not supported.
    InvalidVers,
    /// The request would put personal data in a URL.
    Sensitive,
}

impl ScimType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

/// Why a SCIM request failed.
#[derive(Debug, thiserror::Error)]
pub enum ScimError {
    /// 400 with a `scimType`.
    #[error("{detail}")]
    BadRequest {
        /// The RFC's classification.
        scim_type: ScimType,
        /// What was wrong, for the IdP admin.
        detail: String,
    },
    /// 401: no, malformed, unknown, expired or revoked SCIM token.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 404: no such resource in this tenant (the same for another tenant's).
    #[error("resource {0} not found")]
    NotFound(String),
    /// 405: the endpoint does not take this method.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// 409 uniqueness: another resource holds the value.
    #[error("{0}")]
    Conflict(String),
    /// 412: `If-Match` does not match the resource's current version.
    #[error("the resource changed: its version is no longer the one in If-Match")]
    PreconditionFailed,
    /// 413: the body is larger than the service accepts.
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 501: declared unsupported (`/Bulk`, sorting on an unsortable attribute).
    #[error("{0}")]
    NotImplemented(&'static str),
    /// 429: the tenant's (or this token's) request rate is spent.
    #[error("too many requests; retry after {0} s")]
    TooManyRequests(u64),
    /// 503: no capacity for the tenant right now.
    #[error("{0}; retry shortly")]
    Unavailable(&'static str),
    /// 500: the store failed. The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ScimError {
    /// A 400 with the given type and detail.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError::BadRequest {
            scim_type,
            detail: detail.into(),
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ScimError::BadRequest { .. } => 400,
            ScimError::Unauthorized(_) => 401,
            ScimError::NotFound(_) => 404,
            ScimError::MethodNotAllowed => 405,
            ScimError::Conflict(_) => 409,
            ScimError::PreconditionFailed => 412,
            ScimError::PayloadTooLarge(_) => 413,
            ScimError::NotImplemented(_) => 501,
            ScimError::TooManyRequests(_) => 429,
            ScimError::Unavailable(_) => 503,
            ScimError::Internal(_) => 500,
        }
    }

    /// The `scimType`, where the RFC defines one for this failure.
    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            ScimError::BadRequest { scim_type, .. } => Some(*scim_type),
            ScimError::Conflict(_) => Some(ScimType::Uniqueness),
            ScimError::PayloadTooLarge(_) => Some(ScimType::TooMany),
            _ => None,
        }
    }

    /// The error body: `status` is a string, as RFC 7644 §3.12 says.
    pub fn body(&self) -> Value {
        let detail = match self {
            ScimError::Internal(_) => "internal error; the request id identifies it".to_owned(),
            other => other.to_string(),
        };
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status().to_string(),
            "detail": detail,
        });
        if let Some(t) = self.scim_type() {
            body["scimType"] = Value::String(t.as_str().to_owned());
        }
        body
    }
}

impl From<prep_tenancy::TenancyError> for ScimError {
    fn from(e: prep_tenancy::TenancyError) -> Self {
        ScimError::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for ScimError {
    fn from(e: sqlx::Error) -> Self {
        ScimError::Internal(e.to_string())
    }
}

/// The SCIM error message schema.
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
