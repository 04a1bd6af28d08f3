-- Sandboxes end. A self-service sandbox is reachable only through its keys
-- (and the short-lived tokens they mint); once no key is live and the last
-- token a key could have minted has lapsed, nobody can reach it again, and
-- its data goes instead of piling up forever. `grace` is that token
-- lifetime. A sandbox that never had a key (made by an operator, such as
-- the development `sandbox` tenant) is reached with operator-minted tokens
-- and never ends this way.

-- Whether sandbox `tenant` has ended: it had keys, and each expired or was
-- revoked more than `grace` ago. Used by both functions below, so they can
-- never disagree.
create function sandbox_has_ended(tenant uuid, grace interval)
returns boolean
language sql stable
set search_path = pg_catalog, public
as $$
  select exists (select 1 from public.sandbox_keys k where k.tenant_id = tenant)
    and not exists (
      select 1 from public.sandbox_keys k
      where k.tenant_id = tenant
        and least(coalesce(k.revoked_at, 'infinity'), k.expires_at) > now() - grace
    )
$$;
revoke execute on function sandbox_has_ended(uuid, interval) from public;

-- Ended sandboxes, oldest first, before any tenant is known (the sweeper
-- asks). Ids only.
create function sandboxes_ended(grace interval, max_count integer)
returns setof uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select t.id
  from public.tenants t
  where t.is_sandbox and public.sandbox_has_ended(t.id, grace)
  order by t.created_at
  limit max_count
$$;
grant select (id, is_sandbox, created_at) on tenants to prep_definer;
grant select (tenant_id, expires_at, revoked_at) on sandbox_keys to prep_definer;
grant execute on function sandbox_has_ended(uuid, interval) to prep_definer;
alter function sandboxes_ended(interval, integer) owner to prep_definer;
revoke execute on function sandboxes_ended(interval, integer) from public;
grant execute on function sandboxes_ended(interval, integer) to prep_app;

-- Deletes one ended sandbox: every row of the tenant, then the tenant. It
-- runs as the tables' owner, which row-level security still binds (it is
-- forced): the function first makes `target` the transaction's tenant, so
-- no statement below can see, let alone delete, another tenant's rows. It
-- checks again, under that scope, that the tenant is a sandbox that has
-- ended, so a caller can never end a live tenant or a live sandbox; then
-- it answers whether it deleted anything.
create function sandbox_purge(target uuid, grace interval)
returns boolean
language plpgsql volatile security definer
set search_path = pg_catalog, public
as $$
begin
  perform set_config('app.tenant_id', target::text, true);
  if not exists (
    select 1 from public.tenants t
    where t.id = target and t.is_sandbox and public.sandbox_has_ended(t.id, grace)
  ) then
    return false;
  end if;
  -- Children before parents where a key has no cascade. Grants, group
  -- memberships and location assignments go while their users still exist:
  -- their triggers record token revocations for those users.
  delete from public.role_grants;
  delete from public.group_members;
  delete from public.user_locations;
  delete from public.connectors;
  delete from public.sso_connections;
  delete from public.employees;
  delete from public.locations;
  delete from public.groups;
  delete from public.users;
  delete from public.audit_events;
  delete from public.idempotency_keys;
  delete from public.scim_tokens;
  delete from public.tenants where id = target;
  return true;
end
$$;
alter function sandbox_purge(uuid, interval) owner to prep_owner;
revoke execute on function sandbox_purge(uuid, interval) from public;
grant execute on function sandbox_purge(uuid, interval) to prep_app;
