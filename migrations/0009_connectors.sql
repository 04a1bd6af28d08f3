-- Connector clients (ERP and HRIS integrations), their API keys, and
-- idempotent writes for every mutation.

-- The tenant's cap on connector key lifetimes: every key expires, and no
-- admin may hand out one that outlives the tenant's policy.
alter table tenants
  add column connector_key_max_days integer not null default 365
    constraint tenants_connector_key_max_days_check check (connector_key_max_days between 1 and 730);

-- The connectors a tenant registered. `scopes` are `resource:action`
-- (write implies read); the list here is the whole vocabulary a connector
-- may ever hold: nothing administrative.
create table connectors (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  name text not null constraint connectors_name_check check (length(name) between 1 and 100),
  kind text not null constraint connectors_kind_check check (kind in ('erp', 'hris')),
  vendor text not null constraint connectors_vendor_check
    check (vendor in ('netsuite', 'sap', 'workday', 'rippling', 'other')),
  scopes text[] not null constraint connectors_scopes_check check (
    cardinality(scopes) between 1 and 16
    and scopes <@ array['locations:read', 'locations:write', 'employees:read', 'employees:write',
                        'credentials:read', 'credentials:write', 'permits:read', 'permits:write',
                        'inspections:read', 'inspections:write', 'compliance:read', 'alerts:read']),
  -- null: any source address; otherwise the request's address must be in one
  allowed_cidrs cidr[] constraint connectors_allowed_cidrs_check
    check (allowed_cidrs is null or cardinality(allowed_cidrs) between 1 and 32),
  -- whether connector_locations restricts it (an empty restriction sees nothing)
  restricted_to_locations boolean not null default false,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (tenant_id, id),
  -- looked up by id (the OAuth client_id) before the tenant is known; a
  -- random server-chosen UUID, so its uniqueness tells no tenant anything
  constraint connectors_id_key unique (id),
  constraint connectors_tenant_name_key unique (tenant_id, name)
);
create trigger connectors_updated_at before update on connectors
  for each row execute function set_updated_at();

-- The locations a restricted connector may see and change. Composite keys:
-- a connector can never be tied to another tenant's location.
create table connector_locations (
  tenant_id uuid not null,
  connector_id uuid not null,
  location_id uuid not null,
  primary key (tenant_id, connector_id, location_id),
  constraint connector_locations_connector_fkey foreign key (tenant_id, connector_id)
    references connectors (tenant_id, id) on delete cascade,
  constraint connector_locations_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade
);

-- A connector's API keys. The key's id is part of the key itself (so it is
-- found without scanning); only an HMAC of the secret is stored. A rolled
-- key keeps working until its `expires_at` is pulled in to the end of the
-- overlap; `environment` is the visible prefix (`live` or `test` for
-- sandbox tenants).
create table connector_keys (
  tenant_id uuid not null,
  id uuid not null,
  connector_id uuid not null,
  environment text not null constraint connector_keys_environment_check check (environment in ('live', 'test')),
  secret_hash bytea not null constraint connector_keys_secret_hash_check check (length(secret_hash) = 32),
  created_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  replaced_by uuid,
  last_used_at timestamptz,
  last_used_ip inet,
  primary key (tenant_id, id),
  -- a random UUID chosen by the server, looked up before the tenant is known
  constraint connector_keys_id_key unique (id),
  constraint connector_keys_connector_fkey foreign key (tenant_id, connector_id)
    references connectors (tenant_id, id) on delete cascade,
  constraint connector_keys_window_check check (expires_at > created_at)
);
create index connector_keys_connector_idx on connector_keys (tenant_id, connector_id, created_at desc);

-- HRIS systems name credentials by their own record ids.
alter table credentials
  add column external_id text constraint credentials_external_id_check check (length(external_id) between 1 and 128),
  add constraint credentials_tenant_external_id_key unique (tenant_id, external_id);

