//! `Idempotency-Key` on GraphQL mutations: the edge's half of
//! `prep_tenancy`'s idempotent requests.
//!
//! The key is checked before anything else costs (a malformed one is a 400
//! before authentication). A mutation sent with a key runs in one
//! transaction that also claims the key; its response is stored in that
//! transaction when it commits. A retry with the same key and the same
//! request (caller, document, operation, variables) gets the stored
//! response with `Idempotent-Replayed: true` and applies nothing; the same
//! key with a different request is refused with 422. A response that holds
//! an internal error is not stored: everything the request did is rolled
//! back, so the client's retry runs afresh.

use axum::http::HeaderMap;
use prep_auth::Principal;
use prep_tenancy::IdempotencyKey;
use ring::digest;

use super::HttpError;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header on a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";

/// The key a request carries, or a 400 for a malformed one.
pub fn key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, HttpError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(HttpError::BadRequest(
            "send the Idempotency-Key header once".into(),
        ));
    }
    IdempotencyKey::parse(value.as_bytes())
        .map(Some)
        .map_err(|m| HttpError::BadRequest(m.into()))
}

/// What makes two requests "the same" for a key: who asks, and exactly
/// what (variables compared as JSON, so key order does not matter).
pub fn fingerprint(principal: &Principal, request: &async_graphql::Request) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(principal.actor.kind().as_bytes());
    ctx.update(&[0]);
    if let Some(id) = principal.actor.id() {
        ctx.update(id.as_bytes());
    }
    ctx.update(&[0]);
    ctx.update(
        request
            .operation_name
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    );
    ctx.update(&[0]);
    ctx.update(request.query.as_bytes());
    ctx.update(&[0]);
    // serde_json's maps are ordered by key: this is a canonical form
    let variables = serde_json::to_value(&request.variables).unwrap_or_default();
    ctx.update(variables.to_string().as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Whether a response may be stored for replay: the operation ran, and
/// nothing in it failed on our side.
pub fn storable(response: &async_graphql::Response) -> bool {
    // an internal error, or a refusal for lack of capacity: nothing of the
    // request is kept, so a retry with the same key runs afresh
    let internal = response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| {
                *c == async_graphql::Value::from("INTERNAL")
                    || *c == async_graphql::Value::from("OVERLOADED")
            })
    });
    let not_executed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    !internal && !not_executed
}
