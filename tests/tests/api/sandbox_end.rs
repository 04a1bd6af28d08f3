//! The end of sandboxes: once no key to a sandbox is live and the last
//! token it could have minted has lapsed, the sweeper deletes every row of
//! it, and nothing of any other sandbox or tenant.

use std::time::Duration;

use prep_tests::TestApp;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::sandbox::post_json;

/// The sandbox token lifetime the tests' settings use.
const GRACE: Duration = Duration::from_secs(8 * 3600);

/// Rows per tenant table (every table with a `tenant_id`, and the tenant's
/// own row), so a table added later cannot be forgotten by the purge.
async fn rows_of(admin: &PgPool, tenant: Uuid) -> Vec<(String, i64)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.columns
         where table_schema = 'public' and column_name = 'tenant_id' order by 1",
    )
    .fetch_all(admin)
    .await
    .expect("tables");
    assert!(tables.len() > 20, "{tables:?}");
    let mut rows = Vec::new();
    for table in tables.into_iter().chain(["tenants".to_owned()]) {
        let column = if table == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        let n: i64 =
            sqlx::query_scalar(&format!("select count(*) from {table} where {column} = $1"))
                .bind(tenant)
                .fetch_one(admin)
                .await
                .expect("count");
        rows.push((table, n));
    }
    rows
}

/// A new sandbox: its id, token and sandbox key.
async fn sandbox(app: &TestApp, admin: &PgPool) -> (Uuid, String, String) {
    let (status, created) = post_json(app, "/sandbox/api/tenants", None).await;
    assert_eq!(status, 201, "{created}");
    let id = sqlx::query_scalar("select id from tenants where slug = $1")
        .bind(created["tenant"]["slug"].as_str().expect("slug"))
        .fetch_one(admin)
        .await
        .expect("tenant");
    let text = |k: &str| created[k].as_str().expect(k).to_owned();
    (id, text("token"), text("sandboxKey"))
}

/// Moves a sandbox into the past: created 40 days ago, its keys having
/// expired `ago` before now.
async fn age(admin: &PgPool, tenant: Uuid, ago: &str) {
    created_days_ago(admin, &[tenant], 40).await;
    sqlx::query(&format!(
        "update sandbox_keys set created_at = now() - interval '40 days',
         expires_at = now() - interval '{ago}' where tenant_id = $1"
    ))
    .bind(tenant)
    .execute(admin)
    .await
    .expect("age the keys");
}

/// Moves tenants' creation `days` into the past.
async fn created_days_ago(admin: &PgPool, tenants: &[Uuid], days: i32) {
    sqlx::query(
        "update tenants set created_at = now() - make_interval(days => $2) where id = any($1)",
    )
    .bind(tenants)
    .bind(days)
    .execute(admin)
    .await
    .expect("age the tenants");
}

fn total(rows: &[(String, i64)]) -> i64 {
    rows.iter().map(|(_, n)| n).sum()
}

