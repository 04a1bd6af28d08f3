//! The resolver layer's one error type and its single mapping to the wire.
//!
//! Policy: problems the caller can fix are `BAD_USER_INPUT` (or a
//! `userErrors` entry on mutation payloads), missing or foreign objects are
//! `NOT_FOUND` (another tenant's id answers exactly like a random one), and
//! anything else is `INTERNAL` with a fixed message: the cause is logged
//! once, here, with the request id, and never sent.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql
//! converts any `Display` type into an error carrying its text and no code,
//! so a `?` could leak internal detail. Without `Display`, the only way into
//! a GraphQL error is the mapping below.

use async_graphql::ErrorExtensions;
use prep_tenancy::TenancyError;

/// Why a resolver failed.
#[derive(Debug)]
pub enum ApiError {
    /// The caller is not signed in.
    Unauthenticated,
    /// The caller may see the object but not do this to it.
    Forbidden(String),
    /// No such object for this caller.
    NotFound(&'static str),
    /// The input is wrong in a way the caller can fix.
    BadUserInput(String),
    /// A database failure: logged, never shown.
    Database(sqlx::Error),
    /// A tenancy-layer failure: logged, never shown.
    Tenancy(TenancyError),
    /// Anything else that is our fault: logged, never shown.
    Internal(String),
}

impl ApiError {
    /// The stable `extensions.code` clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::BadUserInput(_) => "BAD_USER_INPUT",
            ApiError::Tenancy(TenancyError::Overloaded(_)) => "OVERLOADED",
            ApiError::Database(_) | ApiError::Tenancy(_) | ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// Shorthand for input errors.
    pub fn bad_input(message: impl Into<String>) -> Self {
        ApiError::BadUserInput(message.into())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        ApiError::Database(err)
    }
}

impl From<TenancyError> for ApiError {
    fn from(err: TenancyError) -> Self {
        ApiError::Tenancy(err)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let code = self.code();
        let message = match self {
            ApiError::Unauthenticated => "authentication required".to_owned(),
            ApiError::Forbidden(m) | ApiError::BadUserInput(m) => m.clone(),
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::Tenancy(TenancyError::Overloaded(why)) => format!("{why}; retry shortly"),
            ApiError::Database(_) | ApiError::Tenancy(_) | ApiError::Internal(_) => {
                // The one place internal detail is logged; the request id
                // comes from the enclosing `request` span set at the edge.
                tracing::error!(error = ?self, "resolver failed");
                "internal error".to_owned()
            }
        };
        async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
    }
}

/// The result type of every resolver.
pub type ApiResult<T> = Result<T, ApiError>;
