//! GraphQL errors as they travel between subgraphs, the executor and the
//! client.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One step of a response path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A response key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// A GraphQL error. Subgraph errors keep their message and extensions;
/// their `locations` point into the subgraph's operation, not the client's,
/// so they are dropped.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GraphQLError {
    /// What went wrong, for the client.
    pub message: String,
    /// Where in the client's document (only for errors found in it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<Location>>,
    /// Where in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    /// Machine-readable details, `code` first among them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<Map<String, Value>>,
}

/// A line and column in the client's document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl GraphQLError {
    /// An error with a machine-readable code.
    pub fn new(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = Map::new();
        extensions.insert("code".into(), Value::String(code.into()));
        Self {
            message: message.into(),
            extensions: Some(extensions),
            ..Self::default()
        }
    }

    /// The same error at `path`.
    pub fn at(mut self, path: Vec<PathSegment>) -> Self {
        self.path = Some(path);
        self
    }

    /// Sets one extension.
    pub fn with_extension(mut self, key: &str, value: Value) -> Self {
        self.extensions
            .get_or_insert_with(Map::new)
            .insert(key.into(), value);
        self
    }

    /// The error's `extensions.code`, if any.
    pub fn code(&self) -> Option<&str> {
        self.extensions.as_ref()?.get("code")?.as_str()
    }

    /// Reads an error a subgraph returned. Anything that is not an object
    /// with a string message becomes a generic error, so a misbehaving
    /// subgraph cannot make the gateway fail.
    pub(crate) fn from_subgraph(value: Value) -> Self {
        let Value::Object(mut map) = value else {
            return Self::new(
                "The subgraph returned a malformed error",
                "SUBREQUEST_MALFORMED_RESPONSE",
            );
        };
        let message = match map.remove("message") {
            Some(Value::String(m)) => m,
            _ => "The subgraph returned an error without a message".into(),
        };
        let path = map
            .remove("path")
            .and_then(|p| serde_json::from_value(p).ok());
        let extensions = match map.remove("extensions") {
            Some(Value::Object(e)) => Some(e),
            _ => None,
        };
        Self {
            message,
            locations: None,
            path,
            extensions,
        }
    }
}

/// What an operation produced: the response's `data` as JSON text (`null`
/// when nothing could be returned) and its errors.
#[derive(Debug)]
pub struct Executed {
    /// `data`, serialised in the order the client selected its fields.
    pub data: String,
    /// Errors, in the order they happened.
    pub errors: Vec<GraphQLError>,
}

impl Executed {
    /// An operation that failed before it ran: `data` is `null`.
    pub fn failed(errors: Vec<GraphQLError>) -> Self {
        Self {
            data: "null".into(),
            errors,
        }
    }

    /// The whole response body, `{"data":…,"errors":[…]}`.
    pub fn to_body(&self) -> String {
        let mut out = String::with_capacity(self.data.len() + 16);
        out.push_str("{\"data\":");
        out.push_str(&self.data);
        if !self.errors.is_empty() {
            out.push_str(",\"errors\":");
            // Serialising plain strings, numbers and maps cannot fail.
            out.push_str(&serde_json::to_string(&self.errors).unwrap_or_else(|_| "[]".into()));
        }
        out.push('}');
        out
    }
}
