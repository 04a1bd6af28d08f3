//! SCIM 2.0 at `/scim/v2`: the IdP's bearer token decides the tenant; every
//! answer is `application/scim+json`, errors in the SCIM error schema with
//! `status` as a string. Internal failures are logged with the request id
//! and answered without detail.

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use prep_auth::scim::discovery::{self, MAX_PAYLOAD};
use prep_auth::scim::list::ListQuery;
use prep_auth::scim::projection::Projection;
use prep_auth::scim::schema::{ResourceType, GROUPS, USERS};
use prep_auth::scim::{Call, Kind, Resource, ScimClient, ScimError, ScimType};
use prep_tenancy::SecurityEvent;
use serde_json::Value;

use super::authn::{client_ip, request_id};
use crate::app::AppState;
use crate::metrics::AuthLabels;

const SCIM_JSON: &str = "application/scim+json";

/// The SCIM routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scim/v2/Users", any(users))
        .route("/scim/v2/Users/.search", any(users_search))
        .route("/scim/v2/Users/{id}", any(user))
        .route("/scim/v2/Groups", any(groups))
        .route("/scim/v2/Groups/.search", any(groups_search))
        .route("/scim/v2/Groups/{id}", any(group))
        .route("/scim/v2/.search", any(root_search))
        .route("/scim/v2/Bulk", any(bulk))
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config).fallback(method_not_allowed),
        )
        .route(
            "/scim/v2/ResourceTypes",
            get(resource_types).fallback(method_not_allowed),
        )
        .route(
            "/scim/v2/ResourceTypes/{name}",
            get(resource_type).fallback(method_not_allowed),
        )
        .route(
            "/scim/v2/Schemas",
            get(schemas).fallback(method_not_allowed),
        )
        .route(
            "/scim/v2/Schemas/{id}",
            get(schema).fallback(method_not_allowed),
        )
        .route("/scim/v2/{*rest}", any(unknown))
}

/// A request's answer or its SCIM error.
type Answer = Result<Response, ScimError>;

fn respond(answer: Answer, headers: &HeaderMap) -> Response {
    match answer {
        Ok(r) => r,
        Err(e) => error_response(&e, &request_id(headers)),
    }
}

fn error_response(e: &ScimError, rid: &str) -> Response {
    if let ScimError::Internal(detail) = e {
        tracing::error!(request.id = %rid, error = %detail, "SCIM request failed");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(status, &e.body());
    if matches!(e, ScimError::Unauthorized(_)) {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"scim\""),
        );
    }
    resp
}

fn json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    resp
}

fn resource(status: StatusCode, r: Resource) -> Response {
    let location = r.doc["meta"]["location"].as_str().map(str::to_owned);
    let mut resp = json(status, &r.doc);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&r.version) {
        h.insert(header::ETAG, v);
    }
    if status == StatusCode::CREATED {
        if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            h.insert(header::LOCATION, v);
        }
    }
    resp
}

/// The client behind `Authorization: Bearer`; every refusal is counted and
/// kept as a security event (the reason only, never the token).
async fn authenticate(app: &AppState, request: &Parts) -> Result<ScimClient, ScimError> {
    let headers = &request.headers;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let result = match bearer {
        Some(token) => app.scim.authenticate(token).await,
        None => Err(ScimError::Unauthorized(
            "send the SCIM token as Authorization: Bearer <token>",
        )),
    };
    if let Err(ScimError::Unauthorized(reason)) = &result {
        app.metrics
            .auth_refusals
            .get_or_create(&AuthLabels {
                kind: "scim",
                reason,
            })
            .inc();
        app.security.record(SecurityEvent {
            kind: "scim_token_rejected",
            reason: (*reason).to_owned(),
            claimed_tenant: None,
            request_id: Some(request_id(headers)),
            ip: client_ip(&request.extensions),
        });
    }
    result
}

/// The JSON body, at most [`MAX_PAYLOAD`] bytes, as `application/scim+json`
/// or `application/json`.
async fn body_json(parts: &Parts, body: Body) -> Result<Value, ScimError> {
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.is_empty() && media != SCIM_JSON && media != "application/json" {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            "send the body as application/scim+json",
        ));
    }
    let bytes = to_bytes(body, MAX_PAYLOAD)
        .await
        .map_err(|_| ScimError::PayloadTooLarge(MAX_PAYLOAD))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::bad(
            ScimType::InvalidSyntax,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ScimError::bad(
            ScimType::InvalidSyntax,
            "the body must be a JSON object",
        ));
    }
    Ok(value)
}

fn if_match(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// `/Users` and `/Groups`: GET lists, POST creates.
async fn collection(app: AppState, kind: Kind, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let client = authenticate(&app, &parts).await?;
        let rid = request_id(&parts.headers);
        match parts.method {
            Method::GET => {
                let params = query_pairs(parts.uri.query());
                let query = ListQuery::from_params(&params, kind.rt())?;
                Ok(json(
                    StatusCode::OK,
                    &app.scim.list(client, kind, &query).await?,
                ))
            }
            Method::POST => {
                let body = body_json(&parts, body).await?;
                let call = Call {
                    client,
                    request_id: &rid,
                };
                Ok(resource(
                    StatusCode::CREATED,
                    app.scim.create(call, kind, &body).await?,
                ))
            }
            _ => Err(ScimError::MethodNotAllowed),
        }
    }
    .await;
    respond(answer, &parts.headers)
}

