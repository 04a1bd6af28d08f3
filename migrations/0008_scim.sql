-- SCIM 2.0 provisioning (RFC 7643/7644): the IdP's view of users and groups,
-- per-tenant SCIM bearer tokens, location assignments, tombstones.

-- Users carry the SCIM core and enterprise attributes. `user_name` is the
-- IdP's login name (defaults to the e-mail for users that SSO or an admin
-- made); multi-valued and complex attributes are jsonb in their SCIM shape,
-- so filters translate to SQL over them without a table per attribute.
alter table users
  add column user_name text,
  add column external_id text constraint users_external_id_check check (length(external_id) between 1 and 256),
  add column name jsonb not null default '{}',
  add column emails jsonb not null default '[]',
  add column phone_numbers jsonb not null default '[]',
  add column addresses jsonb not null default '[]',
  add column profile jsonb not null default '{}',
  add column enterprise jsonb not null default '{}',
  add column deleted_at timestamptz;
update users set user_name = email;
alter table users
  alter column user_name set not null,
  add constraint users_user_name_check check (length(user_name) between 1 and 320),
  add column user_name_normalized text generated always as (lower(user_name)) stored;
-- A tombstone keeps its row (audit actors, revocations) but frees its names.
create unique index users_user_name_key on users (tenant_id, user_name_normalized) where deleted_at is null;
create unique index users_external_id_key on users (tenant_id, external_id)
  where external_id is not null and deleted_at is null;

create function default_user_name() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  new.user_name := coalesce(new.user_name, new.email);
  return new;
end $$;
create trigger users_default_user_name before insert on users
  for each row execute function default_user_name();

-- Deleted users are tombstones: invisible to the runtime role on every path
-- (SCIM, GraphQL, sign-in), kept for the audit trail and so a deleted
-- user's revocation outlives them.
create policy users_live on users as restrictive for select to prep_app
  using (deleted_at is null);

-- Deleting a user (SCIM DELETE): the runtime role cannot see a tombstone, so
-- it cannot write one either; this function, owned by the tables' owner and
-- still under tenant isolation, does. Personal data goes; the id, userName
-- and externalId stay for the audit trail. Deactivation (the trigger) ends
-- sessions and tokens in the same transaction.
create function tombstone_user(p_user uuid) returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
begin
  delete from group_members where user_id = p_user;
  delete from role_grants where user_id = p_user;
  delete from user_locations where user_id = p_user;
  update users set deleted_at = now(), active = false,
    email = id::text || '@deleted.invalid', email_normalized = id::text || '@deleted.invalid',
    display_name = '', name = '{}', emails = '[]', phone_numbers = '[]', addresses = '[]',
    profile = '{}', enterprise = '{}', sso_issuer = null, sso_subject = null
  where id = p_user and deleted_at is null;
  return found;
end $$;
revoke execute on function tombstone_user(uuid) from public;
grant execute on function tombstone_user(uuid) to prep_app;

alter table groups
  add constraint groups_external_id_check check (length(external_id) between 1 and 256);
create unique index groups_external_id_key on groups (tenant_id, external_id) where external_id is not null;

-- An IdP's first import writes thousands of rows in seconds; re-analyse
-- these tables early so plans see the real tenant sizes soon after.
alter table users set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);
alter table group_members set (autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200);

-- A group's version (SCIM ETag, meta.lastModified) moves with its members.
create function touch_groups_of_members() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  update groups g set updated_at = now()
  from (select distinct tenant_id, group_id from changed) c
  where g.tenant_id = c.tenant_id and g.id = c.group_id and g.updated_at <> now();
  return null;
end $$;
create trigger group_members_touch_added after insert on group_members
  referencing new table as changed for each statement execute function touch_groups_of_members();
create trigger group_members_touch_removed after delete on group_members
  referencing old table as changed for each statement execute function touch_groups_of_members();

-- Deleting a group by any path (admin, SCIM) first removes its grants while
-- its members are still known, so their tokens are retired.
create function retire_group_grants() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  delete from role_grants where tenant_id = old.tenant_id and group_id = old.id;
  return old;
end $$;
create trigger groups_retire_grants before delete on groups
  for each row execute function retire_group_grants();

