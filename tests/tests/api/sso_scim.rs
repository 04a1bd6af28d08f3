//! SSO meets SCIM: a user the IdP provisioned is found at their first
//! sign-in by the connection's link rule, not only by e-mail.

use axum::http::{Method, StatusCode};
use prep_auth::sso::Provisioning;
use serde_json::json;

use super::sso::{app, connect, idp_for, sign_in_as, user, with_session};

#[tokio::test]
async fn scim_provisioned_users_are_found_at_first_sign_in() {
    let app = app().await;
    let acme = app.tenant("acme").await;
    let idp = idp_for(
        "acme",
        &[
            user("dan", "acme.test", &[]),
            user("erin", "acme.test", &[]),
        ],
    )
    .await;
    let connection = connect(&app, &acme, &idp, "acme.test", Provisioning::ScimOnly).await;
    let scim = app.idp(&acme).await;
    // userName is the IdP login (here its e-mail claim); the SCIM e-mail
    // differs, so only the SCIM link can find the user
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "DAN@acme.test",
        "emails": [{ "value": "dan.private@mail.example", "primary": true }],
    });
    let r = scim.call(Method::POST, "/Users", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let session = sign_in_as(&app, "dan", "dan@acme.test").await;
    let (status, _, body) = with_session(&app, &session, "GET", "/auth/session", &[], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // linked by subject = externalId when the admin says so
    let update = app
        .graphql(
            &acme.token,
            "mutation($id: ID!, $input: SsoConnectionInput!) { updateSsoConnection(id: $id, input: $input) {
                connection { scimLink } userErrors { field message } } }",
            json!({ "id": prep_resolvers::ids::encode(prep_resolvers::ids::NodeType::SsoConnection, connection),
                    "input": { "name": "acme IdP", "issuer": idp.issuer(), "clientId": "prep-acme",
                               "scopes": ["email", "profile", "groups"], "provisioning": "SCIM_ONLY",
                               "scimLink": "EXTERNAL_ID" } }),
        )
        .await;
    assert_eq!(
        update.data()["updateSsoConnection"]["connection"]["scimLink"],
        "EXTERNAL_ID",
        "{}",
        update.body
    );
    let admin = app.admin_pool().await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "e.smith", "externalId": "erin",
    });
    let r = scim.call(Method::POST, "/Users", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    sign_in_as(&app, "erin", "erin@acme.test").await;
    let linked: i64 = sqlx::query_scalar(
        "select count(*) from users where sso_subject is not null and (user_name = 'DAN@acme.test' or external_id = 'erin')",
    )
    .fetch_one(&admin)
    .await
    .expect("count");
    assert_eq!(linked, 2, "both SCIM users now carry their IdP identity");
}
