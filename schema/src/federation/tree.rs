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

/// An async-graphql answer (in-process subgraphs, introspection) without
/// a detour through JSON text.
impl From<async_graphql::Value> for Data {
    fn from(value: async_graphql::Value) -> Self {
        use async_graphql::Value as V;
        match value {
            V::Null => Data::Null,
            V::Boolean(b) => Data::Bool(b),
            V::Number(n) => Data::Number(n),
            V::String(s) => Data::String(s.into()),
            V::Enum(e) => Data::String(e.as_str().into()),
            V::Binary(bytes) => {
                Data::List(bytes.iter().map(|b| Data::Number((*b).into())).collect())
            }
            V::List(items) => Data::List(items.into_iter().map(Data::from).collect()),
            V::Object(map) => Data::Object(Object::from_entries(
                map.into_iter()
                    .map(|(k, v)| (k.as_str().into(), v.into()))
                    .collect(),
            )),
        }
    }
}

/// For tests, which write their data as `json!`.
#[cfg(test)]
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
mod tests;
