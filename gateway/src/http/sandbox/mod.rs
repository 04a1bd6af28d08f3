//! `/sandbox`: the developer playground and its small JSON API.
//!
//! The page and its assets are embedded in the binary (no CDN), served
//! precompressed (brotli, else gzip) with strong ETags: the page itself is
//! revalidated on every load, the content-hashed assets are cacheable for a
//! year. A strict Content-Security-Policy keeps the page to this origin.

mod api;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use prep_sandbox::playground::{self, Asset};

use crate::app::AppState;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; font-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page and its assets (public), and the sandbox API (the caller
/// limits its creation route per address).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sandbox", get(page))
        .route("/sandbox/", get(page))
        .route("/sandbox/assets/{name}", get(asset))
        .route("/sandbox/api/token", post(api::token))
}

/// The route that creates sandbox tenants: expensive, limited per address.
pub fn creation_routes() -> Router<AppState> {
    Router::new().route("/sandbox/api/tenants", post(api::create))
}

async fn page(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if !app.settings.sandbox.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    match playground::asset("/sandbox") {
        Some(a) => serve(a, &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn asset(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !app.settings.sandbox.enabled {
        return StatusCode::NOT_FOUND.into_response();
    }
    match playground::asset(&format!("/sandbox/assets/{name}")) {
        Some(a) => serve(a, &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// One embedded file: `304` when the client has it, else the smallest
/// encoding it accepts.
fn serve(a: &'static Asset, headers: &HeaderMap) -> Response {
    let cache = if a.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim() == a.etag || tag.trim() == "*");
    let (status, body, encoding) = if fresh {
        (StatusCode::NOT_MODIFIED, &[][..], None)
    } else {
        match accepted(headers) {
            Encoding::Brotli => (StatusCode::OK, a.br, Some("br")),
            Encoding::Gzip => (StatusCode::OK, a.gzip, Some("gzip")),
            Encoding::Identity => (StatusCode::OK, a.identity, None),
        }
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::ETAG, HeaderValue::from_static(a.etag));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    if a.content_type.starts_with("text/html") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    resp
}

enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding the client accepts (a `q=0` refuses one).
fn accepted(headers: &HeaderMap) -> Encoding {
    let mut br = false;
    let mut gzip = false;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        match name {
            "br" => br = !refused,
            "gzip" => gzip = !refused,
            _ => {}
        }
    }
    if br {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}
