//! The test IdP harness on its own, without the gateway: a real
//! authorization code flow with PKCE, single-use codes, RP-initiated logout,
//! key rotation on restart, and "IdP down" after stop.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use prep_tests::oidc::{confirm_logout, sign_in, IdentityProvider, TestUser};
use serde_json::Value;
use url::Url;
use uuid::Uuid;

const CLIENT_ID: &str = "prep-gateway";
const CLIENT_SECRET: &str = "harness-secret";
const REDIRECT_URI: &str = "http://gateway.test/auth/callback";
const LOGGED_OUT_URI: &str = "http://gateway.test/auth/logged-out";

fn alice() -> TestUser {
    TestUser {
        login: "alice".into(),
        email: "alice@acme.test".into(),
        name: "Alice Able".into(),
        groups: vec!["kitchen-admins".into(), "line-cooks".into()],
    }
}

async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let response = http.get(url).send().await.expect("GET");
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON")
}

async fn redeem(
    http: &reqwest::Client,
    token_endpoint: &str,
    code: &str,
    verifier: &str,
) -> (reqwest::StatusCode, Value) {
    let response = http
        .post(token_endpoint)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .expect("POST the token endpoint");
    let status = response.status();
    let body = serde_json::from_slice(&response.bytes().await.expect("body")).expect("JSON");
    (status, body)
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[tokio::test]
async fn idp_harness_runs_a_real_code_flow_and_rotates_keys() {
    let user = alice();
    let mut idp = IdentityProvider::start(
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT_URI,
        LOGGED_OUT_URI,
        std::slice::from_ref(&user),
    )
    .await;
    let issuer = idp.issuer();
    let http = reqwest::Client::new();
    let discovery = get_json(&http, &format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], issuer.as_str());
    let endpoint = |name: &str| {
        discovery[name]
            .as_str()
            .unwrap_or_else(|| panic!("discovery lacks {name}: {discovery}"))
            .to_owned()
    };

    // Authorization request with PKCE S256.
    let verifier = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        verifier.as_bytes(),
    ));
    let state = Uuid::new_v4().simple().to_string();
    let nonce = Uuid::new_v4().simple().to_string();
    let mut authorize = Url::parse(&endpoint("authorization_endpoint")).expect("authorize URL");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid email profile groups")
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");

    let callback = sign_in(authorize.as_str(), &user.login).await;
    let callback = Url::parse(&callback).expect("callback URL");
    assert!(
        callback.as_str().starts_with(REDIRECT_URI),
        "not sent back to the RP: {callback}"
    );
    assert_eq!(query(&callback, "state").as_deref(), Some(state.as_str()));
    assert_eq!(query(&callback, "iss").as_deref(), Some(issuer.as_str()));
    let code = query(&callback, "code").expect("a code in the callback");

    // Code for tokens, authenticated with client_secret_basic.
    let token_endpoint = endpoint("token_endpoint");
    let (status, tokens) = redeem(&http, &token_endpoint, &code, &verifier).await;
    assert!(
        status.is_success(),
        "token exchange failed: {status} {tokens}"
    );
    let id_token = tokens["id_token"].as_str().expect("an id_token");
    let payload = id_token.split('.').nth(1).expect("a JWS");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
            .expect("JSON claims");
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], user.login.as_str());
    assert_eq!(claims["nonce"], nonce.as_str());
    assert_eq!(claims["email"], user.email.as_str());
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], user.name.as_str());
    assert_eq!(claims["groups"], serde_json::json!(user.groups));

    // Codes are single-use.
    let (status, replay) = redeem(&http, &token_endpoint, &code, &verifier).await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{replay}");
    assert_eq!(replay["error"], "invalid_grant");

    // RP-initiated logout comes back to the registered URI with the state.
    let mut end_session = Url::parse(&endpoint("end_session_endpoint")).expect("end_session");
    end_session
        .query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", LOGGED_OUT_URI)
        .append_pair("state", "bye");
    let logged_out = confirm_logout(end_session.as_str()).await;
    assert_eq!(logged_out, format!("{LOGGED_OUT_URI}?state=bye"));

    // A restart rotates the signing key.
    let jwks_uri = endpoint("jwks_uri");
    let kids = |jwks: &Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| key["kid"].as_str().expect("kid").to_owned())
            .collect()
    };
    let before = kids(&get_json(&http, &jwks_uri).await);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(id_token.split('.').next().expect("header"))
            .expect("base64url header"),
    )
    .expect("JSON header");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        before,
        vec![header["kid"].as_str().expect("kid").to_owned()]
    );
    idp.restart().await;
    assert_eq!(idp.issuer(), issuer);
    let after = kids(&get_json(&reqwest::Client::new(), &jwks_uri).await);
    assert_eq!(after.len(), 1);
    assert_ne!(before, after, "restart must rotate the signing key");

    // Stopped, the IdP refuses connections.
    idp.stop().await;
    let down = reqwest::Client::new().get(&jwks_uri).send().await;
    assert!(down.is_err_and(|e| e.is_connect()), "the IdP still answers");
}
