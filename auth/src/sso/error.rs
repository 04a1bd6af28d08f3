use openidconnect::core::CoreErrorResponseType;
use openidconnect::{ClaimsVerificationError, RequestTokenError, SignatureVerificationError};
use prep_tenancy::TenancyError;

/// Why a sign-in could not go on. Each answers the browser with a page that
/// says what to do; the detail is for logs.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The request itself is unusable.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No enabled connection for that domain or workspace.
    #[error("no SSO connection")]
    NoConnection,
    /// The login cookie is missing, expired or not ours.
    #[error("login transaction missing or expired")]
    LoginExpired,
    /// `state` differs from the one we sent.
    #[error("state mismatch")]
    StateMismatch,
    /// The response names another issuer than the connection's.
    #[error("issuer mix-up")]
    MixUp,
    /// The IdP answered the authorization request with an error.
    #[error("the identity provider refused: {0}")]
    IdpRefused(String),
    /// The IdP refused the code (used already, expired, another client's).
    #[error("code rejected: {0}")]
    CodeRejected(String),
    /// The IdP could not be reached or answered nonsense.
    #[error("identity provider unavailable: {0}")]
    IdpUnavailable(String),
    /// The id_token failed validation.
    #[error("id_token rejected: {0}")]
    TokenRejected(String),
    /// Required claims are missing or unusable.
    #[error("{0}")]
    ClaimsMissing(&'static str),
    /// SCIM-only tenant and the user was not provisioned.
    #[error("user not provisioned")]
    NotProvisioned,
    /// The user is deactivated.
    #[error("user deactivated")]
    Deactivated,
    /// The identity collides with another account.
    #[error("identity conflict")]
    IdentityConflict,
    /// The connection's settings are unusable.
    #[error("connection misconfigured: {0}")]
    Misconfigured(&'static str),
    /// The database failed.
    #[error("store: {0}")]
    Store(#[from] TenancyError),
    /// Our fault.
    #[error("internal: {0}")]
    Internal(String),
}

impl SsoError {
    /// HTTP status for the page.
    pub fn status(&self) -> u16 {
        match self {
            SsoError::BadRequest(_)
            | SsoError::LoginExpired
            | SsoError::StateMismatch
            | SsoError::MixUp
            | SsoError::CodeRejected(_) => 400,
            SsoError::IdpRefused(_) | SsoError::TokenRejected(_) | SsoError::ClaimsMissing(_) => {
                401
            }
            SsoError::NotProvisioned | SsoError::Deactivated | SsoError::IdentityConflict => 403,
            SsoError::NoConnection => 404,
            SsoError::IdpUnavailable(_) => 502,
            SsoError::Misconfigured(_) | SsoError::Store(_) | SsoError::Internal(_) => 500,
        }
    }

    /// What the person is told (never internal detail).
    pub fn user_message(&self) -> String {
        match self {
            SsoError::BadRequest(m) => m.clone(),
            SsoError::NoConnection => "Single sign-on is not set up for that address or workspace. Check the address, or ask your administrator.".into(),
            SsoError::LoginExpired => "Your sign-in took too long or was started in another window. Please start again.".into(),
            SsoError::StateMismatch | SsoError::MixUp => "This sign-in response does not belong to the sign-in you started. Please start again.".into(),
            SsoError::IdpRefused(code) => format!("Your identity provider did not sign you in ({code}). Please try again or contact your administrator."),
            SsoError::CodeRejected(_) => "This sign-in link was already used or has expired. Please start again.".into(),
            SsoError::IdpUnavailable(_) => "Your identity provider could not be reached. Please try again in a moment; existing sessions are not affected.".into(),
            SsoError::TokenRejected(_) => "Your identity provider's answer could not be verified. Please start again.".into(),
            SsoError::ClaimsMissing(m) => format!("Sign-in failed: {m}."),
            SsoError::NotProvisioned => "Your account has not been provisioned for this workspace. Ask your IT administrator to give you access.".into(),
            SsoError::Deactivated => "Your account is deactivated. Ask your administrator.".into(),
            SsoError::IdentityConflict => "This e-mail address already belongs to an account linked to another identity. Ask your administrator.".into(),
            SsoError::Misconfigured(_) | SsoError::Store(_) | SsoError::Internal(_) => "Sign-in is unavailable because of a problem on our side. Please try again later.".into(),
        }
    }

    /// A stable name for logs and security events.
    pub fn kind(&self) -> &'static str {
        match self {
            SsoError::BadRequest(_) => "bad_request",
            SsoError::NoConnection => "no_connection",
            SsoError::LoginExpired => "login_expired",
            SsoError::StateMismatch => "state_mismatch",
            SsoError::MixUp => "issuer_mix_up",
            SsoError::IdpRefused(_) => "idp_refused",
            SsoError::CodeRejected(_) => "code_rejected",
            SsoError::IdpUnavailable(_) => "idp_unavailable",
            SsoError::TokenRejected(_) => "id_token_rejected",
            SsoError::ClaimsMissing(_) => "claims_missing",
            SsoError::NotProvisioned => "not_provisioned",
            SsoError::Deactivated => "deactivated",
            SsoError::IdentityConflict => "identity_conflict",
            SsoError::Misconfigured(_) => "misconfigured",
            SsoError::Store(_) => "store",
            SsoError::Internal(_) => "internal",
        }
    }

    /// Whether this smells of an attack rather than bad luck.
    pub fn is_security_event(&self) -> bool {
        matches!(
            self,
            SsoError::StateMismatch
                | SsoError::MixUp
                | SsoError::CodeRejected(_)
                | SsoError::TokenRejected(_)
                | SsoError::NotProvisioned
                | SsoError::Deactivated
                | SsoError::IdentityConflict
        )
    }
}

pub(crate) fn from_token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> SsoError {
    match e {
        RequestTokenError::ServerResponse(resp) => {
            SsoError::CodeRejected(resp.error().as_ref().to_owned())
        }
        RequestTokenError::Request(e) => SsoError::IdpUnavailable(e.to_string()),
        RequestTokenError::Parse(e, _) => SsoError::IdpUnavailable(format!("token response: {e}")),
        RequestTokenError::Other(e) => SsoError::IdpUnavailable(e),
    }
}

pub(crate) fn is_unknown_key(e: &ClaimsVerificationError) -> bool {
    matches!(
        e,
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)
    )
}

pub(crate) fn from_claims_error(e: ClaimsVerificationError) -> SsoError {
    match e {
        ClaimsVerificationError::InvalidIssuer(_) => SsoError::MixUp,
        other => SsoError::TokenRejected(other.to_string()),
    }
}
