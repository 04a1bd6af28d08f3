//! A real OpenID provider for the tests: `node tests/oidc/provider.mjs`
//! (panva's `oidc-provider`, installed by `scripts/test-deps`) on a free
//! loopback port, and a headless "browser" that signs in and out at it with
//! plain HTTP, keeping the IdP's cookies by hand.
//!
//! The provider serves discovery at `/.well-known/openid-configuration`,
//! authorization at `/auth`, the token endpoint at `/token`, its keys at
//! `/jwks`, userinfo at `/me` and RP-initiated logout at `/session/end`.
//! Every start signs with a new RS256 key under a random `kid`, so
//! [`IdentityProvider::restart`] is a key rotation.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use url::Url;
use uuid::Uuid;

/// How long the provider may take to print `ready` (per attempt; a start
/// is tried three times).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests the headless browser makes before it gives up on a flow.
const MAX_STEPS: usize = 20;
/// The password typed at the IdP's login form (any password is accepted).
const PASSWORD: &str = "correct horse battery staple";

/// A user known to the test IdP.
#[derive(Clone, Debug)]
pub struct TestUser {
    /// The login typed at the IdP, also the `sub` of its tokens.
    pub login: String,
    /// The `email` claim (`email_verified` is always true).
    pub email: String,
    /// The `name` claim.
    pub name: String,
    /// The `groups` claim.
    pub groups: Vec<String>,
}

/// A running `oidc-provider` process with one registered client, killed
/// (and its temporary config removed) when dropped.
pub struct IdentityProvider {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    config_path: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl IdentityProvider {
    /// Starts `node tests/oidc/provider.mjs` on a free 127.0.0.1 port with one client.
    pub async fn start(
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        post_logout_redirect_uri: &str,
        users: &[TestUser],
    ) -> Self {
        let dir = std::env::temp_dir().join(format!("prep-idp-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the IdP's temp dir");
        let config_path = dir.join("config.json");
        let users: Map<String, Value> = users
            .iter()
            .map(|user| {
                (
                    user.login.clone(),
                    json!({
                        "email": user.email,
                        "email_verified": true,
                        "name": user.name,
                        "groups": user.groups,
                    }),
                )
            })
            .collect();
        let mut idp = Self {
            child: None,
            port: 0,
            dir,
            config_path,
            stderr: Arc::default(),
        };
        // A port found free may be taken before node binds it: try another.
        for attempt in 1..=3 {
            idp.port = free_port();
            let issuer = idp.issuer();
            let config = json!({
                "port": idp.port,
                "issuer": issuer,
                "clients": [{
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "redirect_uris": [redirect_uri],
                    "post_logout_redirect_uris": [post_logout_redirect_uri],
                }],
                "users": users,
            });
            std::fs::write(&idp.config_path, config.to_string()).expect("write the IdP config");
            match idp.spawn().await {
                Ok(()) => return idp,
                // A provider that never printed `ready` (seen rarely on CI,
                // with nothing on stderr) is killed and started afresh.
                Err(stderr)
                    if attempt < 3
                        && (stderr.contains("EADDRINUSE") || stderr.contains("no `ready`")) => {}
                Err(stderr) => panic!("the test IdP did not start:\n{stderr}"),
            }
        }
        unreachable!("the loop returns or panics")
    }

    /// The issuer identifier, `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Restarts the provider on the same port, issuer and config with a new
    /// signing key (and no sessions, codes or grants); waits for `ready`.
    pub async fn restart(&mut self) {
        self.stop().await;
        for attempt in 1..=10 {
            match self.spawn().await {
                Ok(()) => return,
                Err(stderr) if attempt < 10 && stderr.contains("EADDRINUSE") => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(stderr) => panic!("the test IdP did not restart:\n{stderr}"),
            }
        }
    }

    /// Kills the provider; later requests to the issuer fail to connect.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// What the provider wrote to stderr since it last started.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Spawns node and waits for `ready`; on failure returns its stderr.
    async fn spawn(&mut self) -> Result<(), String> {
        let script = provider_script();
        let mut child = Command::new("node")
            .arg(&script)
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("run `node {}` (is node on PATH?): {e}", script.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        self.stderr = Arc::default();
        let stderr_task = collect(stderr, Arc::clone(&self.stderr));

        let mut lines = BufReader::new(stdout).lines();
        let outcome = tokio::time::timeout(READY_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim() == "ready" {
                    return true;
                }
            }
            false
        })
        .await;

        if matches!(outcome, Ok(true)) {
            // Keep draining stdout so the provider never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            self.child = Some(child);
            return Ok(());
        }
        let _ = child.kill().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), stderr_task).await;
        let stderr = self.stderr();
        let hint = if script
            .parent()
            .is_some_and(|dir| !dir.join("node_modules").exists())
        {
            "\n(tests/oidc/node_modules is missing: run scripts/test-deps)"
        } else {
            ""
        };
        let why = if outcome.is_err() {
            format!("no `ready` within {READY_TIMEOUT:?}")
        } else {
            "exited before `ready`".to_owned()
        };
        Err(format!(
            "`node {} {}`: {why}; stderr:\n{stderr}{hint}",
            script.display(),
            self.config_path.display()
        ))
    }
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn provider_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("oidc")
        .join("provider.mjs")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a free loopback port")
        .port()
}

