//! The filter examples of RFC 7644 §3.4.2.2, run through `GET /Users`
//! against real PostgreSQL, each with the users it must return.

use axum::http::{Method, StatusCode};
use prep_tests::scim::q;
use prep_tests::TestApp;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn rfc_7644_filter_examples() {
    let app = TestApp::new().await;
    let acme = app.tenant("acme").await;
    let idp = app.idp(&acme).await;
    let people: [Value; 3] = [
        json!({ "schemas": [USER, ENTERPRISE], "userName": "bjensen", "title": "Tour Guide", "userType": "Employee",
                "name": { "familyName": "Jensen", "givenName": "Barbara" },
                "emails": [{ "value": "bjensen@example.com", "type": "work" }],
                ENTERPRISE: { "employeeNumber": "701984" } }),
        json!({ "schemas": [USER], "userName": "Jomalley", "userType": "Intern",
                "name": { "familyName": "O'Malley", "givenName": "John" },
                "emails": [{ "value": "jo@example.org", "type": "home" }] }),
        json!({ "schemas": [USER], "userName": "kwilliams", "title": "Chef", "userType": "Contractor",
                "emails": [{ "value": "kw@example.net", "type": "work" }] }),
    ];
    for p in people {
        let r = idp.call(Method::POST, "/Users", Some(p)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "bjensen""#, &["bjensen"]),
        (r#"name.familyName co "O'Malley""#, &["Jomalley"]),
        (r#"userName sw "J""#, &["Jomalley"]),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            &["Jomalley"],
        ),
        ("title pr", &["bjensen", "kwilliams"]),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            &["bjensen", "Jomalley", "kwilliams"],
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            &["bjensen", "Jomalley", "kwilliams"],
        ),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, &[]),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, &[]),
        (r#"title pr and userType eq "Employee""#, &["bjensen"]),
        (
            r#"title pr or userType eq "Intern""#,
            &["bjensen", "Jomalley", "kwilliams"],
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            &["bjensen"],
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            &["bjensen"],
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            &["kwilliams"],
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            &["bjensen"],
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            &["bjensen"],
        ),
    ];
    for (filter, want) in cases {
        let r = idp
            .get(&format!("/Users?sortBy=userName&filter={}", q(filter)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{filter}: {}", r.body);
        let mut got: Vec<&str> = r.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .filter_map(|u| u["userName"].as_str())
            .filter(|u| !u.starts_with("owner@"))
            .collect();
        got.sort_by_key(|u| u.to_lowercase());
        assert_eq!(got, *want, "{filter}");
    }
    // `ims` is a core attribute this service provider does not keep.
    let r = idp
        .get(&format!("/Users?filter={}", q(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#)))
        .await;
    assert_eq!(
        (r.status, r.scim_type()),
        (StatusCode::BAD_REQUEST, Some("invalidFilter"))
    );
}
