//! SCIM discovery (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`),
//! and the answers for methods and paths this service provider does not
//! serve.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use prep_auth::scim::discovery;
use prep_auth::scim::schema::{ResourceType, GROUPS, USERS};
use prep_auth::scim::ScimError;

use super::edge::{authenticate, error_response, json, respond, Answer};
use crate::app::AppState;
use crate::http::authn::request_id;

/// Discovery needs a token too: it is the same for every tenant, but an
/// endpoint that answers anyone tells scanners what runs here.
async fn discover(
    app: &AppState,
    request: Request,
    build: impl FnOnce(&str) -> Answer,
) -> Response {
    let (parts, _) = request.into_parts();
    let answer = match authenticate(app, &parts).await {
        Ok(_) => build(app.scim.base()),
        Err(e) => Err(e),
    };
    respond(answer, &parts.headers)
}

pub(super) async fn service_provider_config(
    State(app): State<AppState>,
    request: Request,
) -> Response {
    discover(&app, request, |base| {
        Ok(json(
            StatusCode::OK,
            &discovery::service_provider_config(base),
        ))
    })
    .await
}

pub(super) async fn resource_types(State(app): State<AppState>, request: Request) -> Response {
    discover(&app, request, |base| {
        let all = discovery::RESOURCE_TYPES
            .iter()
            .map(|rt| discovery::resource_type(rt, base))
            .collect();
        Ok(json(StatusCode::OK, &discovery::list(all)))
    })
    .await
}

pub(super) async fn resource_type(
    State(app): State<AppState>,
    Path(name): Path<String>,
    request: Request,
) -> Response {
    discover(&app, request, |base| {
        let rt: &ResourceType = match name.as_str() {
            "User" => &USERS,
            "Group" => &GROUPS,
            _ => {
                return Err(ScimError::NotFound(format!(
                    "ResourceType {}",
                    shorten(&name)
                )))
            }
        };
        Ok(json(StatusCode::OK, &discovery::resource_type(rt, base)))
    })
    .await
}

pub(super) async fn schemas(State(app): State<AppState>, request: Request) -> Response {
    discover(&app, request, |base| {
        let all = discovery::schemas()
            .into_iter()
            .map(|s| discovery::schema(s, base))
            .collect();
        Ok(json(StatusCode::OK, &discovery::list(all)))
    })
    .await
}

pub(super) async fn schema(
    State(app): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    discover(&app, request, |base| {
        discovery::schemas()
            .into_iter()
            .find(|s| s.id.eq_ignore_ascii_case(&id))
            .map(|s| json(StatusCode::OK, &discovery::schema(s, base)))
            .ok_or_else(|| ScimError::NotFound(format!("Schema {}", shorten(&id))))
    })
    .await
}

pub(super) async fn method_not_allowed(headers: HeaderMap) -> Response {
    error_response(&ScimError::MethodNotAllowed, &request_id(&headers))
}

pub(super) async fn unknown(headers: HeaderMap, body: Body) -> Response {
    drop(body);
    error_response(
        &ScimError::NotFound("endpoint (this service provider serves /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas)".into()),
        &request_id(&headers),
    )
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}
