//! OIDC single sign-on against a real OpenID provider (npm `oidc-provider`,
//! started per test): the whole browser flow, driven headlessly.

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use prep_auth::sso::admin::{self, ConnectionInput};
use prep_auth::sso::{Provisioning, RoleMapping};
use prep_tests::oidc::{confirm_logout, sign_in, IdentityProvider, TestUser};
use prep_tests::{TestApp, TestTenant};
use serde_json::{json, Value};
use uuid::Uuid;

const CALLBACK: &str = "http://127.0.0.1:8080/auth/callback";
const LOGGED_OUT: &str = "http://127.0.0.1:8080/auth/logged-out";
const SESSION: &str = "__Host-prep_session";
const LOGIN: &str = "__Host-prep_login";

pub(crate) fn user(login: &str, domain: &str, groups: &[&str]) -> TestUser {
    TestUser {
        login: login.into(),
        email: format!("{login}@{domain}"),
        name: format!("{login} of {domain}"),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

pub(crate) async fn app() -> TestApp {
    let mut settings = TestApp::settings();
    // the IdP restarts with a new key during a test: refetch at once
    settings.auth.idp_jwks_min_refetch_secs = 0;
    TestApp::with_settings(settings).await
}

/// Sets up tenant `slug` with a connection to `idp` routing `domain`.
pub(crate) async fn connect(
    app: &TestApp,
    tenant: &TestTenant,
    idp: &IdentityProvider,
    domain: &str,
    mode: Provisioning,
) -> Uuid {
    let mut tx = app.state.db.begin(tenant.id).await.expect("tx");
    let id = admin::create(
        &mut tx,
        &app.state.sso,
        &ConnectionInput {
            name: format!("{} IdP", tenant.slug),
            issuer: idp.issuer(),
            client_id: format!("prep-{}", tenant.slug),
            client_secret: Some(format!("secret-{}", tenant.slug)),
            scopes: vec!["email".into(), "profile".into(), "groups".into()],
            email_claim: "email".into(),
            name_claim: "name".into(),
            groups_claim: "groups".into(),
            role_mappings: vec![RoleMapping {
                group: "kitchen-admins".into(),
                role: "admin".into(),
                location_id: None,
            }],
            provisioning: mode,
            enabled: true,
            scim_link_by_external_id: false,
        },
    )
    .await
    .expect("create connection");
    admin::add_domain(&mut tx, id, domain, true)
        .await
        .expect("domain");
    tx.commit().await.expect("commit");
    id
}

pub(crate) async fn idp_for(slug: &str, users: &[TestUser]) -> IdentityProvider {
    IdentityProvider::start(
        &format!("prep-{slug}"),
        &format!("secret-{slug}"),
        CALLBACK,
        LOGGED_OUT,
        users,
    )
    .await
}

fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_owned())
        })
}

fn location(headers: &HeaderMap) -> String {
    headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_owned()
}

