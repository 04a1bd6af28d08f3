//! SCIM Groups: Okta's rename with `id` in the value and remove+add in one
//! PATCH, Entra's member removal by value list and its
//! `excludedAttributes=members` look-up; membership granting roles through
//! the roles primitive (and at each member's assigned locations).

use axum::http::{Method, StatusCode};
use prep_tests::scim::q;
use prep_tests::TestApp;
use serde_json::{json, Value};
use uuid::Uuid;

const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const PREP: &str = "urn:prep:params:scim:schemas:extension:prep:2.0:User";

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|x| x["value"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| (*s).clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn okta_and_entra_group_shapes() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let a = idp.create_user("a@acme.example").await;
    let b = idp.create_user("b@acme.example").await;
    let c = idp.create_user("c@acme.example").await;
    let g = idp.create_group("Line Cooks", &[&a, &b]).await;

    // Okta: rename with the id inside the value.
    let r = idp
        .call(
            Method::PATCH,
            &format!("/Groups/{g}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
            { "op": "replace", "value": { "id": g, "displayName": "Cooks" } },
        ] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayName"], "Cooks");

    // Okta: remove and add membership in one request.
    let r = idp
        .call(
            Method::PATCH,
            &format!("/Groups/{g}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
            { "op": "remove", "path": format!("members[value eq \"{a}\"]") },
            { "op": "add", "path": "members", "value": [{ "value": c, "display": "c" }] },
        ] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_ids(&r.body), sorted(&[&b, &c]));

    // Entra: remove with a value list (only those), capitalised op.
    let r = idp
        .call(
            Method::PATCH,
            &format!("/Groups/{g}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
            { "op": "Remove", "path": "members", "value": [{ "value": b }] },
        ] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_ids(&r.body), sorted(&[&c]));

    // Entra: look-up by name without members.
    let r = idp
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            q(r#"displayName eq "cooks""#)
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("members").is_none());
    let by_member = idp
        .get(&format!(
            "/Groups?filter={}",
            q(&format!(r#"members.value eq "{c}""#))
        ))
        .await;
    assert_eq!(by_member.body["totalResults"], 1);

    // A user's groups are read-only and listed on the user.
    let user = idp.get(&format!("/Users/{c}")).await;
    assert_eq!(user.body["groups"][0]["display"], "Cooks");

    // Members must be users of this tenant; nothing changes otherwise.
    let r = idp
        .call(
            Method::PATCH,
            &format!("/Groups/{g}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
            { "op": "add", "path": "members", "value": [{ "value": Uuid::new_v4() }] },
        ] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.scim_type(), Some("invalidValue"));

    // PUT replaces the member list wholesale; DELETE removes the group.
    let r = idp
        .call(
            Method::PUT,
            &format!("/Groups/{g}"),
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Cooks", "members": [{ "value": a }],
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(member_ids(&r.body), sorted(&[&a]));
    let dup = idp
        .call(
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "COOKS",
            })),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(
        idp.call(Method::DELETE, &format!("/Groups/{g}"), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        idp.get(&format!("/Groups/{g}")).await.status,
        StatusCode::NOT_FOUND
    );
}

const GRANT: &str = r#"mutation($g: ID!, $r: Role!, $a: Boolean) {
    grantRole(input: { groupId: $g, role: $r, atAssignedLocations: $a }) {
    grant { id } userErrors { field message } } }"#;

#[tokio::test]
async fn membership_grants_roles_and_retires_tokens() {
    let app = TestApp::new().await;
    let acme = app.seeded_tenant("acme").await;
    let idp = app.idp(&acme).await;
    let admin = app.admin_pool().await;
    let stores: Vec<String> =
        sqlx::query_scalar("select store_number from locations order by store_number limit 2")
            .fetch_all(&admin)
            .await
            .expect("stores");
    let cook = idp.create_user("cook@acme.example").await;
    let r = idp
        .call(
            Method::PATCH,
            &format!("/Users/{cook}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
            { "op": "add", "value": { format!("{PREP}:locations"): [stores[0]] } },
        ] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let g = idp.create_group("Kitchen Staff", &[]).await;
    let group_id = prep_resolvers::ids::encode(
        prep_resolvers::ids::NodeType::Group,
        g.parse().expect("uuid"),
    );
    let granted = app
        .graphql(
            &acme.token,
            GRANT,
            json!({ "g": group_id, "r": "STAFF", "a": true }),
        )
        .await;
    assert!(
        granted.data()["grantRole"]["userErrors"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "{}",
        granted.body
    );

    let grants = |user: String| {
        let admin = admin.clone();
        async move {
            let g: Vec<String> = sqlx::query_scalar(
                "select unnest(user_grants(tenant_id, id)) from users where id = $1::uuid",
            )
            .bind(user)
            .fetch_all(&admin)
            .await
            .expect("grants");
            g
        }
    };
    assert!(grants(cook.clone()).await.is_empty(), "not a member yet");
    let token = app.token("acme", "cook@acme.example", &[]).await;
    let r = idp
        .call(
            Method::PATCH,
            &format!("/Groups/{g}"),
            Some(json!({ "schemas": [PATCH], "Operations": [
            { "op": "add", "path": "members", "value": [{ "value": cook }] },
        ] })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let location: String =
        sqlx::query_scalar("select id::text from locations where store_number = $1")
            .bind(&stores[0])
            .fetch_one(&admin)
            .await
            .expect("location");
    assert_eq!(grants(cook.clone()).await, [format!("staff@{location}")]);
    assert!(
        app.refused_soon(&token).await,
        "the membership change retired the old token"
    );
}
