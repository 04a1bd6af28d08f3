//! The playground's cold load, in headless Chromium, from a release
//! gateway over loopback: each run is a new browser profile (nothing
//! cached), and reports when the document, its assets and GraphiQL's
//! editor were ready, with the bytes transferred.
//!
//! `bench/sandbox.sh` runs it (needs Debian's chromium and chromium-driver).

use std::net::SocketAddr;
use std::time::Duration;

use prep_tests::browser::Browser;
use prep_tests::TestApp;
use serde_json::json;

const MEASURE: &str = "const nav = performance.getEntriesByType('navigation')[0]; \
    const res = performance.getEntriesByType('resource'); \
    return { responseEnd: nav.responseEnd, domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, \
             documentBytes: nav.transferSize, \
             assetBytes: res.filter(r => r.name.includes('/sandbox/assets/')).reduce((s, r) => s + r.transferSize, 0), \
             assetDecoded: res.filter(r => r.name.includes('/sandbox/assets/')).reduce((s, r) => s + r.decodedBodySize, 0), \
             editorAt: window.__editorAt || null };";

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let mut editor = Vec::new();
    let mut loads = Vec::new();
    let mut last = serde_json::Value::Null;
    for _ in 0..runs {
        let browser = Browser::start().await;
        browser.goto(&format!("http://{addr}/sandbox")).await;
        let at = browser
            .wait_for(
                "the editor",
                "return document.querySelector('.graphiql-query-editor .CodeMirror') ? performance.now() : null",
                Duration::from_secs(20),
            )
            .await;
        let m = browser.exec(MEASURE, json!([])).await;
        editor.push(at.as_f64().unwrap_or(0.0));
        loads.push(m["load"].as_f64().unwrap_or(0.0));
        last = m;
    }
    editor.sort_by(f64::total_cmp);
    loads.sort_by(f64::total_cmp);
    let p50 = |v: &[f64]| v[v.len() / 2];
    println!(
        "cold loads: {runs}; editor ready p50={:.0} ms max={:.0} ms; load event p50={:.0} ms max={:.0} ms",
        p50(&editor),
        editor[editor.len() - 1],
        p50(&loads),
        loads[loads.len() - 1]
    );
    println!(
        "transferred: document {} B, assets {} B (decoded {} B)",
        last["documentBytes"], last["assetBytes"], last["assetDecoded"]
    );
}
