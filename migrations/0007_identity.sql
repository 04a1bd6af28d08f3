-- Identity and access: the gateway's signing keys, roles and their grants,
-- revocations, browser sessions, SSO connections, and security events.

-- The gateway's keyring. Global (keys sign tokens of every tenant); private
-- keys are sealed (AES-256-GCM) with the gateway's master key before they
-- reach the database, so a database dump alone cannot mint tokens.
-- A key is published from `created_at`, signs from `signs_from` (later than
-- created_at on a planned rotation, so every replica and every JWKS cache
-- knows the key before the first token it signs), and verifies until
-- `verifies_until` (null: until a newer key takes over and retires it).
create table signing_keys (
  kid text primary key constraint signing_keys_kid_check check (length(kid) between 8 and 64),
  algorithm text not null default 'EdDSA' constraint signing_keys_algorithm_check check (algorithm = 'EdDSA'),
  public_key bytea not null constraint signing_keys_public_key_check check (length(public_key) = 32),
  private_key_sealed bytea not null,
  created_at timestamptz not null default now(),
  signs_from timestamptz not null default now(),
  verifies_until timestamptz,
  constraint signing_keys_window_check check (verifies_until is null or verifies_until >= created_at)
);
grant select, insert on signing_keys to prep_app;
grant update (verifies_until) on signing_keys to prep_app;

-- Every replica reloads its keyring when a key is added or retired, so an
-- emergency rotation cuts the old key everywhere at once, not at the next
-- periodic reload.
create function notify_keyring_change() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  perform pg_notify('prep_keyring', new.kid);
  return null;
end $$;
create trigger signing_keys_notify after insert or update on signing_keys
  for each row execute function notify_keyring_change();

-- Users: SSO identity is (issuer, subject), never the e-mail alone.
alter table users
  add column sso_issuer text,
  add column sso_subject text,
  add column deactivated_at timestamptz,
  add constraint users_sso_identity_check check ((sso_issuer is null) = (sso_subject is null));
create unique index users_sso_identity_key on users (tenant_id, sso_issuer, sso_subject)
  where sso_issuer is not null;

create table groups (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  display_name text not null constraint groups_display_name_check check (length(display_name) between 1 and 256),
  display_name_normalized text not null
    constraint groups_display_name_normalized_check check (display_name_normalized = lower(display_name)),
  external_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint groups_tenant_display_name_key unique (tenant_id, display_name_normalized)
);
create trigger groups_updated_at before update on groups
  for each row execute function set_updated_at();

create table group_members (
  tenant_id uuid not null,
  group_id uuid not null,
  user_id uuid not null,
  added_at timestamptz not null default now(),
  primary key (tenant_id, group_id, user_id),
  constraint group_members_group_fkey foreign key (tenant_id, group_id)
    references groups (tenant_id, id) on delete cascade,
  constraint group_members_user_fkey foreign key (tenant_id, user_id)
    references users (tenant_id, id) on delete cascade
);
create index group_members_user_idx on group_members (tenant_id, user_id);