#[tokio::test]
async fn a_sandbox_nobody_can_reach_is_deleted_whole_and_nothing_else_is() {
    let app = TestApp::new().await;
    let admin = app.admin_pool().await;
    let real = app.seeded_tenant("acme").await;
    let (ended, token, key) = sandbox(&app, &admin).await;
    let (live, _, _) = sandbox(&app, &admin).await;
    let (in_grace, _, _) = sandbox(&app, &admin).await;
    let (revoked, _, _) = sandbox(&app, &admin).await;
    // the developer used more than the seed: a connector with a key
    let r = app
        .graphql(&token, r#"mutation { createConnector(input: { name: "erp", kind: ERP, vendor: SAP, scopes: ["locations:read"] }) { credentials { apiKey } } }"#, json!({}))
        .await;
    let connector_key = r.data()["createConnector"]["credentials"]["apiKey"]
        .as_str()
        .expect("connector key")
        .to_owned();
    age(&admin, ended, "9 hours").await;
    age(&admin, in_grace, "1 hour").await;
    // a key revoked 9 hours ago ends its sandbox however long it had left
    sqlx::query(
        "update sandbox_keys set revoked_at = now() - interval '9 hours' where tenant_id = $1",
    )
    .bind(revoked)
    .execute(&admin)
    .await
    .expect("revoke");
    created_days_ago(&admin, &[real.id.as_uuid()], 400).await;

    let before = rows_of(&admin, ended).await;
    let used: Vec<&str> = before
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, _)| t.as_str())
        .collect();
    for table in [
        "locations",
        "employees",
        "users",
        "sandbox_keys",
        "connectors",
        "connector_keys",
        "audit_events",
        "tenants",
    ] {
        assert!(used.contains(&table), "{table} has rows: {before:?}");
    }
    let others = [real.id.as_uuid(), live, in_grace];
    let mut kept = Vec::new();
    for tenant in others {
        kept.push(rows_of(&admin, tenant).await);
    }

    let purged = prep_gateway::sandbox_end::end_lapsed(&app.state.db, GRACE)
        .await
        .expect("sweep");
    assert_eq!(purged, 2);
    for gone in [ended, revoked] {
        let after = rows_of(&admin, gone).await;
        assert_eq!(
            total(&after),
            0,
            "every row of the ended sandbox: {after:?}"
        );
    }
    for (tenant, rows) in others.iter().zip(&kept) {
        assert_eq!(&rows_of(&admin, *tenant).await, rows, "{tenant} untouched");
    }
    assert_eq!(
        prep_gateway::sandbox_end::end_lapsed(&app.state.db, GRACE)
            .await
            .expect("sweep"),
        0,
        "nothing more has ended"
    );

    // its credentials open nothing (with the answer any unknown one gets)
    let (status, body) = post_json(&app, "/sandbox/api/token", Some(&key)).await;
    assert_eq!(status, 401, "{body}");
    let r = app
        .graphql_key(
            &connector_key,
            "{ locations(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = app
        .graphql(&token, "{ locations(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.error_code(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn the_runtime_role_cannot_end_a_live_sandbox_or_a_real_tenant() {
    let app = TestApp::new().await;
    let admin = app.admin_pool().await;
    let real = app.seeded_tenant("acme").await;
    let (live, _, _) = sandbox(&app, &admin).await;
    let (fresh_key, _, _) = sandbox(&app, &admin).await;
    // an operator's sandbox (`tenant create --sandbox`, the development
    // `sandbox` tenant) never had a key: it is reached with minted tokens
    let operators = app.seeded_tenant("operators-sandbox").await.id.as_uuid();
    sqlx::query("update tenants set is_sandbox = true where id = $1")
        .bind(operators)
        .execute(&admin)
        .await
        .expect("an operator's sandbox");
    // a sandbox whose key lapsed long ago but that has a new live one
    age(&admin, fresh_key, "30 days").await;
    sqlx::query(
        "insert into sandbox_keys (tenant_id, id, user_id, secret_hash, expires_at)
         select tenant_id, gen_random_uuid(), user_id, secret_hash, now() + interval '1 day'
         from sandbox_keys where tenant_id = $1 limit 1",
    )
    .bind(fresh_key)
    .execute(&admin)
    .await
    .expect("a new key");
    created_days_ago(&admin, &[real.id.as_uuid(), operators], 400).await;

    let runtime = app.app_pool().await;
    for tenant in [
        real.id.as_uuid(),
        operators,
        live,
        fresh_key,
        Uuid::new_v4(),
    ] {
        let before = rows_of(&admin, tenant).await;
        let purged: bool =
            sqlx::query_scalar("select sandbox_purge($1, make_interval(hours => 0))")
                .bind(tenant)
                .fetch_one(&runtime)
                .await
                .expect("the runtime role may call it");
        assert!(!purged, "{tenant}");
        assert_eq!(rows_of(&admin, tenant).await, before);
    }
    let ended: Vec<Uuid> =
        sqlx::query_scalar("select sandboxes_ended(make_interval(hours => 0), 100)")
            .fetch_all(&runtime)
            .await
            .expect("ended");
    assert!(ended.is_empty(), "{ended:?}");
    // and it still cannot delete a tenant's rows itself
    let denied = sqlx::query("delete from tenants")
        .execute(&runtime)
        .await
        .expect_err("no delete on tenants");
    assert!(denied.to_string().contains("permission denied"), "{denied}");
}
