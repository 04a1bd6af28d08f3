//! The isolation rules, checked in the catalog after migrations.

use prep_tests::TestApp;

const TENANT_TABLES_WITHOUT_TENANT_ID: &[&str] = &["tenants"];
const GLOBAL_TABLES: &[&str] = &[
    "jurisdictions",
    "requirements",
    "_sqlx_migrations",
    "signing_keys",
    "security_events",
];
const DEFINER_ALLOW_LIST: &[&str] = &[
    "compliance_reviews_due",
    // a connector key's tenant and grants, by the key's id, before any
    // tenant is known; the caller compares the HMAC in constant time
    "connector_key_resolve",
    // deletes stored idempotent responses past their expiry, ids only
    "idempotency_keys_purge",
    // a sandbox key's sandbox tenant and developer, by the key's id (only
    // sandbox tenants answer); the caller compares the HMAC
    "sandbox_key_resolve",
    // deletes one ended sandbox, owned by the tables' owner and bound by
    // RLS to that sandbox, which it checks has ended
    "sandbox_purge",
    // ended sandboxes (no live key, the last token lapsed), ids only
    "sandboxes_ended",
    // a SCIM token's tenant, by the token's id, before any tenant is known
    "scim_token_resolve",
    "session_resolve",
    "sso_connection_for_domain",
    "tenant_id_by_slug",
    "token_revocations_since",
    // writes a tombstone the runtime role may not see; still under tenant RLS
    "tombstone_user",
];
/// Unique keys that must hold across tenants, and why that reveals nothing.
const GLOBAL_UNIQUE_ALLOW_LIST: &[&str] = &[
    // the SHA-256 of 32 random bytes: a collision is not a thing that happens
    "sessions_token_hash_key",
    // a verified domain routes logins to exactly one tenant; unverified
    // claims never collide, so adding one tells nothing
    "sso_domains_verified_key",
    // a random UUID chosen by the server, looked up before the tenant is known
    "scim_tokens_id_key",
    // the same for connectors (their OAuth client_id) and connector keys
    "connectors_id_key",
    "connector_keys_id_key",
    "sandbox_keys_id_key",
];
/// Natural keys that are not UUIDs, with their reason.
const NON_UUID_KEYS: &[&str] = &[
    // a JWK `kid` is a string by definition
    "signing_keys.kid",
    // a tenant's claim of a DNS name: the name is the identity
    "sso_domains.domain",
    // the client's Idempotency-Key: its text is the identity (per tenant)
    "idempotency_keys.key",
];

#[tokio::test]
async fn every_tenant_table_has_forced_rls_and_checked_policies() {
    let app = TestApp::new().await;
    let admin = app.admin_pool().await;
    let tables: Vec<(String, bool, bool, bool)> = sqlx::query_as(
        r#"
        select c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
               exists (select 1 from pg_attribute a
                       where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
        from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
        order by 1
        "#,
    )
    .fetch_all(&admin)
    .await
    .expect("tables");
    assert!(tables.len() >= 12, "{tables:?}");
    for (name, rls, forced, has_tenant) in &tables {
        if GLOBAL_TABLES.contains(&name.as_str()) {
            assert!(!has_tenant, "{name} is global but has tenant_id");
            continue;
        }
        assert!(
            *has_tenant || TENANT_TABLES_WITHOUT_TENANT_ID.contains(&name.as_str()),
            "{name} is neither global nor keyed by tenant_id"
        );
        assert!(*rls && *forced, "{name}: RLS enabled={rls} forced={forced}");
        let policies: Vec<(String, bool, Option<String>, Option<String>)> = sqlx::query_as(
            "select polname::text, polpermissive, pg_get_expr(polqual, polrelid),
                    pg_get_expr(polwithcheck, polrelid)
             from pg_policy where polrelid = $1::regclass",
        )
        .bind(name)
        .fetch_all(&admin)
        .await
        .expect("policies");
        assert!(
            policies.iter().any(|p| p.1),
            "{name} has no permissive (tenant) policy"
        );
        for (pol, permissive, using, check) in policies {
            if !permissive {
                // restrictive policies narrow within the tenant: the location
                // scope, which must read its setting once, and the users'
                // tombstones, which the runtime role never sees
                let using = using.unwrap_or_default();
                if name == "users" && pol == "users_live" {
                    assert_eq!(using, "(deleted_at IS NULL)");
                    continue;
                }
                assert_eq!(
                    pol, "location_scope",
                    "{name}: unexpected restrictive policy"
                );
                assert!(
                    using.contains("( SELECT app_location_scope()"),
                    "{name}.{pol} does not read the location scope once: {using}"
                );
                continue;
            }
            let using = using.unwrap_or_default();
            let check = check.unwrap_or_default();
            for expr in [&using, &check] {
                assert!(
                    expr.contains("current_setting('app.tenant_id'::text, true)")
                        && expr.contains("nullif"),
                    "{name}.{pol} does not read the tenant setting: {expr}"
                );
                assert!(
                    expr.contains("SELECT"),
                    "{name}.{pol}: setting not wrapped in (select ...): {expr}"
                );
            }
        }
    }
}

#[tokio::test]
async fn runtime_role_is_powerless_outside_its_grants() {
    let app = TestApp::new().await;
    let admin = app.admin_pool().await;
    let (superuser, bypass, createrole, createdb): (bool, bool, bool, bool) = sqlx::query_as(
        "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = 'prep_app'",
    )
    .fetch_one(&admin)
    .await
    .expect("role");
    assert!(!superuser && !bypass && !createrole && !createdb);
    let owned: i64 = sqlx::query_scalar(
        "select count(*) from pg_class where relowner = 'prep_app'::regrole
         union all select count(*) from pg_proc where proowner = 'prep_app'::regrole",
    )
    .fetch_one(&admin)
    .await
    .expect("ownership");
    assert_eq!(owned, 0, "prep_app owns objects");
    let dangerous: Vec<(String, String)> = sqlx::query_as(
        r#"
        select c.relname::text, p.privilege_type::text
        from pg_class c
        cross join lateral aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) p
        where c.relnamespace = 'public'::regnamespace
          and p.grantee = 'prep_app'::regrole
          and p.privilege_type in ('TRUNCATE', 'REFERENCES', 'TRIGGER')
        "#,
    )
    .fetch_all(&admin)
    .await
    .expect("grants");
    assert!(dangerous.is_empty(), "{dangerous:?}");
    let audit: Vec<String> = sqlx::query_scalar(
        r#"
        select p.privilege_type::text from pg_class c
        cross join lateral aclexplode(c.relacl) p
        where c.oid = 'audit_events'::regclass and p.grantee = 'prep_app'::regrole
        order by 1
        "#,
    )
    .fetch_all(&admin)
    .await
    .expect("audit grants");
    assert_eq!(
        audit,
        vec!["INSERT".to_owned(), "SELECT".to_owned()],
        "audit log must be append-only"
    );
    let member_of: i64 = sqlx::query_scalar(
        "select count(*) from pg_auth_members where member = 'prep_app'::regrole",
    )
    .fetch_one(&admin)
    .await
    .expect("memberships");
    assert_eq!(member_of, 0, "prep_app must not be a member of any role");
}

