//! Gateway tokens: the negative matrix (every forged or stale token is
//! refused with UNAUTHENTICATED and recorded), key rotation without
//! downtime, JWKS, and revocation reaching a valid token at once.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use prep_auth::seal::Purpose;
use prep_auth::{Grant, Role, Rotation};
use prep_tests::TestApp;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

const VIEWER: &str = "{ viewer { tenant { slug } } }";

/// The gateway's signing key as an insider would have it: validly signed
/// tokens with bad claims must still be refused.
async fn signing_key(app: &TestApp) -> (String, EncodingKey) {
    let admin = app.admin_pool().await;
    let (kid, sealed): (String, Vec<u8>) = sqlx::query_as(
        "select kid, private_key_sealed from signing_keys order by signs_from desc limit 1",
    )
    .fetch_one(&admin)
    .await
    .expect("key row");
    let pkcs8 = app
        .state
        .master
        .sealer(Purpose::SigningKey)
        .open(&sealed, kid.as_bytes())
        .expect("open the sealed key");
    (kid, EncodingKey::from_ed_der(&pkcs8))
}

fn claims(iss: &str, aud: &str, tid: Uuid, sub: Uuid, slug: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": iss, "aud": aud, "sub": sub, "tid": tid, "tsl": slug,
        "iat": now, "iat_ms": now * 1000, "nbf": now, "exp": now + 300,
        "jti": Uuid::new_v4(), "roles": ["owner"],
    })
}

fn sign(kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("encode")
}

async fn status_of(app: &TestApp, token: &str, tenant_header: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(t) = tenant_header {
        req = req.header("x-prep-tenant", t);
    }
    let req = req
        .body(Body::from(json!({ "query": VIEWER }).to_string()))
        .expect("request");
    let (status, _, body) = app.send(req).await;
    (status, serde_json::from_slice(&body).expect("json"))
}

async fn security_reasons(admin: &PgPool, want: usize) -> Vec<String> {
    for _ in 0..40 {
        let reasons: Vec<String> = sqlx::query_scalar(
            "select reason from security_events where kind = 'token_rejected' order by occurred_at",
        )
        .fetch_all(admin)
        .await
        .expect("events");
        if reasons.len() >= want {
            return reasons;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("security events did not arrive");
}

#[tokio::test]
async fn forged_stale_and_misdirected_tokens_are_refused_and_recorded() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let (kid, key) = signing_key(&app).await;
    let iss = app.state.settings.server.public_url.clone();
    let aud = app.state.settings.auth.audience.clone();
    let user = Uuid::new_v4();
    let good = claims(&iss, &aud, acme.id.as_uuid(), user, "acme");
    // sanity: the insider-made token is accepted as it is
    let (status, _) = status_of(&app, &sign(&kid, &key, &good), None).await;
    assert_eq!(status, StatusCode::OK);

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let jwks: Value = {
        let (_, _, body) = app
            .send(
                Request::get("/.well-known/jwks.json")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        serde_json::from_slice(&body).expect("jwks")
    };
    let public_x = jwks["keys"][0]["x"].as_str().expect("x").to_owned();

    let mut cases: Vec<(&str, String, Option<&str>)> = Vec::new();
    cases.push((
        "algorithm_not_allowed",
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&good)
        ),
        None,
    ));
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let hs_token = jsonwebtoken::encode(
        &hs,
        &good,
        &EncodingKey::from_secret(&URL_SAFE_NO_PAD.decode(&public_x).expect("x")),
    )
    .expect("hs256");
    cases.push(("algorithm_not_allowed", hs_token, None));
    let mut expired = good.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 120);
    expired["nbf"] = json!(chrono::Utc::now().timestamp() - 600);
    cases.push(("expired", sign(&kid, &key, &expired), None));
    let mut future = good.clone();
    future["nbf"] = json!(chrono::Utc::now().timestamp() + 600);
    cases.push(("not_yet_valid", sign(&kid, &key, &future), None));
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("someone-else");
    cases.push(("wrong_audience", sign(&kid, &key, &wrong_aud), None));
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("https://evil.example");
    cases.push(("wrong_issuer", sign(&kid, &key, &wrong_iss), None));
    cases.push(("unknown_key", sign("not-a-known-kid", &key, &good), None));
    cases.push(("tenant_mismatch", sign(&kid, &key, &good), Some("other")));
    let valid = sign(&kid, &key, &good);
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    let mut tampered = good.clone();
    tampered["tid"] = json!(other.id.as_uuid());
    parts[1] = b64(&tampered);
    cases.push(("bad_signature", parts.join("."), None));
    cases.push(("malformed", "not.a.jwt".into(), None));

    for (reason, token, tenant) in &cases {
        let (status, body) = status_of(&app, token, *tenant).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{reason}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{reason}"
        );
        assert_eq!(
            body["errors"][0]["message"], "the bearer token is invalid or expired",
            "{reason}: every refusal answers alike; the reason is for the security log"
        );
    }
    let admin = app.admin_pool().await;
    let mut recorded = security_reasons(&admin, cases.len()).await;
    let mut expected: Vec<String> = cases.iter().map(|(r, _, _)| (*r).to_owned()).collect();
    recorded.sort();
    expected.sort();
    assert_eq!(recorded, expected);
    // the tampered token claimed the other tenant: recorded as a claim only
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "select claimed_tenant from security_events where reason = 'bad_signature'",
    )
    .fetch_one(&admin)
    .await
    .expect("claimed");
    assert_eq!(claimed, Some(other.id.as_uuid()));
    let (_, _, metrics) = app
        .send(Request::get("/metrics").body(Body::empty()).expect("req"))
        .await;
    let metrics = String::from_utf8(metrics).expect("text");
    assert!(
        metrics.contains(
            r#"prep_auth_refusals_total{kind="bearer",reason="algorithm_not_allowed"} 2"#
        ),
        "{metrics}"
    );
    // a request naming its own tenant is fine, by slug or id
    let token = acme.token.clone();
    assert_eq!(
        status_of(&app, &token, Some("acme")).await.0,
        StatusCode::OK
    );
    let id = acme.id.as_uuid().to_string();
    assert_eq!(status_of(&app, &token, Some(&id)).await.0, StatusCode::OK);
}