-- Stored responses of mutations sent with an `Idempotency-Key`: the row is
-- written in the same transaction as the mutation's effects, so a key is
-- either unused or bound to exactly one applied request and its response.
create table idempotency_keys (
  tenant_id uuid not null references tenants (id),
  key text not null constraint idempotency_keys_key_check check (length(key) between 1 and 255),
  -- SHA-256 over the caller, the document, the operation and the variables
  fingerprint bytea not null constraint idempotency_keys_fingerprint_check check (length(fingerprint) = 32),
  response bytea,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (tenant_id, key)
);
create index idempotency_keys_expiry_idx on idempotency_keys (expires_at);

do $$
declare t text;
begin
  foreach t in array array['connectors', 'connector_locations', 'connector_keys', 'idempotency_keys'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
      with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))$p$, t);
  end loop;
end $$;
grant select, insert, update on connectors, connector_keys, idempotency_keys to prep_app;
grant select, insert, delete on connector_locations to prep_app;

-- Every replica caches what a key may do; any change to a connector, its
-- locations or the validity of its keys is pushed to all of them, so a
-- revocation takes effect everywhere within moments. (`last_used_*` updates
-- notify nobody.)
create function notify_connector_change() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
declare r jsonb := to_jsonb(case when tg_op = 'DELETE' then old else new end);
begin
  -- connectors name themselves `id`; their locations and keys `connector_id`
  perform pg_notify('prep_connectors', coalesce(r->>'connector_id', r->>'id'));
  return null;
end $$;
create trigger connectors_notify after update or delete on connectors
  for each row execute function notify_connector_change();
create trigger connector_locations_notify after insert or delete on connector_locations
  for each row execute function notify_connector_change();
create trigger connector_keys_notify after update of expires_at, revoked_at, replaced_by or delete on connector_keys
  for each row execute function notify_connector_change();

-- A key's tenant and everything deciding what it may do, by the key's id,
-- before any tenant is known; the caller compares the HMAC in constant time.
create function connector_key_resolve(key_id uuid)
returns table (tenant_id uuid, connector_id uuid, environment text, secret_hash bytea,
               key_expires_at timestamptz, key_revoked_at timestamptz,
               connector_revoked_at timestamptz, scopes text[], allowed_cidrs text[],
               location_ids uuid[], is_sandbox boolean, tenant_slug text)
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select k.tenant_id, k.connector_id, k.environment, k.secret_hash, k.expires_at, k.revoked_at,
         c.revoked_at, c.scopes, c.allowed_cidrs::text[],
         case when c.restricted_to_locations then coalesce(array(
           select l.location_id from public.connector_locations l
           where l.tenant_id = c.tenant_id and l.connector_id = c.id), '{}') end,
         t.is_sandbox, t.slug
  from public.connector_keys k
  join public.connectors c on c.tenant_id = k.tenant_id and c.id = k.connector_id
  join public.tenants t on t.id = k.tenant_id
  where k.id = key_id
$$;
grant select (tenant_id, id, connector_id, environment, secret_hash, expires_at, revoked_at)
  on connector_keys to prep_definer;
grant select (tenant_id, id, revoked_at, scopes, allowed_cidrs, restricted_to_locations)
  on connectors to prep_definer;
grant select (tenant_id, connector_id, location_id) on connector_locations to prep_definer;
grant select (id, slug, is_sandbox) on tenants to prep_definer;
alter function connector_key_resolve(uuid) owner to prep_definer;
revoke execute on function connector_key_resolve(uuid) from public;
grant execute on function connector_key_resolve(uuid) to prep_app;

-- Forgets stored responses older than a day, across tenants; returns how
-- many went.
create function idempotency_keys_purge(max_rows integer)
returns integer
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare n integer;
begin
  delete from public.idempotency_keys k
  where (k.tenant_id, k.key) in (
    select x.tenant_id, x.key from public.idempotency_keys x
    where x.expires_at <= now()
    limit least(greatest(max_rows, 0), 10000));
  get diagnostics n = row_count;
  return n;
end $$;
grant select (tenant_id, key, expires_at), delete on idempotency_keys to prep_definer;
alter function idempotency_keys_purge(integer) owner to prep_definer;
revoke execute on function idempotency_keys_purge(integer) from public;
grant execute on function idempotency_keys_purge(integer) to prep_app;
