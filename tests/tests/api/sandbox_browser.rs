//! The playground in a real browser: headless Chromium loads `/sandbox`
//! from the gateway over HTTP, a developer creates a sandbox from the page,
//! types a query into GraphiQL, runs it, and sees the sandbox's data. The
//! screenshot is kept in `target/test-artifacts/`.

use std::net::SocketAddr;
use std::time::Duration;

use prep_tests::browser::Browser;
use prep_tests::TestApp;
use serde_json::{json, Value};

const SET_QUERY: &str =
    "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]); return true;";
const CLEAR_RESULT: &str =
    "const cm = document.querySelector('.graphiql-response .CodeMirror'); if (cm) cm.CodeMirror.setValue(''); return true;";
const GET_RESULT: &str = "const cm = document.querySelector('.graphiql-response .CodeMirror'); \
    const busy = document.querySelector('.graphiql-response .graphiql-spinner'); \
    return cm && !busy ? cm.CodeMirror.getValue() : null;";

async fn serve(app: &TestApp) -> SocketAddr {
    prep_tests::serve(app.router.clone()).await
}

async fn run(browser: &Browser, query: &str) -> Value {
    browser.exec(SET_QUERY, json!([query])).await;
    // GraphiQL reads the operation 100 ms after an edit
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.exec(CLEAR_RESULT, json!([])).await;
    browser.click(".graphiql-execute-button").await;
    let raw = browser
        .wait_for("a result", GET_RESULT, Duration::from_secs(20))
        .await;
    serde_json::from_str(raw.as_str().expect("text")).expect("the result pane holds JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_creates_a_sandbox_and_runs_a_query_in_the_page() {
    let app = TestApp::new().await;
    let addr = serve(&app).await;
    let browser = Browser::start().await;
    browser.goto(&format!("http://{addr}/sandbox")).await;

    // the IDE renders, with the schema explorer, and offers a sandbox
    browser
        .wait_for(
            "GraphiQL",
            "return !!document.querySelector('.graphiql-query-editor .CodeMirror')",
            Duration::from_secs(20),
        )
        .await;
    browser
        .wait_for(
            "the create button",
            "return !!document.querySelector('[data-testid=create-sandbox-button]')",
            Duration::from_secs(10),
        )
        .await;
    browser.click("[data-testid=create-sandbox-button]").await;
    let slug = browser
        .wait_for(
            "the sandbox",
            "const e = document.querySelector('[data-testid=tenant-slug]'); return e ? e.textContent : null;",
            Duration::from_secs(30),
        )
        .await;
    let slug = slug.as_str().expect("text").trim().to_owned();
    assert!(slug.starts_with("sbx-"), "{slug}");

    let result = run(
        &browser,
        "query Mine { viewer { tenant { slug isSandbox plan } } locations(first: 5) { totalCount nodes { storeNumber } } }",
    )
    .await;
    assert_eq!(
        result["data"]["viewer"]["tenant"]["slug"],
        slug.as_str(),
        "{result}"
    );
    assert_eq!(result["data"]["viewer"]["tenant"]["isSandbox"], true);
    assert_eq!(result["data"]["viewer"]["tenant"]["plan"], "free");
    assert_eq!(result["data"]["locations"]["totalCount"], 25);
    assert!(result["extensions"]["cost"]["requestedQueryCost"].is_number());

    // the documentation explorer knows the schema (introspection is on)
    let has_docs = browser
        .exec("return !!document.querySelector('.graphiql-sidebar button[aria-label*=\"Documentation\"]')", json!([]))
        .await;
    assert_eq!(has_docs, true);

    let png = browser.screenshot().await;
    assert!(
        png.starts_with(&[0x89, b'P', b'N', b'G']),
        "a PNG screenshot"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    std::fs::write(dir.join("sandbox-playground.png"), &png).expect("write screenshot");

    // an expired or foreign credential gets a clear message on the page
    browser
        .exec(
            "localStorage.setItem('prep.sandbox', JSON.stringify({ tenant: { slug: 'sbx-gone' }, sandboxKey: 'prep_sbx_nope', token: 'x', tokenExpiresAt: '2000-01-01T00:00:00Z' })); return true;",
            json!([]),
        )
        .await;
    browser.goto(&format!("http://{addr}/sandbox")).await;
    let banner = browser
        .wait_for(
            "the banner",
            "const b = document.querySelector('[data-testid=status-banner]'); return b && !b.hidden ? b.textContent : null;",
            Duration::from_secs(20),
        )
        .await;
    let banner = banner.as_str().expect("text").to_lowercase();
    assert!(
        banner.contains("sandbox key")
            || banner.contains("not valid")
            || banner.contains("expired"),
        "{banner}"
    );
}