-- Where a user works (the Prep SCIM extension's store numbers). A grant
-- "at assigned locations" (say, `staff` to the group "Line cooks") gives
-- each member the role at each of their own locations.
create table user_locations (
  tenant_id uuid not null,
  user_id uuid not null,
  location_id uuid not null,
  primary key (tenant_id, user_id, location_id),
  constraint user_locations_user_fkey foreign key (tenant_id, user_id)
    references users (tenant_id, id) on delete cascade,
  constraint user_locations_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade
);
create index user_locations_location_idx on user_locations (tenant_id, location_id);

alter table role_grants
  add column at_assigned_locations boolean not null default false,
  add constraint role_grants_assigned_check check (
    not at_assigned_locations or (location_id is null and role in ('location_manager', 'staff')));
drop index role_grants_key;
create unique index role_grants_key on role_grants
  (tenant_id, coalesce(user_id, group_id), role,
   coalesce(location_id, '00000000-0000-0000-0000-000000000000'::uuid), at_assigned_locations, source);

-- Assignments change what "assigned locations" grants mean: retire tokens.
create function revoke_tokens_on_assignment_change() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
declare a user_locations;
begin
  a := coalesce(new, old);
  insert into token_revocations (tenant_id, user_id, revoked_before)
    values (a.tenant_id, a.user_id, now())
    on conflict (tenant_id, user_id) do update set revoked_before = excluded.revoked_before;
  return null;
end $$;
create trigger user_locations_revoke after insert or delete on user_locations
  for each row execute function revoke_tokens_on_assignment_change();

-- The effective grants of a user as `role` / `role@location`: direct and
-- through groups, with "at assigned locations" grants expanded. One
-- definition shared by sessions and token minting.
create function user_grants(p_tenant uuid, p_user uuid) returns text[]
language sql stable
set search_path = pg_catalog, public
as $$
  select coalesce(array(
    select distinct g.role || coalesce('@' || coalesce(g.location_id, a.location_id)::text, '')
    from role_grants g
    left join user_locations a
      on g.at_assigned_locations and a.tenant_id = p_tenant and a.user_id = p_user
    where g.tenant_id = p_tenant
      and (g.user_id = p_user
           or g.group_id in (select m.group_id from group_members m
                             where m.tenant_id = p_tenant and m.user_id = p_user))
      and (not g.at_assigned_locations or a.location_id is not null)
  ), '{}')
$$;
grant execute on function user_grants(uuid, uuid) to prep_app, prep_definer;
grant select (tenant_id, user_id, location_id) on user_locations to prep_definer;
grant select (at_assigned_locations) on role_grants to prep_definer;

create or replace function session_resolve(hash bytea, idle_seconds integer)
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
      public.user_grants(s.tenant_id, s.user_id);
end $$;

-- How an SSO sign-in finds the user SCIM provisioned before it first signs
-- in: the IdP's subject is the SCIM externalId, or its login name is the
-- SCIM userName.
alter table sso_connections
  add column scim_link text not null default 'user_name'
    constraint sso_connections_scim_link_check check (scim_link in ('user_name', 'external_id'));

-- SCIM provisioning is an actor of its own in the audit trail (its token id).
alter table audit_events drop constraint audit_events_actor_type_check,
  add constraint audit_events_actor_type_check
    check (actor_type in ('user', 'connector', 'system', 'operator', 'scim'));

-- SCIM bearer tokens: the token, never a header or body field, decides the
-- tenant. Only an HMAC of the secret is stored.
create table scim_tokens (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  name text not null constraint scim_tokens_name_check check (length(name) between 1 and 100),
  secret_hash bytea not null constraint scim_tokens_secret_hash_check check (length(secret_hash) = 32),
  created_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  last_used_at timestamptz,
  replaced_by uuid,
  primary key (tenant_id, id),
  constraint scim_tokens_id_key unique (id)
);

do $$
declare t text;
begin
  foreach t in array array['user_locations', 'scim_tokens'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
      with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))$p$, t);
  end loop;
end $$;
create policy location_scope on user_locations as restrictive
  using ((select app_location_scope()) is null or location_id = any ((select app_location_scope())::uuid[]));
grant select, insert, delete on user_locations to prep_app;
grant select, insert, update on scim_tokens to prep_app;

-- The tenant behind a SCIM token id, before any tenant is known; the caller
-- compares the HMAC in constant time. Marks use at most once a minute.
create function scim_token_resolve(token_id uuid)
returns table (tenant_id uuid, secret_hash bytea, expires_at timestamptz, revoked_at timestamptz)
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
begin
  update public.scim_tokens t set last_used_at = now()
    where t.id = token_id and (t.last_used_at is null or t.last_used_at < now() - interval '60 seconds');
  return query select t.tenant_id, t.secret_hash, t.expires_at, t.revoked_at
    from public.scim_tokens t where t.id = token_id;
end $$;
grant select (tenant_id, id, secret_hash, expires_at, revoked_at, last_used_at) on scim_tokens to prep_definer;
grant update (last_used_at) on scim_tokens to prep_definer;
alter function scim_token_resolve(uuid) owner to prep_definer;
revoke execute on function scim_token_resolve(uuid) from public;
grant execute on function scim_token_resolve(uuid) to prep_app;
