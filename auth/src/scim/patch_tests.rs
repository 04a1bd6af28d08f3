use serde_json::{json, Value};

use super::*;
use crate::scim::schema::{ENTERPRISE_USER, GROUPS, USERS};

fn run(doc: Value, ops: Value, rt: &'static ResourceType) -> Result<Value, ScimError> {
    let ops = parse(&json!({ "schemas": [PATCH_OP], "Operations": ops }))?;
    let mut doc = doc;
    apply(&mut doc, &ops, rt)?;
    Ok(doc)
}

fn user() -> Value {
    json!({
        "id": "u1", "userName": "ann@x.io", "active": true,
        "name": { "givenName": "Ann", "familyName": "Lee" },
        "emails": [{ "value": "ann@x.io", "type": "work", "primary": true }],
        "meta": { "created": "2026-01-01T00:00:00Z" },
    })
}

#[test]
fn real_idp_shapes_apply() {
    let cases: Vec<(Value, Value)> = vec![
        // Entra: capitalised op, string boolean
        (
            json!([{ "op": "Replace", "path": "active", "value": "False" }]),
            json!({ "active": false }),
        ),
        // Okta: no-path replace
        (
            json!([{ "op": "replace", "value": { "active": false } }]),
            json!({ "active": false }),
        ),
        // Entra: no-path add keyed by attribute paths
        (
            json!([{ "op": "Add", "value": { "name.givenName": "Maria", format!("{ENTERPRISE_USER}:department"): "Ops" } }]),
            json!({ "name": { "givenName": "Maria", "familyName": "Lee" }, ENTERPRISE_USER: { "department": "Ops" } }),
        ),
        // Entra: manager wrapped in a one-element array
        (
            json!([{ "op": "Add", "path": format!("{ENTERPRISE_USER}:manager"), "value": [{ "value": "m1" }] }]),
            json!({ ENTERPRISE_USER: { "manager": { "value": "m1" } } }),
        ),
        // Entra: value-path replace of a sub-attribute
        (
            json!([{ "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "maria@x.io" }]),
            json!({ "emails": [{ "value": "maria@x.io", "type": "work", "primary": true }] }),
        ),
        // Entra: add through a filter that matches nothing creates the element
        (
            json!([{ "op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555" }]),
            json!({ "phoneNumbers": [{ "type": "mobile", "value": "+1 555" }] }),
        ),
        // primary moves to the new element
        (
            json!([{ "op": "add", "path": "emails", "value": [{ "value": "b@x.io", "type": "home", "primary": true }] }]),
            json!({ "emails": [{ "value": "ann@x.io", "type": "work", "primary": false }, { "value": "b@x.io", "type": "home", "primary": true }] }),
        ),
        // remove by filter, remove a sub-attribute
        (
            json!([{ "op": "remove", "path": "emails[type eq \"work\"]" }]),
            json!({ "emails": [] }),
        ),
        (
            json!([{ "op": "remove", "path": "name.familyName" }]),
            json!({ "name": { "givenName": "Ann" } }),
        ),
    ];
    for (ops, changed) in cases {
        let got = run(user(), ops.clone(), &USERS).unwrap_or_else(|e| panic!("{ops}: {e}"));
        let mut want = user();
        for (k, v) in changed.as_object().expect("object") {
            want[k] = v.clone();
        }
        assert_eq!(got, want, "{ops}");
    }
}

#[test]
fn group_membership_shapes() {
    let group = json!({ "id": "g1", "displayName": "Cooks", "members": [{ "value": "u1" }, { "value": "u2" }] });
    let renamed = run(
        group.clone(),
        json!([{ "op": "replace", "value": { "id": "g1", "displayName": "Chefs" } }]),
        &GROUPS,
    )
    .expect("Okta rename");
    assert_eq!(renamed["displayName"], "Chefs");
    let swapped = run(
        group.clone(),
        json!([
            { "op": "remove", "path": "members[value eq \"u1\"]" },
            { "op": "add", "path": "members", "value": [{ "value": "u3", "display": "x" }, { "value": "u2" }] },
        ]),
        &GROUPS,
    )
    .expect("Okta remove+add");
    assert_eq!(
        swapped["members"],
        json!([{ "value": "u2" }, { "value": "u3" }])
    );
    let entra = run(
        group.clone(),
        json!([{ "op": "Remove", "path": "members", "value": [{ "value": "u2" }] }]),
        &GROUPS,
    )
    .expect("Entra removal by value list");
    assert_eq!(entra["members"], json!([{ "value": "u1" }]));
    let all = run(
        group.clone(),
        json!([{ "op": "remove", "path": "members" }]),
        &GROUPS,
    )
    .expect("remove all");
    assert!(all.get("members").is_none());
    let idem = run(
        group,
        json!([{ "op": "remove", "path": "members[value eq \"nobody\"]" }]),
        &GROUPS,
    )
    .expect("removing a non-member is a no-op");
    assert_eq!(idem["members"].as_array().map(Vec::len), Some(2));
    let user_groups = run(
        user(),
        json!([{ "op": "replace", "value": { "groups": [], "active": false } }]),
        &USERS,
    )
    .expect("a read-only attribute repeated as it stands is ignored");
    assert_eq!(user_groups["active"], false);
    let other_id = run(
        json!({ "id": "g1", "displayName": "C" }),
        json!([{ "op": "replace", "value": { "id": "g2" } }]),
        &GROUPS,
    );
    assert_eq!(
        other_id.expect_err("id").scim_type(),
        Some(ScimType::Mutability)
    );
}

#[test]
fn bad_operations_are_refused() {
    let cases: Vec<(Value, ScimType)> = vec![
        (
            json!([{ "op": "replace", "path": "shoeSize", "value": 1 }]),
            ScimType::InvalidPath,
        ),
        (
            json!([{ "op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z" }]),
            ScimType::Mutability,
        ),
        (
            json!([{ "op": "add", "path": "groups", "value": [{ "value": "g" }] }]),
            ScimType::Mutability,
        ),
        (
            json!([{ "op": "replace", "path": "active", "value": "perhaps" }]),
            ScimType::InvalidValue,
        ),
        (
            json!([{ "op": "replace", "path": "emails[type eq \"home\"].value", "value": "x" }]),
            ScimType::NoTarget,
        ),
        (
            json!([{ "op": "remove", "path": "userName" }]),
            ScimType::InvalidValue,
        ),
        (json!([{ "op": "remove" }]), ScimType::NoTarget),
        (
            json!([{ "op": "add", "path": "title" }]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{ "op": "move", "path": "title", "value": "x" }]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{ "op": "replace", "value": { "name.nick": "x" } }]),
            ScimType::InvalidPath,
        ),
        (json!([]), ScimType::InvalidSyntax),
    ];
    for (ops, t) in cases {
        let e = run(user(), ops.clone(), &USERS).expect_err("refused");
        assert_eq!(e.scim_type(), Some(t), "{ops}: {e}");
    }
    let no_schema = parse(&json!({ "Operations": [{ "op": "remove", "path": "title" }] }));
    assert_eq!(
        no_schema.expect_err("schema").scim_type(),
        Some(ScimType::InvalidSyntax)
    );
}