#[tokio::test]
async fn keys_rotate_without_rejecting_live_tokens_and_emergencies_cut_them_off() {
    let mut settings = TestApp::settings();
    settings.auth.key_publish_ahead_secs = 0;
    let app = TestApp::with_settings(settings).await;
    let acme = app.tenant("acme").await;
    let keyring = app.state.tokens.keyring();
    let first = keyring.kids();
    assert_eq!(first.len(), 1);

    let new_kid = keyring.rotate(Rotation::Planned).await.expect("rotate");
    assert_eq!(keyring.kids().len(), 2, "both keys are published");
    let (_, _, body) = app
        .send(
            Request::get("/.well-known/jwks.json")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    let jwks: Value = serde_json::from_slice(&body).expect("jwks");
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid"))
        .collect();
    assert!(kids.contains(&first[0].as_str()) && kids.contains(&new_kid.as_str()));
    assert!(jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .all(|k| k["kty"] == "OKP" && k["alg"] == "EdDSA" && k.get("d").is_none()));
    // the token signed by the old key still works; new ones use the new key
    assert_eq!(status_of(&app, &acme.token, None).await.0, StatusCode::OK);
    let fresh = app.token("acme", "owner@acme.example", &[]).await;
    let header = jsonwebtoken::decode_header(&fresh).expect("header");
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()));
    assert_eq!(status_of(&app, &fresh, None).await.0, StatusCode::OK);

    // a compromised key: the emergency rotation kills its tokens at once
    keyring
        .rotate(Rotation::Emergency)
        .await
        .expect("emergency");
    assert_eq!(
        status_of(&app, &acme.token, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_of(&app, &fresh, None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let after = app.token("acme", "owner@acme.example", &[]).await;
    assert_eq!(status_of(&app, &after, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn deactivating_a_user_kills_their_tokens_at_once() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let staff = app
        .token(
            "acme",
            "line-cook@acme.example",
            &[Grant {
                role: Role::Staff,
                location: None,
            }],
        )
        .await;
    assert_eq!(status_of(&app, &staff, None).await.0, StatusCode::OK);
    let admin = app.admin_pool().await;
    sqlx::query(
        "update users set active = false where email_normalized = 'line-cook@acme.example'",
    )
    .execute(&admin)
    .await
    .expect("deactivate");
    let mut refused = false;
    for _ in 0..40 {
        if status_of(&app, &staff, None).await.0 == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        refused,
        "a deactivated user's token must stop working within 2 s"
    );
    // nobody else is affected
    assert_eq!(status_of(&app, &acme.token, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn replicas_share_the_keyring_and_an_emergency_rotation_reaches_them_at_once() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let (other, other_router) = app.replica().await;
    let ask = |router: axum::Router, token: String| async move {
        let req = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(json!({ "query": VIEWER }).to_string()))
            .expect("request");
        tower::ServiceExt::oneshot(router, req)
            .await
            .expect("response")
            .status()
    };
    // a token from one replica works on the other
    assert_eq!(
        ask(other_router.clone(), acme.token.clone()).await,
        StatusCode::OK
    );
    // replica A rotates in an emergency: replica B drops the old key at once
    app.state
        .tokens
        .keyring()
        .rotate(Rotation::Emergency)
        .await
        .expect("rotate");
    let mut refused = false;
    for _ in 0..40 {
        if ask(other_router.clone(), acme.token.clone()).await == StatusCode::UNAUTHORIZED {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        refused,
        "the other replica must stop accepting the compromised key"
    );
    // and accepts the new key's tokens
    let fresh = app.token("acme", "owner@acme.example", &[]).await;
    assert_eq!(ask(other_router.clone(), fresh).await, StatusCode::OK);
    assert_eq!(
        other.tokens.keyring().kids(),
        app.state.tokens.keyring().kids()
    );
}
