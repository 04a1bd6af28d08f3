//! The supergraph the gateway serves: composed from its own domains and the
//! configured remote subgraphs at start-up, recomposed when a subgraph's SDL
//! changes (polling) or on SIGHUP, swapped in atomically. A recomposition
//! that fails keeps the last good supergraph serving and logs every
//! problem; until a first composition succeeds the gateway serves its own
//! domains alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use prep_auth::{SubgraphClaims, TokenService};
use prep_schema::cost::CostModel;
use prep_schema::federation::compose::{compose, SubgraphSource};
use prep_schema::federation::{Data, GraphQLError, Prepared, SubgraphRequest, Supergraph};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use serde_json::Map;

use super::remote::Remote;
use prep_resolvers::domains::{is_own, ALL_DOMAINS, DOMAINS};

use super::settings::FederationSettings;
use super::FederationError;

/// A composed supergraph and what the edge derives from it.
pub struct Active {
    /// Planner, plans and public schema.
    pub supergraph: Arc<Supergraph>,
    /// Query cost over the whole federated API.
    pub cost_model: CostModel,
}

/// Where one operation goes.
pub enum Route {
    /// Only the gateway's own domains, all in process: executed directly
    /// on the one schema that resolves them all, as without federation.
    Local,
    /// Across subgraphs, by this plan.
    Federated(Arc<Active>, Arc<Prepared>),
    /// Planning failed; the client gets these errors.
    Refused(Vec<GraphQLError>),
}

/// Federation state shared by every request.
pub struct Federation {
    settings: FederationSettings,
    issuer: String,
    /// The domains called in process, planned as one subgraph named
    /// `platform` (`inproc://platform`, never dialled): every domain no
    /// remote of the same name replaces. `None` when all run elsewhere.
    local: Option<SubgraphSource>,
    remotes: HashMap<String, Arc<Remote>>,
    active: RwLock<Option<Arc<Active>>>,
    /// The sources the active supergraph was composed from.
    composed_from: Mutex<Vec<SubgraphSource>>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
}

impl Federation {
    /// Prepares federation from settings; `None` when no remote subgraph
    /// is configured.
    pub fn new(
        settings: &FederationSettings,
        issuer: &str,
    ) -> Result<Option<Arc<Self>>, FederationError> {
        if settings.subgraphs.is_empty() {
            return Ok(None);
        }
        let mut remotes = HashMap::new();
        for s in &settings.subgraphs {
            remotes.insert(
                s.name.clone(),
                Arc::new(Remote::new(s).map_err(FederationError::Config)?),
            );
        }
        // One schema answers every in-process domain in one call, so they
        // are planned as one subgraph: a plan step between two of them
        // would only cost (ADR 0013).
        let in_process: Vec<&str> = match remotes.contains_key(ALL_DOMAINS) {
            true => Vec::new(),
            false => DOMAINS
                .iter()
                .copied()
                .filter(|d| !remotes.contains_key(*d))
                .collect(),
        };
        let local = match in_process.is_empty() {
            true => None,
            false => Some(SubgraphSource {
                name: ALL_DOMAINS.into(),
                url: format!("inproc://{ALL_DOMAINS}"),
                sdl: prep_schema::domains::merged(&in_process).map_err(FederationError::Config)?,
            }),
        };
        Ok(Some(Arc::new(Self {
            settings: settings.clone(),
            issuer: issuer.to_owned(),
            local,
            remotes,
            active: RwLock::new(None),
            composed_from: Mutex::new(Vec::new()),
            reloading: tokio::sync::Mutex::new(()),
        })))
    }

    /// The supergraph being served, if one composed.
    pub fn active(&self) -> Option<Arc<Active>> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A remote subgraph by name.
    pub fn remote(&self, name: &str) -> Option<&Arc<Remote>> {
        self.remotes.get(name)
    }

    /// Whether `subgraph` is the gateway's in-process domains; `false`
    /// for remotes, among them a domain that runs as a service of its
    /// own.
    pub fn in_process(&self, subgraph: &str) -> bool {
        self.local.as_ref().is_some_and(|s| s.name == subgraph)
    }

