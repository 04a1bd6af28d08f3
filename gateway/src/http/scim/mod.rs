//! SCIM 2.0 at `/scim/v2`: the IdP's bearer token decides the tenant; every
//! answer is `application/scim+json`, errors in the SCIM error schema with
//! `status` as a string. Internal failures are logged with the request id
//! and answered without detail.

mod discovery;
mod edge;

use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use prep_auth::scim::list::ListQuery;
use prep_auth::scim::projection::Projection;
use prep_auth::scim::schema::{GROUPS, USERS};
use prep_auth::scim::{Call, Kind, ScimError};

use crate::app::AppState;
use crate::http::authn::request_id;
use discovery::{
    method_not_allowed, resource_type, resource_types, schema, schemas, service_provider_config,
    unknown,
};
use edge::{authenticate, body_json, if_match, json, query_pairs, resource, respond};

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

/// `/Users` and `/Groups`: GET lists, POST creates.
async fn collection(app: AppState, kind: Kind, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let answer = async {
        let caller = authenticate(&app, &parts).await?;
        let client = caller.client;
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
        let caller = authenticate(&app, &parts).await?;
        let client = caller.client;
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
        let caller = authenticate(&app, &parts).await?;
        let client = caller.client;
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
        let caller = authenticate(&app, &parts).await?;
        let client = caller.client;
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
