//! The tree's own rules: parsing, key order, merging, lookups.

use super::*;
use serde_json::json;

fn data(v: Value) -> Data {
    serde_json::from_value(v).expect("data")
}

#[test]
fn parses_to_sorted_objects_and_back_to_the_same_json() {
    let text = r#"{"b":1,"a":[true,null,"x",1.5,{"z":{},"y":-2}],"c":"é\n","aa":0}"#;
    let parsed: Data = serde_json::from_str(text).expect("parses");
    let keys: Vec<&str> = parsed
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["a", "b", "c", "aa"]);
    let back: Value =
        serde_json::from_str(&serde_json::to_string(&parsed).expect("writes")).expect("reads");
    assert_eq!(back, serde_json::from_str::<Value>(text).expect("reads"));
    assert_eq!(parsed.to_value(), back);
    assert_eq!(Data::from(back), parsed);
}

#[test]
fn the_last_of_repeated_keys_wins() {
    let parsed: Data = serde_json::from_str(r#"{"k":1,"j":0,"k":2,"k":3}"#).expect("parses");
    assert_eq!(parsed, data(json!({ "j": 0, "k": 3 })));
}

#[test]
fn merging_adds_new_keys_in_order_and_merges_shared_ones() {
    let Data::Object(mut into) = data(json!({ "b": 1, "d": { "x": 1 } })) else {
        unreachable!()
    };
    let Data::Object(from) = data(json!({ "a": 0, "d": { "y": 2 }, "e": 5 })) else {
        unreachable!()
    };
    into.merge_with(from, |existing, new| {
        if let (Data::Object(e), Data::Object(n)) = (existing, new) {
            e.merge_with(n, |_, _| {});
        }
    });
    assert_eq!(
        Data::Object(into),
        data(json!({ "a": 0, "b": 1, "d": { "x": 1, "y": 2 }, "e": 5 }))
    );
}

#[test]
fn large_objects_are_searched_and_merged_alike() {
    // Past the front-to-back scan, lookups go by binary search.
    let keys: Vec<String> = (0..40).map(|i| format!("k{}", (i * 7) % 40)).collect();
    let mut o = Object::new();
    for (n, k) in keys.iter().enumerate() {
        o.insert(k.as_str().into(), Data::Number(n.into()));
    }
    assert_eq!(o.len(), 40);
    let Data::Object(from) = data(json!({ "k3": "merged", "extra": true })) else {
        unreachable!()
    };
    o.merge_with(from, |existing, new| *existing = new);
    assert_eq!(o.len(), 41);
    for k in &keys {
        assert!(o.get(k).is_some(), "{k} is found");
    }
    assert_eq!(o.get("k3").and_then(Data::as_str), Some("merged"));
    assert_eq!(o.get("extra"), Some(&Data::Bool(true)));
    assert!(o.get("k40").is_none());
    let written: Vec<&str> = o.iter().map(|(k, _)| k).collect();
    assert!(written.is_sorted_by(|a, b| key_order(a, b).is_lt()));
}

#[test]
fn entries_can_be_read_changed_and_taken() {
    let mut o = Object::new();
    o.insert("b".into(), Data::Bool(true));
    o.insert("a".into(), Data::Null);
    o.insert("b".into(), Data::Bool(false));
    assert_eq!(o.len(), 2);
    assert_eq!(o.get("b"), Some(&Data::Bool(false)));
    if let Some(a) = o.get_mut("a") {
        *a = Data::String("x".into());
    }
    assert_eq!(o.remove("a").as_ref().and_then(Data::as_str), Some("x"));
    assert!(o.get("a").is_none());
}
