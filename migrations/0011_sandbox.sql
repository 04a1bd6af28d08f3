-- Developer sandboxes: a sandbox key lets a developer come back to their
-- own sandbox tenant and mint fresh tokens for its developer user, without
-- an identity provider. Sandbox keys work only for sandbox tenants (the
-- look-up below refuses any other), and only an HMAC of the secret is kept.
create table sandbox_keys (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  user_id uuid not null,
  secret_hash bytea not null constraint sandbox_keys_secret_hash_check check (length(secret_hash) = 32),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  primary key (tenant_id, id),
  -- a random UUID chosen by the server, looked up before the tenant is known
  constraint sandbox_keys_id_key unique (id),
  constraint sandbox_keys_user_fkey foreign key (tenant_id, user_id)
    references users (tenant_id, id) on delete cascade,
  constraint sandbox_keys_window_check check (expires_at > created_at)
);
alter table sandbox_keys enable row level security;
alter table sandbox_keys force row level security;
create policy tenant_isolation on sandbox_keys
  using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
  with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
grant select, insert, update on sandbox_keys to prep_app;

-- A sandbox key's tenant and user, by the key's id, before any tenant is
-- known; only sandbox tenants answer. The caller compares the HMAC.
create function sandbox_key_resolve(key_id uuid)
returns table (tenant_id uuid, tenant_slug text, user_id uuid, secret_hash bytea,
               expires_at timestamptz, revoked_at timestamptz)
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select k.tenant_id, t.slug, k.user_id, k.secret_hash, k.expires_at, k.revoked_at
  from public.sandbox_keys k
  join public.tenants t on t.id = k.tenant_id and t.is_sandbox
  where k.id = key_id
$$;
grant select (tenant_id, id, user_id, secret_hash, expires_at, revoked_at) on sandbox_keys to prep_definer;
alter function sandbox_key_resolve(uuid) owner to prep_definer;
revoke execute on function sandbox_key_resolve(uuid) from public;
grant execute on function sandbox_key_resolve(uuid) to prep_app;
