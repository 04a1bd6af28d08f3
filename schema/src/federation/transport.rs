//! How the executor reaches a subgraph: one trait, whether the subgraph
//! runs in this process or behind HTTP. The executor never learns which.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use super::response::GraphQLError;
use super::tree::Data;

/// One operation for one subgraph, as the plan wrote it.
#[derive(Debug)]
pub struct SubgraphRequest<'a> {
    /// The subgraph's name in the supergraph.
    pub subgraph: &'a str,
    /// The operation text (minified by the planner).
    pub query: &'a str,
    /// Only the variables the operation uses.
    pub variables: Map<String, Value>,
    /// Whether it is a mutation (never retried, never deduplicated).
    pub mutation: bool,
}

/// What a subgraph answered. `data` is `None` when it sent none (or
/// `null`).
#[derive(Clone, Debug, Default)]
pub struct SubgraphResponse {
    /// The subgraph's `data`.
    pub data: Option<Data>,
    /// The subgraph's `errors`.
    pub errors: Vec<GraphQLError>,
}

/// A response body as read: `data` straight into the executor's tree,
/// the rest left for the checks below.
#[derive(serde::Deserialize)]
struct Body {
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    errors: Option<Value>,
}

impl SubgraphResponse {
    /// Reads a GraphQL response body. Anything else (not JSON, neither
    /// `data` nor `errors`, the wrong shapes) is a malformed response.
    pub fn from_json(body: &[u8]) -> Result<Self, TransportError> {
        let object = body.trim_ascii_start().first() == Some(&b'{');
        let parsed = if object {
            serde_json::from_slice::<Body>(body).ok()
        } else {
            None
        };
        let Some(parsed) = parsed else {
            let json = serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
            return Err(TransportError::Malformed(match (json, object) {
                (false, _) => "the body is not JSON",
                (true, false) => "the body is not a JSON object",
                (true, true) => "the body is not a GraphQL response",
            }));
        };
        let data = match parsed.data {
            None | Some(Data::Null) => None,
            Some(d @ Data::Object(_)) => Some(d),
            Some(_) => return Err(TransportError::Malformed("`data` is not an object")),
        };
        let errors = match parsed.errors {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(errors)) => errors
                .into_iter()
                .map(GraphQLError::from_subgraph)
                .collect(),
            Some(_) => return Err(TransportError::Malformed("`errors` is not a list")),
        };
        if data.is_none() && errors.is_empty() {
            return Err(TransportError::Malformed("neither `data` nor `errors`"));
        }
        Ok(Self { data, errors })
    }
}

/// Why a subgraph could not be asked or did not answer. The message is
/// safe to show a client; the cause stays in the transport's logs.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TransportError {
    /// The subgraph answered with a non-2xx status.
    #[error("the subgraph answered HTTP {0}")]
    Http(u16),
    /// The subgraph did not answer in time.
    #[error("the subgraph did not answer in time")]
    Timeout,
    /// The subgraph could not be reached.
    #[error("the subgraph could not be reached")]
    Unreachable,
    /// The circuit breaker is open or the tenant's share of connections
    /// is in use; the subgraph was not called.
    #[error("the subgraph is unavailable")]
    Unavailable,
    /// The answer was not a GraphQL response.
    #[error("the subgraph's response was malformed: {0}")]
    Malformed(&'static str),
    /// The answer was larger than allowed.
    #[error("the subgraph's response was too large")]
    TooLarge,
    /// No transport serves this subgraph.
    #[error("the subgraph is not configured")]
    Unknown,
}

impl TransportError {
    /// The `extensions.code` clients see.
    pub fn code(&self) -> &'static str {
        match self {
            TransportError::Http(_) => "SUBREQUEST_HTTP_ERROR",
            TransportError::Timeout => "SUBREQUEST_TIMEOUT",
            TransportError::Unreachable | TransportError::Unknown => "SUBREQUEST_FAILED",
            TransportError::Unavailable => "SUBGRAPH_UNAVAILABLE",
            TransportError::Malformed(_) => "SUBREQUEST_MALFORMED_RESPONSE",
            TransportError::TooLarge => "SUBREQUEST_TOO_LARGE",
        }
    }

    /// The error a client sees for the fields this subgraph should have
    /// resolved.
    pub fn to_graphql(&self, subgraph: &str) -> GraphQLError {
        let mut error = GraphQLError::new(
            format!("Could not fetch from subgraph '{subgraph}': {self}"),
            self.code(),
        )
        .with_extension("serviceName", Value::String(subgraph.into()));
        if let TransportError::Http(status) = self {
            error = error.with_extension("http", serde_json::json!({ "status": status }));
        }
        error
    }
}

/// A boxed future, so the trait stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends subgraph operations. One value serves one client request, so it
/// can carry that request's identity (tenant, principal, request id) to
/// every subgraph it calls.
pub trait Transport: Send + Sync {
    /// Sends one operation and waits for the answer.
    fn send<'a>(
        &'a self,
        request: SubgraphRequest<'a>,
    ) -> BoxFuture<'a, Result<SubgraphResponse, TransportError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> Option<&'static str> {
        match SubgraphResponse::from_json(body.as_bytes()) {
            Err(TransportError::Malformed(why)) => Some(why),
            Err(other) => panic!("{body}: not a malformed-response error: {other}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn each_kind_of_bad_body_is_named() {
        assert_eq!(refusal("<html>"), Some("the body is not JSON"));
        assert_eq!(refusal("{\"data\": "), Some("the body is not JSON"));
        assert_eq!(refusal("[1]"), Some("the body is not a JSON object"));
        assert_eq!(refusal("  \"data\""), Some("the body is not a JSON object"));
        assert_eq!(
            refusal(r#"{"data":{},"data":{}}"#),
            Some("the body is not a GraphQL response")
        );
        assert_eq!(refusal(r#"{"data":5}"#), Some("`data` is not an object"));
        assert_eq!(refusal(r#"{"errors":{}}"#), Some("`errors` is not a list"));
        assert_eq!(
            refusal(r#"{"extensions":{}}"#),
            Some("neither `data` nor `errors`")
        );
        assert_eq!(
            refusal(r#"{"data":null,"errors":[]}"#),
            Some("neither `data` nor `errors`")
        );
    }

    #[test]
    fn data_and_errors_are_read() {
        let response = SubgraphResponse::from_json(
            br#" {"data":{"b":1,"a":{"x":[true]}},"errors":[{"message":"partly"}],"extensions":{}}"#,
        )
        .expect("a GraphQL response");
        let data = response.data.expect("data");
        let object = data.as_object().expect("an object");
        assert_eq!(object.get("b"), Some(&Data::Number(1.into())));
        assert!(object.get("a").and_then(Data::as_object).is_some());
        assert_eq!(response.errors.len(), 1);
        assert_eq!(response.errors[0].message, "partly");
        // Only errors: data stays absent.
        let only_errors =
            SubgraphResponse::from_json(br#"{"data":null,"errors":[{"message":"no"}]}"#)
                .expect("a GraphQL response");
        assert!(only_errors.data.is_none());
    }
}
