use serde_json::json;
use sqlx::{Postgres, QueryBuilder};

use super::*;
use crate::scim::schema::{GROUPS, USERS};

fn sql(filter: &str, rt: &'static ResourceType) -> Result<String, ScimError> {
    let expr = parse(filter)?;
    let mut qb = QueryBuilder::<Postgres>::new("");
    push_sql(&mut qb, &expr, rt)?;
    Ok(qb.sql().to_owned())
}

#[test]
fn filters_translate_to_bound_sql() {
    let cases: &[(&str, &str)] = &[
        (r#"userName eq "Bjensen""#, "(u.user_name_normalized = lower($1))"),
        (r#"userName co "jen""#, "(strpos(lower(u.user_name), lower($1)) > 0)"),
        (r#"externalId sw "00u""#, "(starts_with(u.external_id, $1))"),
        (r#"title ew "chef""#, "(right(lower((u.profile->>'title')), length(lower($1))) = lower($2))"),
        ("active eq true", "(u.active is not distinct from $1)"),
        (r#"name.familyName ne "x""#, "((u.name->>'familyName') is null or lower((u.name->>'familyName')) <> lower($1))"),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, "(u.updated_at > $1)"),
        ("title pr", "((u.profile->>'title') is not null and (u.profile->>'title') <> '')"),
        (r#"emails co "@example.com""#, "exists (select 1 from jsonb_array_elements(u.emails) as e(v) where (strpos(lower((e.v->>'value')), lower($1)) > 0))"),
        (r#"emails[type eq "work" and value co "@x"]"#, "exists (select 1 from jsonb_array_elements(u.emails) as e(v) where ((lower((e.v->>'type')) = lower($1)) and (strpos(lower((e.v->>'value')), lower($2)) > 0)))"),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7""#, "(lower((u.enterprise->>'employeeNumber')) = lower($1))"),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#, "(u.user_name_normalized = lower($1))"),
        (r#"not (userName eq "a") or (title eq "b" and active eq false)"#, "((not coalesce((u.user_name_normalized = lower($1)), false)) or ((lower((u.profile->>'title')) = lower($2)) and (u.active is not distinct from $3)))"),
    ];
    for (filter, want) in cases {
        assert_eq!(
            sql(filter, &USERS).as_deref().map_err(|e| e.to_string()),
            Ok(*want),
            "{filter}"
        );
    }
    assert_eq!(
        sql(r#"displayName eq "Chefs""#, &GROUPS).ok().as_deref(),
        Some("(g.display_name_normalized = lower($1))")
    );
    assert!(
        sql(r#"members[value eq "x"]"#, &GROUPS).is_ok_and(|s| s.contains("m.user_id::text = $1"))
    );
}

#[test]
fn bad_filters_are_invalid_filter_errors() {
    for bad in [
        "USER@EXAMPLE.COM",
        "userName eq",
        r#"userName eq "a" or"#,
        r#"shoeSize eq "9""#,
        r#"name.shoeSize eq "9""#,
        r#"active eq "yes""#,
        "active gt true",
        r#"meta.created gt "soon""#,
        r#"meta.version eq "x""#,
        r#"name eq "x""#,
        r#"password eq "x""#,
        r#"userName[value eq "x"]"#,
        r#"emails[shoe eq "x"]"#,
        r#"urn:prep:params:scim:schemas:extension:prep:2.0:User:locations[type eq "x"]"#,
    ] {
        let e = sql(bad, &USERS).expect_err(bad);
        assert_eq!(e.scim_type(), Some(ScimType::InvalidFilter), "{bad}: {e}");
    }
    assert!(
        sql(r#"userName eq "a""#, &GROUPS).is_err(),
        "groups have no userName"
    );
}

#[test]
fn value_filters_match_elements_in_memory() {
    let emails = USERS.schema.attr("emails").expect("emails");
    let work = json!({ "value": "A@x.io", "type": "Work", "primary": true });
    let f = |s: &str| parse(s).expect("parses");
    assert!(matches(&f(r#"type eq "work""#), &work, emails));
    assert!(matches(
        &f(r#"value co "@X.IO" and primary eq true"#),
        &work,
        emails
    ));
    assert!(!matches(
        &f(r#"type eq "home" or not (primary eq true)"#),
        &work,
        emails
    ));
    assert!(
        matches(&f("display ne \"x\""), &work, emails),
        "absent ne matches"
    );
    assert!(matches(&f("type pr"), &work, emails));
    let members = GROUPS.schema.attr("members").expect("members");
    assert!(matches(
        &f(r#"value eq "u1""#),
        &json!({ "value": "u1" }),
        members
    ));
    assert!(
        !matches(&f(r#"value eq "U1""#), &json!({ "value": "u1" }), members),
        "member ids are case-exact"
    );
}

#[test]
fn paths_parse_with_filters_and_sub_attributes() {
    let p = parse_path(r#"emails[type eq "work"].value"#).expect("parses");
    assert_eq!(p.attr.name, "emails");
    assert_eq!(p.sub_after_filter.as_deref(), Some("value"));
    assert!(p.filter.is_some());
    let p = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager")
        .expect("parses");
    assert_eq!(
        p.attr.uri.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(p.attr.name, "manager");
    assert_eq!(
        parse_path("name.givenName")
            .expect("parses")
            .attr
            .sub
            .as_deref(),
        Some("givenName")
    );
    assert_eq!(
        parse_path("emails[").expect_err("bad").scim_type(),
        Some(ScimType::InvalidPath)
    );
}

#[test]
fn sorting_is_stable_and_refuses_unknown_attributes() {
    let mut qb = QueryBuilder::<Postgres>::new("");
    push_order(&mut qb, Some("userName"), true, &USERS).expect("sorts");
    assert_eq!(
        qb.sql(),
        " order by lower(u.user_name) desc nulls last, u.id desc"
    );
    let mut qb = QueryBuilder::<Postgres>::new("");
    push_order(&mut qb, None, false, &GROUPS).expect("sorts");
    assert_eq!(qb.sql(), " order by g.id asc");
    let mut qb = QueryBuilder::<Postgres>::new("");
    assert!(push_order(&mut qb, Some("shoeSize"), false, &USERS).is_err());
}