/// Appends everything `reader` yields to `into`, line by line (a child
/// process's stderr, kept for failure messages).
pub(crate) fn collect(
    reader: impl AsyncRead + Unpin + Send + 'static,
    into: Arc<Mutex<String>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut buffer) = into.lock() {
                buffer.push_str(&line);
                buffer.push('\n');
            }
        }
    })
}

/// Plays the browser at the IdP: GETs `authorize_url`, signs in as `login`
/// through the interaction pages (login, then consent), keeping the IdP's
/// cookies by hand and following redirects manually, and returns the final
/// redirect URL that points at the relying party's redirect_uri (with `code`,
/// `state` and `iss`, or an `error`). Does not request the redirect_uri.
pub async fn sign_in(authorize_url: &str, login: &str) -> String {
    let start = Url::parse(authorize_url).expect("authorize_url is a URL");
    let target = query_param(&start, "redirect_uri");
    Browser::new(start)
        .run(target.as_deref(), Some(login))
        .await
        .unwrap_or_else(|page| panic!("sign-in as {login} ended at the IdP: {page}"))
}

/// Follows an RP-initiated logout URL at the IdP (end_session), confirming
/// the logout form if one is shown, and returns the final redirect URL (the
/// post_logout_redirect_uri, possibly with `state`) without requesting it.
/// Without a post_logout_redirect_uri, returns the IdP's own "signed out"
/// page URL.
pub async fn confirm_logout(end_session_url: &str) -> String {
    let start = Url::parse(end_session_url).expect("end_session_url is a URL");
    let target = query_param(&start, "post_logout_redirect_uri");
    match Browser::new(start).run(target.as_deref(), None).await {
        Ok(url) => url,
        Err(page) if target.is_none() && page.status.is_success() => page.url.to_string(),
        Err(page) => panic!("logout ended at the IdP: {page}"),
    }
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A page the browser stopped at, for panic messages.
struct Page {
    url: Url,
    status: StatusCode,
    body: String,
}

impl std::fmt::Display for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}\n{}", self.status, self.url, self.body)
    }
}

/// A cookie as a browser keeps it (host-only, so name and path identify it).
struct Cookie {
    name: String,
    value: String,
    path: String,
}

/// A headless browser confined to one origin, the IdP's.
struct Browser {
    http: reqwest::Client,
    origin: url::Origin,
    start: Url,
    cookies: Vec<Cookie>,
}

impl Browser {
    fn new(start: Url) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .expect("build an HTTP client");
        Self {
            http,
            origin: start.origin(),
            start,
            cookies: Vec::new(),
        }
    }

    /// Walks redirects and forms from `start` until a redirect leaves the
    /// IdP or reaches `target`, whose URL it returns. Fills a login form
    /// with `login` (once). A page with nothing to submit is an `Err`.
    async fn run(mut self, target: Option<&str>, login: Option<&str>) -> Result<String, Page> {
        let target = target.map(|t| Url::parse(t).expect("the target is a URL"));
        let mut url = self.start.clone();
        let mut method = Method::GET;
        let mut form: Vec<(String, String)> = Vec::new();
        let mut logged_in = false;
        for _ in 0..MAX_STEPS {
            let (status, headers, body) = self.request(method.clone(), &url, &form).await;
            if status.is_redirection() {
                let location = headers
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_else(|| panic!("{status} without Location from {url}"));
                let next = url
                    .join(location)
                    .unwrap_or_else(|e| panic!("bad Location {location:?} from {url}: {e}"));
                let arrived = target
                    .as_ref()
                    .is_some_and(|t| t.origin() == next.origin() && t.path() == next.path());
                if arrived || next.origin() != self.origin {
                    return Ok(next.to_string());
                }
                url = next;
                method = Method::GET;
                form.clear();
                continue;
            }
            let page = Page {
                url: url.clone(),
                status,
                body,
            };
            if !status.is_success() {
                return Err(page);
            }
            let Some(html_form) = Form::first_post(&page.body) else {
                return Err(page);
            };
            let mut fields = html_form.fields;
            if fields.iter().any(|(name, _)| name == "login") {
                let Some(login) = login else {
                    return Err(page);
                };
                if logged_in {
                    panic!("the IdP refused the login {login:?}: {page}");
                }
                logged_in = true;
                for (name, value) in &mut fields {
                    match name.as_str() {
                        "login" => login.clone_into(value),
                        "password" => PASSWORD.clone_into(value),
                        _ => {}
                    }
                }
            }
            url = if html_form.action.is_empty() {
                url
            } else {
                url.join(&html_form.action)
                    .unwrap_or_else(|e| panic!("bad form action {:?}: {e}", html_form.action))
            };
            method = Method::POST;
            form = fields;
        }
        panic!(
            "no way out of the IdP after {MAX_STEPS} requests from {}",
            self.start
        )
    }

    async fn request(
        &mut self,
        method: Method,
        url: &Url,
        form: &[(String, String)],
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(cookie) = self.cookie_header(url) {
            request = request.header(COOKIE, cookie);
        }
        if method == Method::POST {
            request = request.form(form);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status();
        let headers = response.headers().clone();
        self.store_cookies(url, &headers);
        let body = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("read {method} {url}: {e}"));
        (status, headers, body)
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        if url.origin() != self.origin {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| path_matches(url.path(), &c.path))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn store_cookies(&mut self, url: &Url, headers: &HeaderMap) {
        for header in headers.get_all(SET_COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            let mut parts = header.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            let mut path = None;
            let mut expired = value.is_empty();
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                let (key, val) = (key.trim().to_ascii_lowercase(), val.trim());
                match key.as_str() {
                    "path" if val.starts_with('/') => path = Some(val.to_owned()),
                    "max-age" => expired |= val.parse::<i64>().is_ok_and(|age| age <= 0),
                    "expires" => expired |= val.contains("1970"),
                    _ => {}
                }
            }
            let path = path.unwrap_or_else(|| default_path(url.path()));
            self.cookies.retain(|c| !(c.name == name && c.path == path));
            if !expired {
                self.cookies.push(Cookie { name, value, path });
            }
        }
    }
}

