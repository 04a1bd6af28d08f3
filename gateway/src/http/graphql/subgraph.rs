//! `POST /graphql` of `serve --subgraph NAME`: one of the gateway's domains
//! (or all of them, `platform`) as a standard Apollo Federation subgraph,
//! for when it runs as a service of its own behind the gateway (see
//! `docs/federation.md`).
//!
//! Only the gateway's signed subgraph tokens get in (`aud` = the served
//! name, verified against the keyring the replicas share). Client credentials,
//! connector keys and session cookies are refused: calling the service
//! directly must not be a way around the gateway's authentication, rates,
//! cost budgets or connector address ranges. The token's tenant, grants or
//! scopes become the principal, and the operation runs exactly as it does
//! in process: in that tenant's row-level-security scope, narrowed to the
//! principal's reach, holding a place in the tenant's bulkhead and share of
//! this process's pool, on the users' or the connectors' schema. A token
//! without a tenant is the gateway's own composition call: it may read
//! `_service` and nothing else, which answers the served domain's SDL.

use std::sync::Arc;

use async_graphql::ServerError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::Extension;
use prep_auth::SubgraphClaims;
use prep_schema::domains::Contract;

use super::federated::Attach;
use super::response::{queries_only, read_body, require_json, respond, tag_all, tag_uncoded};
use crate::app::AppState;
use crate::http::authn::{bearer, record_refusal, request_id};
use crate::http::HttpError;

/// The largest request the gateway may send. Larger than a client's limit:
/// an entity fetch carries one representation per object of the answer
/// being built, and only the gateway's signed calls are read at all.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The subgraph this process serves.
pub struct Served {
    /// A domain, or `platform` for all of them: the `aud` its tokens carry.
    pub name: String,
    /// What a domain publishes (its `_service` answer), which is all it
    /// answers; `None` for `platform`, which publishes the whole schema.
    contract: Option<Contract>,
}

impl Served {
    /// The subgraph `name` (checked by the CLI to be `platform` or a domain).
    pub fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            contract: Contract::of(name),
        })
    }
}

/// Executes one operation the gateway planned for the served subgraph.
pub async fn execute(
    State(app): State<AppState>,
    Extension(served): Extension<Arc<Served>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    require_json(&headers)?;
    let claims = verify(&app, &served.name, &headers).await?;
    let principal = claims.principal().map_err(|_| {
        HttpError::Unauthenticated("the subgraph token's claims are not a principal")
    })?;
    let bytes = read_body(body, BODY_LIMIT).await?;
    let mut request: async_graphql::Request = serde_json::from_slice(&bytes)
        .map_err(|e| HttpError::BadRequest(format!("the body is not a GraphQL request: {e}")))?;

    if let Err(e) = request.parsed_query() {
        return Ok(refused(e, "GRAPHQL_PARSE_FAILED"));
    }

    let Some(principal) = principal else {
        // The gateway reading this subgraph's SDL for composition.
        let name = request.operation_name.clone();
        let only_service = request
            .parsed_query()
            .is_ok_and(|doc| queries_only(doc, name.as_deref(), &["_service", "__typename"]));
        if !only_service {
            return Err(HttpError::Forbidden(
                "a subgraph token without a tenant may only read `_service`",
            ));
        }
        let response = match &served.contract {
            Some(domain) => domain.service().execute(request).await,
            None => app.subgraph_schemas.0.execute(request).await,
        };
        return Ok(respond(response, false, false));
    };
    tracing::Span::current().record("tenant.id", tracing::field::display(principal.tenant));
    if let Some(Err(refusals)) = served.contract.as_ref().map(|c| c.check(&request.query)) {
        let code = refusals
            .first()
            .map_or("GRAPHQL_VALIDATION_FAILED", |r| r.code);
        let errors = refusals
            .into_iter()
            .map(|r| ServerError::new(r.message, None))
            .collect();
        let mut response = async_graphql::Response::from_errors(errors);
        tag_uncoded(&mut response, code);
        return Ok(respond(response, false, false));
    }

    let limits = app.governance.limits_of(&app.db, principal.tenant).await;
    let (_permit, share) = match app.governance.hold(principal.tenant, &limits.limits).await {
        Ok(held) => held,
        // The tenant's bulkhead here is full: the operation does not run.
        Err(full) => return Ok(refused(ServerError::new(full.0, None), "OVERLOADED")),
    };
    let scope = app
        .db
        .scope_shared(principal.tenant, principal.access.reach(), share);
    // The gateway's request id, so both processes' logs and audit rows
    // name the same request.
    let request_id = request_id(&headers);
    let attach = Attach {
        app: &app,
        principal: &principal,
        request_id: &request_id,
        scope: &scope,
        budget: claims.budget,
    };
    let schema = if principal.access.scopes().is_some() {
        &app.subgraph_schemas.1
    } else {
        &app.subgraph_schemas.0
    };
    let mut response = schema.execute(attach.to(request)).await;
    scope.release_read().await;
    let statements = scope.statements();
    if statements > 0 {
        app.metrics
            .statements_per_operation
            .observe(statements as f64);
    }
    // A full share of the pool stays a coded GraphQL error (as a full
    // bulkhead is, above): the gateway turns `OVERLOADED` from any part
    // of the operation into its own 503 with `Retry-After`, exactly as in
    // process, where a bare HTTP 503 would reach the client as a failed
    // subgraph call.
    tag_all(&mut response);
    Ok(respond(response, false, false))
}

/// An operation that did not run, as a GraphQL error with `code`.
fn refused(error: ServerError, code: &str) -> Response {
    let mut response = async_graphql::Response::from_errors(vec![error]);
    tag_uncoded(&mut response, code);
    respond(response, false, false)
}

/// The bearer token, verified as a subgraph token for `served`. Every
/// refusal is the same 401, counted and written to the security log.
async fn verify(
    app: &AppState,
    served: &str,
    headers: &HeaderMap,
) -> Result<SubgraphClaims, HttpError> {
    const REFUSED: HttpError =
        HttpError::Unauthenticated("this subgraph takes only the gateway's signed tokens");
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(bearer)
        .ok_or(REFUSED)?;
    app.tokens
        .verify_subgraph(token, served)
        .await
        .map_err(|rejection| {
            record_refusal(
                app,
                headers,
                None,
                ("subgraph", "subgraph_token_rejected"),
                &rejection,
            );
            REFUSED
        })
}