-- A role granted to a user or a group, tenant-wide (location_id null) or for
-- one location. `source` tells which grants an SSO login may rewrite (its
-- own, from the IdP's groups claim) and which an admin made by hand.
create table role_grants (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  role text not null constraint role_grants_role_check
    check (role in ('owner', 'admin', 'compliance_manager', 'location_manager', 'auditor', 'staff')),
  user_id uuid,
  group_id uuid,
  location_id uuid,
  source text not null default 'manual' constraint role_grants_source_check
    check (source in ('manual', 'sso', 'scim', 'operator')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint role_grants_grantee_check check ((user_id is null) <> (group_id is null)),
  constraint role_grants_user_fkey foreign key (tenant_id, user_id)
    references users (tenant_id, id) on delete cascade,
  constraint role_grants_group_fkey foreign key (tenant_id, group_id)
    references groups (tenant_id, id) on delete cascade,
  constraint role_grants_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade
);
create unique index role_grants_key on role_grants
  (tenant_id, coalesce(user_id, group_id), role, coalesce(location_id, '00000000-0000-0000-0000-000000000000'::uuid), source);
create index role_grants_user_idx on role_grants (tenant_id, user_id) where user_id is not null;
create index role_grants_group_idx on role_grants (tenant_id, group_id) where group_id is not null;

-- Tokens of a user issued before `revoked_before` are dead. Written when a
-- user is deactivated or their roles change; every replica keeps the recent
-- rows in memory (loaded at start, then pushed by NOTIFY), so checking a
-- token costs no database round trip.
create table token_revocations (
  tenant_id uuid not null,
  user_id uuid not null,
  revoked_before timestamptz not null,
  primary key (tenant_id, user_id),
  constraint token_revocations_user_fkey foreign key (tenant_id, user_id)
    references users (tenant_id, id) on delete cascade
);

-- Server-side browser sessions. The cookie holds 32 random bytes; only their
-- SHA-256 is stored, so a database reader cannot ride a session.
create table sessions (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  token_hash bytea not null constraint sessions_token_hash_check check (length(token_hash) = 32),
  user_id uuid not null,
  connection_id uuid,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  idle_expires_at timestamptz not null,
  absolute_expires_at timestamptz not null,
  ended_at timestamptz,
  end_reason text,
  ip inet,
  primary key (tenant_id, id),
  constraint sessions_token_hash_key unique (token_hash),
  constraint sessions_user_fkey foreign key (tenant_id, user_id)
    references users (tenant_id, id) on delete cascade
);
create index sessions_user_idx on sessions (tenant_id, user_id) where ended_at is null;

-- Per-tenant OIDC connections to the chain's identity provider.
create table sso_connections (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  name text not null constraint sso_connections_name_check check (length(name) between 1 and 100),
  issuer text not null constraint sso_connections_issuer_check
    check (issuer ~ '^https?://[^\s/?#]+(/[^\s?#]*)?$' and length(issuer) <= 500),
  client_id text not null constraint sso_connections_client_id_check check (length(client_id) between 1 and 500),
  client_secret_sealed bytea not null,
  scopes text[] not null default '{openid,email,profile}',
  email_claim text not null default 'email',
  name_claim text not null default 'name',
  groups_claim text not null default 'groups',
  -- [{"group": "kitchen-admins", "role": "admin", "locationId": null}, ...]
  role_mappings jsonb not null default '[]'
    constraint sso_connections_role_mappings_check check (jsonb_typeof(role_mappings) = 'array'),
  provisioning text not null default 'jit' constraint sso_connections_provisioning_check
    check (provisioning in ('jit', 'scim_only', 'jit_then_scim')),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint sso_connections_issuer_key unique (tenant_id, issuer)
);
create trigger sso_connections_updated_at before update on sso_connections
  for each row execute function set_updated_at();

-- E-mail domains routed to a connection. A domain routes logins only once
-- verified, and a verified domain belongs to one tenant (the partial unique
-- index); unverified claims never collide, so adding one reveals nothing.
create table sso_domains (
  tenant_id uuid not null,
  domain text not null constraint sso_domains_domain_check
    check (domain = lower(domain) and domain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$'),
  connection_id uuid not null,
  verification_token text not null,
  verified_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (tenant_id, domain),
  constraint sso_domains_connection_fkey foreign key (tenant_id, connection_id)
    references sso_connections (tenant_id, id) on delete cascade
);
create unique index sso_domains_verified_key on sso_domains (domain) where verified_at is not null;

do $$
declare t text;
begin
  foreach t in array array['groups', 'group_members', 'role_grants', 'token_revocations',
                           'sessions', 'sso_connections', 'sso_domains'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
      with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))$p$, t);
  end loop;
end $$;
grant select, insert, update, delete on groups, group_members, role_grants, sso_connections, sso_domains to prep_app;
grant select, insert, update on token_revocations, sessions to prep_app;

-- Security events that may precede any tenant (a forged token, a bad login
-- callback). Global and write-only for the runtime role: operators read
-- them, tenants never do. `claimed_tenant` is what the request claimed,
-- which is not proof of anything.
create table security_events (
  id uuid primary key default gen_random_uuid(),
  occurred_at timestamptz not null default now(),
  kind text not null constraint security_events_kind_check check (length(kind) between 1 and 64),
  reason text not null constraint security_events_reason_check check (length(reason) <= 500),
  claimed_tenant uuid,
  request_id text,
  ip inet
);
create index security_events_time_idx on security_events (occurred_at desc);
grant insert on security_events to prep_app;

-- Location reach. Within a tenant, a principal whose roles are all bound to
-- some locations sees only those: `app.location_ids` holds them as a uuid[]
-- literal ('' or unset: the whole tenant). Restrictive policies AND this
-- with tenant isolation, so no resolver can forget it.
create function app_location_scope() returns uuid[]
language sql stable
set search_path = pg_catalog, public
as $$ select nullif(current_setting('app.location_ids', true), '')::uuid[] $$;
grant execute on function app_location_scope() to prep_app;

create policy location_scope on locations as restrictive
  using ((select app_location_scope()) is null or id = any ((select app_location_scope())::uuid[]));
do $$
declare t text;
begin
  foreach t in array array['employees', 'permits', 'inspections', 'location_requirement_statuses', 'alerts'] loop
    execute format($p$create policy location_scope on %I as restrictive
      using ((select app_location_scope()) is null or location_id = any ((select app_location_scope())::uuid[]))$p$, t);
  end loop;
end $$;
create policy location_scope on credentials as restrictive
  using ((select app_location_scope()) is null or exists (
    select 1 from employees e
    where e.tenant_id = credentials.tenant_id and e.id = credentials.employee_id
      and e.location_id = any ((select app_location_scope())::uuid[])));
create policy location_scope on findings as restrictive
  using ((select app_location_scope()) is null or exists (
    select 1 from inspections i
    where i.tenant_id = findings.tenant_id and i.id = findings.inspection_id
      and i.location_id = any ((select app_location_scope())::uuid[])));

-- Revocations reach every replica at once: the trigger NOTIFYs on commit.
create function notify_token_revocation() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  perform pg_notify('prep_token_revocations',
    new.tenant_id::text || ' ' || new.user_id::text || ' ' || extract(epoch from new.revoked_before)::text);
  return new;
end $$;
create trigger token_revocations_notify after insert or update on token_revocations
  for each row execute function notify_token_revocation();

-- Deactivating a user ends their sessions and their tokens in the same
-- transaction, whoever deactivates (an admin, SCIM, an operator).
create function end_access_of_deactivated_user() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  if old.active and not new.active then
    new.deactivated_at := now();
    update sessions set ended_at = now(), end_reason = 'deactivated'
      where tenant_id = new.tenant_id and user_id = new.id and ended_at is null;
    insert into token_revocations (tenant_id, user_id, revoked_before)
      values (new.tenant_id, new.id, now())
      on conflict (tenant_id, user_id) do update set revoked_before = excluded.revoked_before;
  elsif new.active and not old.active then
    new.deactivated_at := null;
  end if;
  return new;
end $$;
create trigger users_end_access before update of active on users
  for each row execute function end_access_of_deactivated_user();

-- Changing a user's roles retires the tokens that carry the old ones (a
-- token's roles are fixed when it is issued; sessions read roles live).
create function revoke_tokens_on_grant_change() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
declare g role_grants;
begin
  g := coalesce(new, old);
  insert into token_revocations (tenant_id, user_id, revoked_before)
    select g.tenant_id, u, now()
    from (select g.user_id as u where g.user_id is not null
          union
          select m.user_id from group_members m
          where g.group_id is not null and m.tenant_id = g.tenant_id and m.group_id = g.group_id) s
  on conflict (tenant_id, user_id) do update set revoked_before = excluded.revoked_before;
  return null;
end $$;
create trigger role_grants_revoke after insert or update or delete on role_grants
  for each row execute function revoke_tokens_on_grant_change();

create function revoke_tokens_on_membership_change() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
declare m group_members;
begin
  m := coalesce(new, old);
  if exists (select 1 from role_grants r where r.tenant_id = m.tenant_id and r.group_id = m.group_id) then
    insert into token_revocations (tenant_id, user_id, revoked_before)
      values (m.tenant_id, m.user_id, now())
      on conflict (tenant_id, user_id) do update set revoked_before = excluded.revoked_before;
  end if;
  return null;
end $$;
create trigger group_members_revoke after insert or delete on group_members
  for each row execute function revoke_tokens_on_membership_change();

-- Pre-tenant look-ups (SECURITY DEFINER, allow-listed, ids and flags only).

-- Recent revocations of every tenant, for a replica's in-memory list.
create function token_revocations_since(since timestamptz)
returns table (tenant_id uuid, user_id uuid, revoked_before timestamptz)
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select r.tenant_id, r.user_id, r.revoked_before from public.token_revocations r
  where r.revoked_before > since
$$;
grant select on token_revocations to prep_definer;
alter function token_revocations_since(timestamptz) owner to prep_definer;
revoke execute on function token_revocations_since(timestamptz) from public;
grant execute on function token_revocations_since(timestamptz) to prep_app;

-- The session behind a cookie: checks idle and absolute expiry and that the
-- user is still active, slides the idle window (at most one write a minute
-- per session), and returns the user's grants (direct and through groups)
-- as `role` / `role@location`, so a cookie costs one round trip.
create function session_resolve(hash bytea, idle_seconds integer)
returns table (tenant_id uuid, session_id uuid, user_id uuid, connection_id uuid,
               absolute_expires_at timestamptz, grants text[])
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
declare s record;
begin
  select x.tenant_id, x.id, x.user_id, x.connection_id, x.last_seen_at, x.idle_expires_at, x.absolute_expires_at
    into s from public.sessions x
    join public.users u on u.tenant_id = x.tenant_id and u.id = x.user_id
    where x.token_hash = hash and x.ended_at is null and u.active;
  if not found or s.idle_expires_at <= now() or s.absolute_expires_at <= now() then
    return;
  end if;
  if s.last_seen_at < now() - interval '60 seconds' then
    update public.sessions x set last_seen_at = now(),
      idle_expires_at = least(now() + make_interval(secs => idle_seconds), x.absolute_expires_at)
      where x.tenant_id = s.tenant_id and x.id = s.id;
  end if;
  return query
    select s.tenant_id, s.id, s.user_id, s.connection_id, s.absolute_expires_at,
      coalesce(array(
        select distinct g.role || coalesce('@' || g.location_id::text, '')
        from public.role_grants g
        where g.tenant_id = s.tenant_id
          and (g.user_id = s.user_id
               or g.group_id in (select m.group_id from public.group_members m
                                 where m.tenant_id = s.tenant_id and m.user_id = s.user_id))
      ), '{}');
end $$;
grant select (tenant_id, id, token_hash, user_id, connection_id, last_seen_at, idle_expires_at,
              absolute_expires_at, ended_at) on sessions to prep_definer;
grant update (last_seen_at, idle_expires_at) on sessions to prep_definer;
grant select (tenant_id, id, active) on users to prep_definer;
grant select (tenant_id, role, user_id, group_id, location_id) on role_grants to prep_definer;
grant select (tenant_id, group_id, user_id) on group_members to prep_definer;
alter function session_resolve(bytea, integer) owner to prep_definer;
revoke execute on function session_resolve(bytea, integer) from public;
grant execute on function session_resolve(bytea, integer) to prep_app;

-- Identifier-first login: which tenant and connection own a verified
-- e-mail domain. Unverified domains and disabled connections route nowhere.
create function sso_connection_for_domain(email_domain text)
returns table (tenant_id uuid, connection_id uuid)
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select d.tenant_id, d.connection_id
  from public.sso_domains d
  join public.sso_connections c on c.tenant_id = d.tenant_id and c.id = d.connection_id
  where d.domain = email_domain and d.verified_at is not null and c.enabled
$$;
grant select (tenant_id, domain, connection_id, verified_at) on sso_domains to prep_definer;
grant select (tenant_id, id, enabled) on sso_connections to prep_definer;
alter function sso_connection_for_domain(text) owner to prep_definer;
revoke execute on function sso_connection_for_domain(text) from public;
grant execute on function sso_connection_for_domain(text) to prep_app;
