-- Pre-tenant look-up by slug, for operator commands now and for login by
-- tenant slug later. Slugs are public names (they appear in sign-in URLs),
-- so confirming that one exists reveals nothing a tenant keeps private;
-- the function returns the id only.
create function tenant_id_by_slug(tenant_slug text)
returns uuid
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select t.id from public.tenants t where t.slug = tenant_slug
$$;
grant select (id, slug) on tenants to prep_definer;
alter function tenant_id_by_slug(text) owner to prep_definer;
revoke execute on function tenant_id_by_slug(text) from public;
grant execute on function tenant_id_by_slug(text) to prep_app;
