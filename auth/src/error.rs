/// Failures of the identity layer. On the wire every credential failure is
/// `UNAUTHENTICATED`; the detail is for logs.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential was presented.
    #[error("no credentials were presented")]
    Missing,
    /// The `Authorization` header is not a bearer token.
    #[error("the Authorization header is not of the form `Bearer <token>`")]
    MalformedHeader,
    /// A key could not be generated, loaded or used.
    #[error("key: {0}")]
    Key(String),
    /// A sealed value did not open (tampered, other purpose or context, or
    /// another master key).
    #[error("a sealed value did not open")]
    Sealed,
    /// The database failed underneath.
    #[error("store: {0}")]
    Store(#[source] prep_tenancy::TenancyError),
}

impl AuthError {
    pub(crate) fn store(e: prep_tenancy::TenancyError) -> Self {
        AuthError::Store(e)
    }
}