/// `/Users/{id}` and `/Groups/{id}`.
async fn member(app: AppState, kind: Kind, id: String, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let client = authenticate(&app, &parts).await?;
        let rid = request_id(&parts.headers);
        let call = Call {
            client,
            request_id: &rid,
        };
        let precondition = if_match(&parts.headers);
        match parts.method {
            Method::GET => {
                let params = query_pairs(parts.uri.query());
                let get = |n: &str| {
                    params
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(n))
                        .map(|(_, v)| v.as_str())
                };
                let projection =
                    Projection::parse(get("attributes"), get("excludedAttributes"), kind.rt())?;
                Ok(resource(
                    StatusCode::OK,
                    app.scim.get(client, kind, &id, &projection).await?,
                ))
            }
            Method::PUT => {
                let body = body_json(&parts, body).await?;
                Ok(resource(
                    StatusCode::OK,
                    app.scim
                        .replace(call, kind, &id, &body, precondition.as_deref())
                        .await?,
                ))
            }
            Method::PATCH => {
                let body = body_json(&parts, body).await?;
                Ok(resource(
                    StatusCode::OK,
                    app.scim
                        .patch(call, kind, &id, &body, precondition.as_deref())
                        .await?,
                ))
            }
            Method::DELETE => {
                app.scim
                    .delete(call, kind, &id, precondition.as_deref())
                    .await?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            _ => Err(ScimError::MethodNotAllowed),
        }
    }
    .await;
    respond(answer, &parts.headers)
}

/// `POST /Users/.search` and `/Groups/.search`.
async fn search(app: AppState, kind: Kind, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let client = authenticate(&app, &parts).await?;
        if parts.method != Method::POST {
            return Err(ScimError::MethodNotAllowed);
        }
        let body = body_json(&parts, body).await?;
        let query = ListQuery::from_search(&body, kind.rt())?;
        Ok(json(
            StatusCode::OK,
            &app.scim.list(client, kind, &query).await?,
        ))
    }
    .await;
    respond(answer, &parts.headers)
}

async fn users(State(app): State<AppState>, request: Request) -> Response {
    collection(app, Kind::Users, request).await
}

async fn groups(State(app): State<AppState>, request: Request) -> Response {
    collection(app, Kind::Groups, request).await
}

async fn user(State(app): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    member(app, Kind::Users, id, request).await
}

async fn group(State(app): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    member(app, Kind::Groups, id, request).await
}

async fn users_search(State(app): State<AppState>, request: Request) -> Response {
    search(app, Kind::Users, request).await
}

async fn groups_search(State(app): State<AppState>, request: Request) -> Response {
    search(app, Kind::Groups, request).await
}

/// `POST /.search`: users and groups in one list.
async fn root_search(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let client = authenticate(&app, &parts).await?;
        if parts.method != Method::POST {
            return Err(ScimError::MethodNotAllowed);
        }
        let body = body_json(&parts, body).await?;
        let users = ListQuery::from_search(&body, &USERS);
        let groups = ListQuery::from_search(&body, &GROUPS);
        Ok(json(
            StatusCode::OK,
            &app.scim.search_all(client, users, groups).await?,
        ))
    }
    .await;
    respond(answer, &parts.headers)
}

/// `/Bulk` is declared unsupported in `/ServiceProviderConfig`.
async fn bulk(State(app): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let answer = async {
        authenticate(&app, &parts).await?;
        Err(ScimError::NotImplemented(
            "bulk operations are not supported",
        ))
    }
    .await;
    respond(answer, &parts.headers)
}

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

async fn service_provider_config(State(app): State<AppState>, request: Request) -> Response {
    discover(&app, request, |base| {
        Ok(json(
            StatusCode::OK,
            &discovery::service_provider_config(base),
        ))
    })
    .await
}

async fn resource_types(State(app): State<AppState>, request: Request) -> Response {
    discover(&app, request, |base| {
        let all = discovery::RESOURCE_TYPES
            .iter()
            .map(|rt| discovery::resource_type(rt, base))
            .collect();
        Ok(json(StatusCode::OK, &discovery::list(all)))
    })
    .await
}

async fn resource_type(
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

async fn schemas(State(app): State<AppState>, request: Request) -> Response {
    discover(&app, request, |base| {
        let all = discovery::schemas()
            .into_iter()
            .map(|s| discovery::schema(s, base))
            .collect();
        Ok(json(StatusCode::OK, &discovery::list(all)))
    })
    .await
}

async fn schema(State(app): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    discover(&app, request, |base| {
        discovery::schemas()
            .into_iter()
            .find(|s| s.id.eq_ignore_ascii_case(&id))
            .map(|s| json(StatusCode::OK, &discovery::schema(s, base)))
            .ok_or_else(|| ScimError::NotFound(format!("Schema {}", shorten(&id))))
    })
    .await
}

async fn method_not_allowed(headers: HeaderMap) -> Response {
    error_response(&ScimError::MethodNotAllowed, &request_id(&headers))
}

async fn unknown(headers: HeaderMap, body: Body) -> Response {
    drop(body);
    error_response(
        &ScimError::NotFound("endpoint (this service provider serves /Users, /Groups, /ServiceProviderConfig, /ResourceTypes and /Schemas)".into()),
        &request_id(&headers),
    )
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}
