//! How one client request reaches the subgraphs: the gateway's own domains
//! in process, with the request's tenant scope; remote ones over HTTP with
//! a token the gateway signs for that subgraph alone.

use std::collections::HashMap;
use std::sync::Mutex;

use prep_auth::{Budget, Principal, SubgraphClaims, TokenService};
use prep_schema::federation::{
    BoxFuture, SubgraphRequest, SubgraphResponse, Transport, TransportError,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use super::runtime::Federation;
use prep_resolvers::domains::is_own;

/// Runs an operation on the in-process domains for the current request.
pub trait LocalSubgraph: Send + Sync {
    /// Executes one planned operation, for whichever in-process domain it
    /// was planned: one schema resolves them all.
    fn execute<'a>(&'a self, request: SubgraphRequest<'a>) -> BoxFuture<'a, SubgraphResponse>;
}

/// The transport for one client request.
pub struct GatewayTransport<'a> {
    /// Remote subgraphs.
    pub federation: &'a Federation,
    /// Signs subgraph tokens.
    pub tokens: &'a TokenService,
    /// Who asks.
    pub principal: &'a Principal,
    /// The client request's id.
    pub request_id: &'a str,
    /// Where the tenant stands, for a domain served on its own.
    pub budget: Option<Budget>,
    /// The client's headers (only configured ones are forwarded).
    pub client_headers: &'a HeaderMap,
    /// The gateway's own domains.
    pub local: &'a dyn LocalSubgraph,
    /// Tokens already signed for this request, by subgraph.
    pub signed: Mutex<HashMap<String, HeaderValue>>,
}

impl GatewayTransport<'_> {
    fn authorization(&self, subgraph: &str) -> Result<HeaderValue, TransportError> {
        let mut signed = self.signed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = signed.get(subgraph) {
            return Ok(v.clone());
        }
        let mut claims = SubgraphClaims::for_principal(
            self.federation.issuer(),
            subgraph,
            self.principal,
            self.request_id,
        );
        if is_own(subgraph) {
            claims.budget = self.budget;
        }
        let token = self.tokens.issue_subgraph(&claims).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a subgraph token");
            TransportError::Unavailable
        })?;
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| TransportError::Unavailable)?;
        signed.insert(subgraph.to_owned(), value.clone());
        Ok(value)
    }
}

impl Transport for GatewayTransport<'_> {
    fn send<'a>(
        &'a self,
        request: SubgraphRequest<'a>,
    ) -> BoxFuture<'a, Result<SubgraphResponse, TransportError>> {
        Box::pin(async move {
            if self.federation.in_process(request.subgraph) {
                return Ok(self.local.execute(request).await);
            }
            let remote = self
                .federation
                .remote(request.subgraph)
                .ok_or(TransportError::Unknown)?;
            let mut headers = HeaderMap::new();
            for name in &remote.settings().forward_headers {
                if let (Ok(name), Some(value)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    self.client_headers.get(name.as_str()),
                ) {
                    headers.insert(name, value.clone());
                }
            }
            headers.insert(AUTHORIZATION, self.authorization(request.subgraph)?);
            if let Ok(v) = HeaderValue::from_str(self.request_id) {
                headers.insert("x-request-id", v);
            }
            remote
                .call(Some(self.principal.tenant.as_uuid()), &request, headers)
                .await
        })
    }
}