/// `GET /auth/login?email=…`: the IdP's authorize URL and the login cookie.
async fn start(app: &TestApp, email: &str) -> (String, String) {
    let (status, headers, body) = app
        .send(
            Request::get(format!("/auth/login?email={email}"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let cookie = set_cookie(&headers, LOGIN).expect("login cookie");
    (location(&headers), cookie)
}

/// Delivers the IdP's redirect to our callback with the login cookie.
async fn finish(
    app: &TestApp,
    callback_url: &str,
    login_cookie: &str,
) -> (StatusCode, HeaderMap, String) {
    let path = callback_url
        .strip_prefix("http://127.0.0.1:8080")
        .expect("the IdP redirects to our callback");
    let (status, headers, body) = app
        .send(
            Request::get(path)
                .header(header::COOKIE, format!("{LOGIN}={login_cookie}"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// The full sign-in; returns the session cookie.
pub(crate) async fn sign_in_as(app: &TestApp, login: &str, email: &str) -> String {
    let (authorize, cookie) = start(app, email).await;
    let back = sign_in(&authorize, login).await;
    let (status, headers, body) = finish(app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    set_cookie(&headers, SESSION).expect("session cookie")
}

pub(crate) async fn with_session(
    app: &TestApp,
    session: &str,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, format!("{SESSION}={session}"));
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_default())
        .expect("req");
    let (status, headers, bytes) = app.send(req).await;
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const DELETE_RANDOM: &str = r#"mutation { deleteCredential(id: "Q3JlZGVudGlhbDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDE") { deletedCredentialId } }"#;

#[tokio::test]
async fn sign_in_creates_the_user_just_in_time_and_the_session_works_with_csrf() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let idp = idp_for("acme", &[user("alice", "acme.test", &["kitchen-admins"])]).await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::Jit).await;

    let session = sign_in_as(&app, "alice", "alice@acme.test").await;
    let (status, _, me) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["tenantId"], json!(acme.id.as_uuid()));
    assert_eq!(
        me["roles"],
        json!(["admin"]),
        "the IdP group maps to the admin role"
    );
    let csrf = me["csrfToken"].as_str().expect("csrf").to_owned();

    let query = json!({ "query": "{ viewer { tenant { slug } } }" });
    let (status, _, body) =
        with_session(&app, &session, "POST", "/graphql", &[], Some(query)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["viewer"]["tenant"]["slug"], "acme");

    let mutation = json!({ "query": DELETE_RANDOM });
    let (status, _, body) = with_session(
        &app,
        &session,
        "POST",
        "/graphql",
        &[],
        Some(mutation.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a session mutation without CSRF token: {body}"
    );
    let (status, _, body) = with_session(
        &app,
        &session,
        "POST",
        "/graphql",
        &[("x-csrf-token", "forged")],
        Some(mutation.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = with_session(
        &app,
        &session,
        "POST",
        "/graphql",
        &[("x-csrf-token", &csrf)],
        Some(mutation),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "passed the CSRF gate"
    );

    // keyed on (issuer, subject); a second sign-in finds the same user
    let admin = app.admin_pool().await;
    let (issuer, subject): (Option<String>, Option<String>) = sqlx::query_as(
        "select sso_issuer, sso_subject from users where email_normalized = 'alice@acme.test'",
    )
    .fetch_one(&admin)
    .await
    .expect("user");
    assert_eq!(issuer.as_deref(), Some(idp.issuer().as_str()));
    assert_eq!(subject.as_deref(), Some("alice"));
    sign_in_as(&app, "alice", "alice@acme.test").await;
    let (users, logins): (i64, i64) = sqlx::query_as(
        "select (select count(*) from users where email_normalized = 'alice@acme.test'),
                (select count(*) from audit_events where action = 'user.login')",
    )
    .fetch_one(&admin)
    .await
    .expect("counts");
    assert_eq!((users, logins), (1, 2));
}

#[tokio::test]
async fn scim_only_tenants_refuse_unprovisioned_and_deactivated_users() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let idp = idp_for(
        "acme",
        &[
            user("bob", "acme.test", &[]),
            user("carol", "acme.test", &[]),
        ],
    )
    .await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::ScimOnly).await;

    let (authorize, cookie) = start(&app, "bob@acme.test").await;
    let (status, _, page) = finish(&app, &sign_in(&authorize, "bob").await, &cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(page.contains("not been provisioned"), "{page}");
    let admin = app.admin_pool().await;
    let users: i64 =
        sqlx::query_scalar("select count(*) from users where email_normalized = 'bob@acme.test'")
            .fetch_one(&admin)
            .await
            .expect("count");
    assert_eq!(users, 0, "a refused sign-in creates nobody");

    // provisioned (as SCIM would) → the first sign-in links the identity
    sqlx::query("insert into users (tenant_id, email, email_normalized) values ($1, 'carol@acme.test', 'carol@acme.test')")
        .bind(acme.id.as_uuid())
        .execute(&admin)
        .await
        .expect("provision");
    let session = sign_in_as(&app, "carol", "carol@acme.test").await;
    let (status, _, _) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    assert_eq!(status, StatusCode::OK);

    // deactivated → the live session ends at once and sign-in is refused
    sqlx::query("update users set active = false where email_normalized = 'carol@acme.test'")
        .execute(&admin)
        .await
        .expect("deactivate");
    let (status, _, _) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (authorize, cookie) = start(&app, "carol@acme.test").await;
    let (status, _, page) = finish(&app, &sign_in(&authorize, "carol").await, &cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
}

#[tokio::test]
async fn state_mismatch_and_replayed_codes_are_refused() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let idp = idp_for("acme", &[user("alice", "acme.test", &[])]).await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::Jit).await;

    let (authorize, cookie) = start(&app, "alice@acme.test").await;
    let back = sign_in(&authorize, "alice").await;
    let forged = with_state(&back, "forged-state");
    let (status, headers, page) = finish(&app, &forged, &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(set_cookie(&headers, SESSION).is_none());
    // without the login cookie (another browser) the genuine redirect fails too
    let (status, _, _) = app
        .send(
            Request::get(back.strip_prefix("http://127.0.0.1:8080").expect("ours"))
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _, page) = finish(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    // the same code again, even with the stolen login cookie: refused
    let (status, headers, page) = finish(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("already used"), "{page}");
    assert!(set_cookie(&headers, SESSION).is_none());

    let admin = app.admin_pool().await;
    let mut kinds: Vec<String> = Vec::new();
    for _ in 0..40 {
        kinds = sqlx::query_scalar(
            "select reason from security_events where kind = 'login_refused' order by occurred_at",
        )
        .fetch_all(&admin)
        .await
        .expect("events");
        if kinds.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kinds, ["state_mismatch", "code_rejected"]);
}

fn with_state(url: &str, state: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("url");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                state.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

#[tokio::test]
async fn a_rotated_idp_key_is_fetched_on_the_next_sign_in() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let mut idp = idp_for("acme", &[user("alice", "acme.test", &[])]).await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::Jit).await;
    sign_in_as(&app, "alice", "alice@acme.test").await;
    idp.restart().await; // a new signing key, unknown to our cached JWKS
    sign_in_as(&app, "alice", "alice@acme.test").await;
}

#[tokio::test]
async fn two_tenants_with_two_idps_cannot_be_mixed_up() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let rival = app.tenant("rival").await;
    let idp_a = idp_for("acme", &[user("alice", "acme.test", &["kitchen-admins"])]).await;
    let idp_b = idp_for(
        "rival",
        &[user("mallory", "rival.test", &["kitchen-admins"])],
    )
    .await;
    connect(&app, &acme, &idp_a, "acme.test", Provisioning::Jit).await;
    connect(&app, &rival, &idp_b, "rival.test", Provisioning::Jit).await;

    // Mallory starts a sign-in at acme, then answers it with rival's IdP,
    // carrying acme's state: refused as an issuer mix-up (RFC 9207 `iss`).
    let (_, acme_cookie) = start(&app, "alice@acme.test").await;
    let acme_login = prep_auth::sso::LoginTransaction::open(
        &acme_cookie,
        &app.state
            .master
            .sealer(prep_auth::seal::Purpose::LoginCookie),
    )
    .expect("our own cookie");
    let (authorize_b, _) = start(&app, "mallory@rival.test").await;
    let back_b = sign_in(&authorize_b, "mallory").await;
    let crafted = with_state(&back_b, &acme_login.s);
    let (status, headers, page) = finish(&app, &crafted, &acme_cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(set_cookie(&headers, SESSION).is_none());
    // and without `iss`, acme's IdP does not know rival's code
    let mut no_iss = url::Url::parse(&crafted).expect("url");
    let pairs: Vec<(String, String)> = no_iss
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    no_iss.query_pairs_mut().clear().extend_pairs(pairs);
    let (status, headers, page) = finish(&app, no_iss.as_str(), &acme_cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(set_cookie(&headers, SESSION).is_none());

    // each tenant's own users land in their own tenant only
    let a = sign_in_as(&app, "alice", "alice@acme.test").await;
    let b = sign_in_as(&app, "mallory", "mallory@rival.test").await;
    let (_, _, me_a) = with_session(&app, &a, "GET", "/auth/session", &[], None).await;
    let (_, _, me_b) = with_session(&app, &b, "GET", "/auth/session", &[], None).await;
    assert_eq!(me_a["tenantId"], json!(acme.id.as_uuid()));
    assert_eq!(me_b["tenantId"], json!(rival.id.as_uuid()));
    // a session cannot be pointed at another tenant
    let (status, _, _) = with_session(
        &app,
        &b,
        "POST",
        "/graphql",
        &[("x-prep-tenant", &acme.id.as_uuid().to_string())],
        Some(json!({"query": "{ viewer { tenant { slug } } }"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for named in ["rival".to_owned(), rival.id.as_uuid().to_string()] {
        let (status, _, _) = with_session(
            &app,
            &b,
            "POST",
            "/graphql",
            &[("x-prep-tenant", &named)],
            Some(json!({"query": "{ viewer { tenant { slug } } }"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "its own tenant, by slug or id");
    }
}

#[tokio::test]
async fn logout_ends_the_session_and_signs_out_at_the_idp() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let idp = idp_for("acme", &[user("alice", "acme.test", &[])]).await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::Jit).await;
    let session = sign_in_as(&app, "alice", "alice@acme.test").await;
    let (_, _, me) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    let csrf = me["csrfToken"].as_str().expect("csrf").to_owned();

    let (status, _, _) = with_session(&app, &session, "POST", "/auth/logout", &[], None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "logout needs the CSRF token");
    let (status, headers, _) = with_session(
        &app,
        &session,
        "POST",
        "/auth/logout",
        &[("x-csrf-token", &csrf)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let end_session = location(&headers);
    assert!(
        end_session.starts_with(&idp.issuer()),
        "RP-initiated logout at the IdP: {end_session}"
    );
    let cleared = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&format!("{SESSION}=;")) && c.contains("Max-Age=0"));
    assert!(cleared, "the cookie is cleared");
    let (status, _, _) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the session is dead server-side"
    );
    let back = confirm_logout(&end_session).await;
    assert!(back.starts_with(LOGGED_OUT), "{back}");
    let admin = app.admin_pool().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where action like 'user.%' order by occurred_at",
    )
    .fetch_all(&admin)
    .await
    .expect("audit");
    assert_eq!(actions, ["user.login", "user.logout"]);
}

#[tokio::test]
async fn an_idp_outage_keeps_sessions_and_fails_new_sign_ins_clearly() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let mut idp = idp_for("acme", &[user("alice", "acme.test", &[])]).await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::Jit).await;
    let session = sign_in_as(&app, "alice", "alice@acme.test").await;
    let (authorize, cookie) = start(&app, "alice@acme.test").await;
    let back = sign_in(&authorize, "alice").await;
    idp.stop().await;

    let (status, _, _) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "sessions live on while the IdP is down"
    );
    let status = app
        .graphql(&acme.token, "{ viewer { tenant { slug } } }", json!({}))
        .await
        .status;
    assert_eq!(status, StatusCode::OK, "gateway tokens too");
    let (status, _, page) = finish(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("try again"), "{page}");
}

#[tokio::test]
async fn sessions_end_at_their_idle_and_absolute_limits() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let idp = idp_for("acme", &[user("alice", "acme.test", &[])]).await;
    connect(&app, &acme, &idp, "acme.test", Provisioning::Jit).await;
    let idle = sign_in_as(&app, "alice", "alice@acme.test").await;
    let absolute = sign_in_as(&app, "alice", "alice@acme.test").await;
    let fresh = sign_in_as(&app, "alice", "alice@acme.test").await;
    let admin = app.admin_pool().await;
    let hash = |cookie: &str| {
        let raw = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, cookie)
            .expect("cookie");
        ring::digest::digest(&ring::digest::SHA256, &raw)
            .as_ref()
            .to_vec()
    };
    sqlx::query(
        "update sessions set idle_expires_at = now() - interval '1 second' where token_hash = $1",
    )
    .bind(hash(&idle))
    .execute(&admin)
    .await
    .expect("idle");
    sqlx::query("update sessions set absolute_expires_at = now() - interval '1 second' where token_hash = $1")
        .bind(hash(&absolute))
        .execute(&admin)
        .await
        .expect("absolute");
    for (cookie, want) in [
        (&idle, StatusCode::UNAUTHORIZED),
        (&absolute, StatusCode::UNAUTHORIZED),
        (&fresh, StatusCode::OK),
    ] {
        let (status, _, _) = with_session(&app, cookie, "GET", "/auth/session", &[], None).await;
        assert_eq!(status, want);
    }
    // the cookie itself is host-only, Secure, HttpOnly, SameSite=Lax
    let (authorize, cookie) = start(&app, "alice@acme.test").await;
    let (_, headers, _) = finish(&app, &sign_in(&authorize, "alice").await, &cookie).await;
    let set = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(SESSION))
        .expect("session cookie")
        .to_owned();
    for attr in ["Path=/", "HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
}
