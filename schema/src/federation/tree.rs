//! The response data the executor builds from subgraph answers.
//!
//! A JSON tree of its own rather than `serde_json::Value`, whose objects
//! are insertion-ordered maps hashed with SipHash (the workspace gets
//! `preserve_order` from the composition crate): every object of every
//! answer would pay for a hash table, and every lookup and merge for a
//! keyed hash. Here an object is one vector of entries sorted by key:
//! a lookup compares a handful of short keys, mostly by length, a merge
//! appends and re-sorts two sorted runs, and parsing allocates once per
//! object. Key order carries no meaning in the data (the client's
//! response is written in the client's selection order), so the sorted
//! order also gives two equal representations the same text.

use std::cmp::Ordering;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// A JSON value in the executor's response data.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Data {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json` reads it.
    Number(Number),
    /// A string.
    String(Box<str>),
    /// A list.
    List(Vec<Data>),
    /// An object.
    Object(Object),
}

/// A JSON object: entries sorted by key (see [`key_order`]), each key
/// once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Object(Vec<(Box<str>, Data)>);

/// The order of keys in an object: shorter first, then by bytes. Any
/// total order would do; comparing lengths first settles most steps of a
/// lookup without reading the keys.
fn key_order(a: &str, b: &str) -> Ordering {
    match a.len().cmp(&b.len()) {
        Ordering::Equal => {}
        unequal => return unequal,
    }
    // Keys are short: a byte loop costs less than a call to `memcmp`.
    for (x, y) in a.bytes().zip(b.bytes()) {
        if x != y {
            return x.cmp(&y);
        }
    }
    Ordering::Equal
}

/// Up to this many entries an object is searched front to back: shorter
/// keys are passed over on their length alone, and the scan stops at the
/// first longer one.
const SCAN: usize = 16;

impl Data {
    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Data::Null)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Data::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Data::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Data::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The same value as a `serde_json::Value` (for what is sent on).
    pub fn to_value(&self) -> Value {
        match self {
            Data::Null => Value::Null,
            Data::Bool(b) => Value::Bool(*b),
            Data::Number(n) => Value::Number(n.clone()),
            Data::String(s) => Value::String(s.as_ref().into()),
            Data::List(items) => Value::Array(items.iter().map(Data::to_value).collect()),
            Data::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl From<Value> for Data {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Data::Null,
            Value::Bool(b) => Data::Bool(b),
            Value::Number(n) => Data::Number(n),
            Value::String(s) => Data::String(s.into()),
            Value::Array(items) => Data::List(items.into_iter().map(Data::from).collect()),
            Value::Object(map) => Data::Object(Object::from_entries(
                map.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            )),
        }
    }
}

impl Object {
    /// An object with no entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// An object from entries in any order; of repeated keys the last
    /// one wins, as in `serde_json`.
    pub fn from_entries(mut entries: Vec<(Box<str>, Data)>) -> Self {
        if !entries.is_sorted_by(|a, b| key_order(&a.0, &b.0).is_lt()) {
            // Stable, so repeated keys stay in document order.
            entries.sort_by(|a, b| key_order(&a.0, &b.0));
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        Self(entries)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        find_in(&self.0, key)
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Data> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// The value under `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Data> {
        self.find(key).ok().map(|i| &mut self.0[i].1)
    }

    /// Sets `key`, replacing what it held.
    pub fn insert(&mut self, key: Box<str>, value: Data) {
        match self.find(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// Takes `key` out.
    pub fn remove(&mut self, key: &str) -> Option<Data> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Data)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Merges `from` in: values under keys both have go through `merge`,
    /// new keys are added. A binary search per key of `from` and one sort
    /// of two sorted runs, whatever sizes a subgraph sends.
    pub fn merge_with(&mut self, from: Object, mut merge: impl FnMut(&mut Data, Data)) {
        if self.0.is_empty() {
            *self = from;
            return;
        }
        let existing = self.0.len();
        for (key, value) in from.0 {
            match find_in(&self.0[..existing], &key) {
                Ok(i) => merge(&mut self.0[i].1, value),
                Err(_) => self.0.push((key, value)),
            }
        }
        if self.0.len() > existing {
            self.0.sort_by(|a, b| key_order(&a.0, &b.0));
        }
    }
}

/// Where `key` is among sorted entries, or where it would go.
fn find_in(entries: &[(Box<str>, Data)], key: &str) -> Result<usize, usize> {
    if entries.len() > SCAN {
        return entries.binary_search_by(|(k, _)| key_order(k, key));
    }
    for (i, (k, _)) in entries.iter().enumerate() {
        match key_order(k, key) {
            Ordering::Less => {}
            Ordering::Equal => return Ok(i),
            Ordering::Greater => return Err(i),
        }
    }
    Err(entries.len())
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Data, E> {
        Ok(Data::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Data, E> {
        Ok(Number::from_f64(v).map_or(Data::Null, Data::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Data, E> {
        Ok(Data::String(v.into()))
    }

    fn visit_string<E>(self, v: String) -> Result<Data, E> {
        Ok(Data::String(v.into()))
    }

    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        Data::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        // The size hint comes from the input: trust it only so far.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Data::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
        while let Some((key, value)) = map.next_entry::<Box<str>, Data>()? {
            entries.push((key, value));
        }
        Ok(Data::Object(Object::from_entries(entries)))
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => s.serialize_unit(),
            Data::Bool(b) => s.serialize_bool(*b),
            Data::Number(n) => n.serialize(s),
            Data::String(v) => s.serialize_str(v),
            Data::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Data::Object(o) => o.serialize(s),
        }
    }
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
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
}