#[tokio::test]
async fn security_definer_functions_are_allow_listed_with_fixed_search_path() {
    let app = TestApp::new().await;
    let admin = app.admin_pool().await;
    let definers: Vec<(String, Option<Vec<String>>)> = sqlx::query_as(
        "select proname::text, proconfig from pg_proc
         where pronamespace = 'public'::regnamespace and prosecdef order by proname::text collate \"C\"",
    )
    .fetch_all(&admin)
    .await
    .expect("functions");
    let names: Vec<&str> = definers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, DEFINER_ALLOW_LIST);
    for (name, config) in definers {
        let config = config.unwrap_or_default();
        assert!(
            config
                .iter()
                .any(|c| c.starts_with("search_path=pg_catalog")),
            "{name} has no fixed search_path: {config:?}"
        );
    }
    let views: Vec<(String, Option<Vec<String>>)> = sqlx::query_as(
        "select relname::text, reloptions from pg_class
         where relnamespace = 'public'::regnamespace and relkind in ('v', 'm')",
    )
    .fetch_all(&admin)
    .await
    .expect("views");
    for (name, options) in views {
        assert!(
            options
                .unwrap_or_default()
                .iter()
                .any(|o| o == "security_invoker=true"),
            "view {name} is not security_invoker"
        );
    }
}

#[tokio::test]
async fn unique_and_foreign_keys_of_tenant_tables_lead_with_tenant_id() {
    let app = TestApp::new().await;
    let admin = app.admin_pool().await;
    let keys: Vec<(String, String, String, Option<String>, bool)> = sqlx::query_as(
        r#"
        select con.conname::text, c.relname::text, con.contype::text, f.relname::text,
               (select a.attname = 'tenant_id' from pg_attribute a
                 where a.attrelid = con.conrelid and a.attnum = con.conkey[1])
        from pg_constraint con
        join pg_class c on c.oid = con.conrelid
        left join pg_class f on f.oid = con.confrelid
        where c.relnamespace = 'public'::regnamespace and con.contype in ('p', 'u', 'f')
          and exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')
        "#,
    )
    .fetch_all(&admin)
    .await
    .expect("constraints");
    assert!(keys.len() > 20);
    for (name, table, kind, foreign, leads) in keys {
        if GLOBAL_UNIQUE_ALLOW_LIST.contains(&name.as_str()) {
            continue;
        }
        let to_global = matches!(
            foreign.as_deref(),
            Some("jurisdictions" | "requirements" | "tenants")
        );
        if kind == "f" && to_global {
            continue;
        }
        assert!(
            leads,
            "{table}.{name} ({kind}) does not lead with tenant_id"
        );
    }
    let indexes: Vec<(String, String)> = sqlx::query_as(
        r#"
        select i.relname::text, pg_get_indexdef(i.oid)
        from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
        where t.relnamespace = 'public'::regnamespace and x.indisunique
          and exists (select 1 from pg_attribute a where a.attrelid = t.oid and a.attname = 'tenant_id')
        "#,
    )
    .fetch_all(&admin)
    .await
    .expect("unique indexes");
    for (name, def) in indexes {
        if GLOBAL_UNIQUE_ALLOW_LIST.contains(&name.as_str()) {
            continue;
        }
        assert!(
            def.contains("(tenant_id"),
            "unique index {name} does not lead with tenant_id: {def}"
        );
    }
    let non_uuid_keys: Vec<String> = sqlx::query_scalar(
        r#"
        select c.relname::text || '.' || a.attname::text
        from pg_constraint con
        join pg_class c on c.oid = con.conrelid
        join pg_attribute a on a.attrelid = c.oid and a.attnum = any (con.conkey)
        where con.contype = 'p' and c.relnamespace = 'public'::regnamespace
          and c.relname <> '_sqlx_migrations' and a.atttypid <> 'uuid'::regtype
        "#,
    )
    .fetch_all(&admin)
    .await
    .expect("key types");
    let unexpected: Vec<&String> = non_uuid_keys
        .iter()
        .filter(|k| !NON_UUID_KEYS.contains(&k.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "non-UUID key columns: {unexpected:?}"
    );
}