    /// The gateway's issuer (`iss` of subgraph tokens).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Reads every subgraph's SDL and, if any changed, recomposes and swaps
    /// the supergraph in. Returns whether it changed. On error the served
    /// supergraph stays as it was.
    pub async fn reload(&self, tokens: &TokenService) -> Result<bool, FederationError> {
        let _one = self.reloading.lock().await;
        let mut sources: Vec<SubgraphSource> = self.local.iter().cloned().collect();
        let mut problems = Vec::new();
        for s in &self.settings.subgraphs {
            match self.read_sdl(s.name.as_str(), tokens).await {
                Ok(sdl) => sources.push(SubgraphSource {
                    name: s.name.clone(),
                    url: s.url.clone(),
                    sdl,
                }),
                Err(e) => problems.push(format!("subgraph {}: {e}", s.name)),
            }
        }
        if !problems.is_empty() {
            return Err(FederationError::Composition(problems));
        }
        let unchanged = {
            let previous = self.composed_from.lock().unwrap_or_else(|e| e.into_inner());
            self.active().is_some()
                && previous.len() == sources.len()
                && previous
                    .iter()
                    .zip(&sources)
                    .all(|(a, b)| a.sdl == b.sdl && a.url == b.url)
        };
        if unchanged {
            return Ok(false);
        }
        let composed = tokio::task::spawn_blocking({
            let sources = sources.clone();
            move || -> Result<Active, FederationError> {
                let sdl =
                    compose(&sources).map_err(|e| FederationError::Composition(e.problems))?;
                let supergraph = Supergraph::new(&sdl)?;
                let cost_model = CostModel::from_sdl(supergraph.api_sdl()).map_err(|e| {
                    FederationError::Composition(vec![format!(
                        "the composed API cannot be costed: {e}"
                    )])
                })?;
                Ok(Active {
                    supergraph: Arc::new(supergraph),
                    cost_model,
                })
            }
        })
        .await
        .map_err(|e| {
            let why = if e.is_cancelled() {
                "composition was cancelled (the gateway is stopping)"
            } else {
                "composition panicked"
            };
            FederationError::Composition(vec![why.into()])
        })??;
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(composed));
        *self.composed_from.lock().unwrap_or_else(|e| e.into_inner()) = sources;
        tracing::info!(
            in_process = self.local.is_some(),
            remote = self.remotes.len(),
            "supergraph composed and serving"
        );
        Ok(true)
    }

    async fn read_sdl(&self, name: &str, tokens: &TokenService) -> Result<String, String> {
        let remote = self.remotes.get(name).ok_or("not configured")?;
        if let Some(file) = &remote.settings().sdl_file {
            return tokio::fs::read_to_string(file)
                .await
                .map_err(|e| format!("cannot read {}: {e}", file.display()));
        }
        let token = tokens
            .issue_subgraph(&SubgraphClaims::for_gateway(&self.issuer, name))
            .map_err(|e| format!("cannot sign the gateway's token: {e}"))?;
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
            headers.insert(AUTHORIZATION, v);
        }
        let request = SubgraphRequest {
            subgraph: name,
            query: "{ _service { sdl } }",
            variables: Map::new(),
            mutation: false,
        };
        let response = remote
            .call(None, &request, headers)
            .await
            .map_err(|e| format!("asking for its SDL: {e}"))?;
        response
            .data
            .as_ref()
            .and_then(Data::as_object)
            .and_then(|d| d.get("_service"))
            .and_then(Data::as_object)
            .and_then(|s| s.get("sdl"))
            .and_then(Data::as_str)
            .map(str::to_owned)
            .ok_or_else(|| match response.errors.first() {
                Some(e) => format!("asking for its SDL: {}", e.message),
                None => "its `_service { sdl }` answer has no SDL".into(),
            })
    }

    /// Decides where an operation goes, planning it (off the runtime) when
    /// its plan is not cached.
    pub async fn route(&self, query: &str, operation_name: Option<&str>) -> Route {
        let Some(active) = self.active() else {
            return Route::Local;
        };
        let prepared = match active.supergraph.cached(query, operation_name) {
            Some(p) => Ok(p),
            None => {
                let supergraph = Arc::clone(&active.supergraph);
                let (query, name) = (query.to_owned(), operation_name.map(str::to_owned));
                tokio::task::spawn_blocking(move || supergraph.prepare(&query, name.as_deref()))
                    .await
                    .unwrap_or_else(|_| Err(Vec::new()))
            }
        };
        match prepared {
            // Introspection shows the whole federated API, which only the
            // supergraph knows.
            Ok(p) if !p.introspects() && p.subgraphs().iter().all(|s| self.in_process(s)) => {
                Route::Local
            }
            Ok(p) => Route::Federated(active, p),
            // Invalid operations are answered by the local schema, with the
            // same errors as without federation.
            Err(errors)
                if errors
                    .iter()
                    .all(|e| e.code() != Some("QUERY_PLANNING_FAILED")) =>
            {
                Route::Local
            }
            Err(errors) => Route::Refused(errors),
        }
    }
}

impl Federation {
    /// The first remote subgraph the route needs that is not open to
    /// connectors (see `RemoteSubgraphSettings::connectors`), if any.
    pub fn closed_to_connectors<'r>(&self, route: &'r Route) -> Option<&'r str> {
        let Route::Federated(_, prepared) = route else {
            return None;
        };
        // The domains check the token's scopes themselves, wherever they
        // run.
        prepared
            .subgraphs()
            .iter()
            .find(|name| {
                !is_own(name)
                    && self
                        .remotes
                        .get(name.as_str())
                        .is_some_and(|r| !r.settings().connectors)
            })
            .map(String::as_str)
    }
}

/// Keeps the supergraph current for as long as the app lives: composes
/// at once, then recomposes every `federation.reload_secs` when an SDL
/// changed, and at once on SIGHUP. Until a first composition succeeds it
/// retries sooner (1 s, doubling up to the reload interval) while the
/// gateway serves its own domains. The first composition runs here, after
/// the gateway starts serving, not before: a subgraph that verifies the
/// gateway's token fetches the gateway's JWKS, which a single replica only
/// serves once it listens.
pub async fn keep_current(app: std::sync::Weak<crate::app::App>, every: u64) {
    #[cfg(unix)]
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut retry = Duration::from_secs(1);
    loop {
        let Some(strong) = app.upgrade() else { return };
        let Some(federation) = strong.federation.clone() else {
            return;
        };
        if let Err(e) = federation.reload(&strong.tokens).await {
            if federation.active().is_some() {
                tracing::error!(error = %e, "supergraph reload failed; the last good supergraph keeps serving");
            } else {
                tracing::error!(error = %e, "the supergraph could not be composed; serving the gateway's own domains until it can");
            }
        }
        let composed = federation.active().is_some();
        drop((strong, federation));

        let wait = if composed {
            (every > 0).then(|| Duration::from_secs(every))
        } else {
            let wait = retry;
            retry = (retry * 2).min(Duration::from_secs(every.max(1)));
            Some(wait)
        };
        let tick = async {
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(unix)]
        let hangup = async {
            match hup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hangup = std::future::pending::<()>();
        tokio::select! {
            _ = tick => {}
            _ = hangup => tracing::info!("SIGHUP: reloading the supergraph"),
        }
    }
}