/// RFC 6265 §5.1.4 path-match.
fn path_matches(request: &str, cookie: &str) -> bool {
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request[cookie.len()..].starts_with('/')))
}

/// RFC 6265 §5.1.4 default-path.
fn default_path(request: &str) -> String {
    match request.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => request[..i].to_owned(),
    }
}

/// The parts of an HTML `<form method="post">` a browser would submit.
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    /// The first POST form of `html`, with its named `<input>`s.
    fn first_post(html: &str) -> Option<Self> {
        let lower = html.to_ascii_lowercase();
        let mut from = 0;
        while let Some(found) = lower[from..].find("<form") {
            let start = from + found;
            let tag_end = start + lower[start..].find('>')?;
            let form_attributes = attributes(&html[start + "<form".len()..tag_end]);
            let end = lower[tag_end..]
                .find("</form")
                .map_or(html.len(), |i| tag_end + i);
            from = end;
            let is_post = attribute(&form_attributes, "method")
                .is_some_and(|m| m.eq_ignore_ascii_case("post"));
            if !is_post {
                continue;
            }
            let inner = &html[tag_end + 1..end];
            let inner_lower = &lower[tag_end + 1..end];
            let mut fields = Vec::new();
            let mut at = 0;
            while let Some(found) = inner_lower[at..].find("<input") {
                let input = at + found + "<input".len();
                let close = inner_lower[input..]
                    .find('>')
                    .map_or(inner.len(), |i| input + i);
                let input_attributes = attributes(&inner[input..close]);
                if let Some(name) = attribute(&input_attributes, "name") {
                    let value = attribute(&input_attributes, "value").unwrap_or_default();
                    fields.push((name.to_owned(), value.to_owned()));
                }
                at = close;
            }
            return Some(Self {
                action: attribute(&form_attributes, "action")
                    .unwrap_or_default()
                    .to_owned(),
                fields,
            });
        }
        None
    }
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Parses the attributes of a tag (the text between its name and `>`),
/// with names lowercased and values entity-decoded.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, remainder) = match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let close = body.find(quote).unwrap_or(body.len());
                    (&body[..close], body.get(close + 1..).unwrap_or(""))
                }
                _ => {
                    let close = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            value = decode_entities(raw);
            rest = remainder;
        }
        if !name.is_empty() {
            out.push((name, value));
        }
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
    }
    out
}

fn decode_entities(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').and_then(|semi| {
            let entity = &rest[1..semi];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16))
                    .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                    .and_then(Result::ok)
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_post_form() {
        let html = r#"<form method="get" action="/x"></form>
            <FORM id="op.logoutForm" method="post" action="/session/end/confirm?a=1&amp;b=2">
            <input type="hidden" name="xsrf" value="a&quot;b&#39;c&#x26;"/>
            <input type=hidden name=logout value=yes>
            <input required type="text" name="login" value="">
            <button type="submit">Go</button></form>"#;
        let form = Form::first_post(html).expect("a post form");
        assert_eq!(form.action, "/session/end/confirm?a=1&b=2");
        assert_eq!(
            form.fields,
            vec![
                ("xsrf".to_owned(), "a\"b'c&".to_owned()),
                ("logout".to_owned(), "yes".to_owned()),
                ("login".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn matches_cookie_paths() {
        assert!(path_matches("/interaction/abc", "/interaction/abc"));
        assert!(path_matches("/interaction/abc/login", "/interaction/abc"));
        assert!(!path_matches("/interaction/abcd", "/interaction/abc"));
        assert!(path_matches("/auth", "/"));
        assert_eq!(default_path("/auth/x"), "/auth");
        assert_eq!(default_path("/auth"), "/");
    }
}
