-- Tenants and their users.
--
-- Every tenant-owned table follows the same pattern: tenant_id first in the
-- primary key and in every unique and foreign key (so uniqueness and
-- references never cross tenants, and the schema can be distributed by
-- tenant), RLS enabled and forced, and one policy whose USING and WITH CHECK
-- compare tenant_id with the transaction-local `app.tenant_id` setting. The
-- setting is read once per statement through `(select ...)`; `nullif` turns
-- the '' a session reads back after a transaction used it into NULL, and
-- NULL matches no row.

create table tenants (
  id uuid primary key default gen_random_uuid(),
  slug text not null constraint tenants_slug_key unique
    constraint tenants_slug_check check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$'),
  name text not null constraint tenants_name_check check (length(name) between 1 and 200),
  plan text not null default 'standard'
    constraint tenants_plan_check check (plan in ('free', 'standard', 'enterprise')),
  modules text[] not null default '{}',
  is_sandbox boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create trigger tenants_updated_at before update on tenants
  for each row execute function set_updated_at();

alter table tenants enable row level security;
alter table tenants force row level security;
-- A tenant sees and changes only its own row. Creating a tenant is done by
-- the operator CLI, which sets the new id as the transaction's tenant first.
create policy tenant_isolation on tenants
  using (id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
  with check (id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
grant select, insert, update on tenants to prep_app;

create table users (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  email text not null constraint users_email_check check (length(email) between 3 and 320),
  -- Compared with `=` so the unique index serves look-ups under RLS (lower()
  -- is not LEAKPROOF and would not use the index).
  email_normalized text not null
    constraint users_email_normalized_check check (email_normalized = lower(email)),
  display_name text not null default '',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint users_tenant_email_key unique (tenant_id, email_normalized)
);
create trigger users_updated_at before update on users
  for each row execute function set_updated_at();

alter table users enable row level security;
alter table users force row level security;
create policy tenant_isolation on users
  using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
  with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid));
grant select, insert, update on users to prep_app;
