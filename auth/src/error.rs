/// Why a caller could not be authenticated, or a key could not be loaded.
///
/// The variants are deliberately coarse on the wire (every token failure is
/// `UNAUTHENTICATED`); the detail is for logs.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential was presented.
    #[error("no credentials were presented")]
    Missing,
    /// The `Authorization` header is not a bearer token.
    #[error("the Authorization header is not of the form `Bearer <token>`")]
    MalformedHeader,
    /// The token failed verification (signature, algorithm, issuer,
    /// audience, expiry or shape).
    #[error("the token is invalid: {0}")]
    InvalidToken(String),
    /// The signing key file could not be read or parsed.
    #[error("signing key: {0}")]
    Key(String),
}
