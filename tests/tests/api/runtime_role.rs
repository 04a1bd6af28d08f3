//! What the runtime role cannot do, tried for real.

use prep_tests::TestApp;
use sqlx::Connection as _;

#[tokio::test]
async fn without_a_tenant_setting_every_table_is_empty() {
    let app = TestApp::new().await;
    app.seeded_tenant("acme").await;
    let pool = app.app_pool().await;
    for table in [
        "tenants",
        "users",
        "locations",
        "employees",
        "credentials",
        "permits",
        "inspections",
        "findings",
        "alerts",
        "audit_events",
        "location_requirement_statuses",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(n, 0, "{table} leaks rows without a tenant");
    }
    // a setting used and cleared reads back as '' in the session: still nothing
    let mut conn = pool.acquire().await.expect("conn");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("select set_config('app.tenant_id', '', true)")
        .execute(&mut *tx)
        .await
        .expect("set");
    let n: i64 = sqlx::query_scalar("select count(*) from locations")
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert_eq!(n, 0);
    let changed = sqlx::query("update locations set name = 'pwned'")
        .execute(&mut *tx)
        .await
        .expect("update");
    assert_eq!(changed.rows_affected(), 0);
    let deleted = sqlx::query("delete from employees")
        .execute(&mut *tx)
        .await
        .expect("delete");
    assert_eq!(deleted.rows_affected(), 0);
    // the global reference data stays readable
    let n: i64 = sqlx::query_scalar("select count(*) from requirements")
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert!(n > 10);
}

#[tokio::test]
async fn the_runtime_role_cannot_escape_row_level_security() {
    let app = TestApp::new().await;
    let tenant = app.seeded_tenant("acme").await;
    let pool = app.app_pool().await;
    let mut conn = pool.acquire().await.expect("conn");
    for (what, sql) in [
        ("SET ROLE to the owner", "set role prep_owner"),
        ("SET ROLE to a superuser", "set role postgres"),
        (
            "disable RLS",
            "alter table locations disable row level security",
        ),
        ("drop a policy", "drop policy tenant_isolation on locations"),
        ("TRUNCATE", "truncate locations cascade"),
        ("COPY a table", "copy locations to stdout"),
        (
            "COPY to a server file",
            "copy (select 1) to '/tmp/prep-copy-test'",
        ),
        ("COPY from a program", "copy locations from program 'true'"),
        (
            "update the audit log",
            "update audit_events set action = 'x'",
        ),
        ("delete from the audit log", "delete from audit_events"),
        (
            "write reference data",
            "update requirements set title = 'x'",
        ),
        ("create a table", "create table pwn (id int)"),
    ] {
        let result = sqlx::raw_sql(sql).execute(&mut *conn).await;
        assert!(result.is_err(), "the runtime role could {what}");
    }
    // Turning row_security off makes a policy-bound query fail, never widen.
    sqlx::raw_sql("set row_security = off")
        .execute(&mut *conn)
        .await
        .expect("set");
    let mut tx = conn.begin().await.expect("begin");
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .expect("set tenant");
    let widened = sqlx::query_scalar::<_, i64>("select count(*) from locations")
        .fetch_one(&mut *tx)
        .await;
    assert!(widened.is_err(), "row_security=off must refuse, not bypass");
}

#[tokio::test]
async fn a_pooled_connection_carries_no_tenant_after_a_failed_request() {
    let app = TestApp::with_pool(1).await;
    let a = app.seeded_tenant("acme").await;
    let b = app.tenant("bravo").await;
    // a mutation that fails inside its transaction (duplicate store number)
    let first = app
        .graphql(
            &a.token,
            "{ locations(first: 1) { nodes { storeNumber } } }",
            serde_json::json!({}),
        )
        .await;
    let store = first.data()["locations"]["nodes"][0]["storeNumber"]
        .as_str()
        .expect("store")
        .to_owned();
    let dup = app
        .graphql(
            &a.token,
            r#"mutation($s: String!) { createLocation(input: { storeNumber: $s, name: "Dup",
                address: { line1: "1 Main St", city: "Los Angeles", state: "CA", postalCode: "90012" },
                jurisdictionCode: "US-CA-LOS-ANGELES" }) { location { id } userErrors { code } } }"#,
            serde_json::json!({ "s": store }),
        )
        .await;
    assert_eq!(
        dup.data()["createLocation"]["userErrors"][0]["code"],
        "TAKEN"
    );
    // an operation that fails at the database (statement refused) also ends cleanly
    assert_eq!(
        app.state.db.idle_tenant_setting().await.expect("setting"),
        None
    );
    let seen = app
        .graphql(
            &b.token,
            "{ locations(first: 5) { totalCount } viewer { tenant { slug } } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(seen.data()["locations"]["totalCount"], 0);
    assert_eq!(seen.data()["viewer"]["tenant"]["slug"], "bravo");
    assert_eq!(
        app.state.db.idle_tenant_setting().await.expect("setting"),
        None
    );
}
