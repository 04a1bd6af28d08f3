//! The HTTP transport to remote subgraphs: JSON POST (GraphQL over HTTP),
//! a keep-alive pool per subgraph, a deadline per call and a cap on the
//! answer's size. Whatever goes wrong becomes a [`TransportError`] whose
//! message is safe for clients; the cause is logged here.

use std::time::Duration;

use axum::body::Bytes;
use prep_schema::federation::{SubgraphRequest, SubgraphResponse, TransportError};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::{Map, Value};

/// How one remote subgraph is called.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Deadline for one call, connection included.
    pub timeout: Duration,
    /// Largest answer accepted, in bytes.
    pub max_response_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: 8 * 1024 * 1024,
        }
    }
}

/// One remote subgraph's endpoint and connection pool.
#[derive(Debug)]
pub struct HttpSubgraph {
    name: String,
    url: reqwest::Url,
    client: reqwest::Client,
    options: HttpOptions,
}

impl HttpSubgraph {
    /// A subgraph at `url`. Fails only if the TLS backend cannot start.
    pub fn new(
        name: &str,
        url: reqwest::Url,
        options: HttpOptions,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            name: name.to_owned(),
            url,
            client,
            options,
        })
    }

    /// The subgraph's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends one operation. `headers` are added to the request (the
    /// gateway's signed identity, forwarded client headers).
    pub async fn send(
        &self,
        request: &SubgraphRequest<'_>,
        headers: HeaderMap,
    ) -> Result<SubgraphResponse, TransportError> {
        self.post(request_body(request.query, &request.variables), headers)
            .await
    }

    /// Sends a request body already written (by [`request_body`]) and
    /// reads the answer.
    pub async fn post(
        &self,
        body: impl Into<reqwest::Body>,
        headers: HeaderMap,
    ) -> Result<SubgraphResponse, TransportError> {
        let answer = self.fetch(body, headers).await?;
        self.read(&answer)
    }

    /// Posts a request body and takes the answer in, unread: within the
    /// deadline and the size cap.
    async fn fetch(
        &self,
        body: impl Into<reqwest::Body>,
        headers: HeaderMap,
    ) -> Result<RawAnswer, TransportError> {
        let call = self
            .client
            .post(self.url.clone())
            .headers(headers)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(
                ACCEPT,
                HeaderValue::from_static("application/graphql-response+json, application/json"),
            )
            .body(body)
            .send();
        let deadline = tokio::time::Instant::now() + self.options.timeout;
        let mut response = match tokio::time::timeout_at(deadline, call).await {
            Err(_) => {
                return Err(self.failed(TransportError::Timeout, "no answer before the deadline"))
            }
            Ok(Err(e)) if e.is_timeout() => {
                return Err(self.failed(TransportError::Timeout, &e.to_string()))
            }
            Ok(Err(e)) => return Err(self.failed(TransportError::Unreachable, &e.to_string())),
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let graphql_response = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/graphql-response+json"));
        if let Some(len) = response.content_length() {
            if len > self.options.max_response_bytes as u64 {
                return Err(self.failed(TransportError::TooLarge, "declared length over the limit"));
            }
        }
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) => {
                    return Err(self.failed(
                        TransportError::Timeout,
                        "body not complete before the deadline",
                    ))
                }
                Ok(Err(e)) => return Err(self.failed(TransportError::Unreachable, &e.to_string())),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    if body.len() + chunk.len() > self.options.max_response_bytes {
                        return Err(self.failed(TransportError::TooLarge, "body over the limit"));
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        Ok(RawAnswer {
            status: status.as_u16(),
            graphql_response,
            body: body.into(),
        })
    }

    /// Reads an answer [`Self::fetch`] took in.
    fn read(&self, answer: &RawAnswer) -> Result<SubgraphResponse, TransportError> {
        if !(200..300).contains(&answer.status) {
            // A GraphQL-over-HTTP server may answer 4xx/5xx with a proper
            // GraphQL response; keep its errors when it does.
            if answer.graphql_response {
                if let Ok(parsed) = SubgraphResponse::from_json(&answer.body) {
                    return Ok(parsed);
                }
            }
            let status = answer.status.to_string();
            return Err(self.failed(TransportError::Http(answer.status), &status));
        }
        SubgraphResponse::from_json(&answer.body).map_err(|e| self.failed(e, "unreadable body"))
    }

    fn failed(&self, error: TransportError, cause: &str) -> TransportError {
        tracing::warn!(subgraph = %self.name, code = error.code(), cause, "subgraph call failed");
        error
    }
}

/// A subgraph's answer as it arrived, before it is read.
struct RawAnswer {
    status: u16,
    /// Whether it came as `application/graphql-response+json`.
    graphql_response: bool,
    body: Bytes,
}

/// `{"query":…,"variables":…}` without building an intermediate value.
pub fn request_body(query: &str, variables: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(query.len() + 64);
    out.extend_from_slice(b"{\"query\":");
    // Writing strings and maps into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, query);
    if !variables.is_empty() {
        out.extend_from_slice(b",\"variables\":");
        let _ = serde_json::to_writer(&mut out, variables);
    }
    out.push(b'}');
    out
}
