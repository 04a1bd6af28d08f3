-- What the rules engine writes (per-requirement status, alerts) and the
-- append-only audit trail.

create table location_requirement_statuses (
  tenant_id uuid not null,
  location_id uuid not null,
  requirement_id uuid not null references requirements (id),
  status text not null constraint lrs_status_check check (status in ('compliant', 'at_risk', 'non_compliant')),
  reason text not null,
  evaluated_at timestamptz not null,
  primary key (tenant_id, location_id, requirement_id),
  constraint lrs_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade
);

create table alerts (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  location_id uuid not null,
  requirement_id uuid not null references requirements (id),
  kind text not null constraint alerts_kind_check check (kind in (
    'credential_missing', 'credential_expiring', 'credential_expired',
    'manager_missing', 'manager_expiring',
    'permit_missing', 'permit_expiring', 'permit_lapsed',
    'inspection_overdue', 'finding_open', 'finding_overdue')),
  severity text not null constraint alerts_severity_check check (severity in ('info', 'warning', 'critical')),
  -- the fact the alert is about: an employee, permit, finding, or the location itself
  subject_type text not null constraint alerts_subject_type_check
    check (subject_type in ('employee', 'credential', 'permit', 'finding', 'location')),
  subject_id uuid not null,
  message text not null,
  due_on date,
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  primary key (tenant_id, id),
  constraint alerts_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade
);
-- one open alert per location, requirement, kind and subject (two permit
-- requirements can both be missing at one location): the engine upserts on it
create unique index alerts_open_key on alerts (tenant_id, location_id, requirement_id, kind, subject_id)
  where resolved_at is null;
create index alerts_list_idx on alerts (tenant_id, created_at desc, id) where resolved_at is null;

-- Append-only: the runtime role may insert and read, never update or delete.
create table audit_events (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  occurred_at timestamptz not null default now(),
  actor_type text not null constraint audit_events_actor_type_check
    check (actor_type in ('user', 'connector', 'system', 'operator')),
  actor_id uuid,
  action text not null,
  target_type text not null,
  target_id uuid,
  request_id text,
  details jsonb not null default '{}',
  primary key (tenant_id, id)
);
create index audit_events_time_idx on audit_events (tenant_id, occurred_at desc, id);

do $$
declare t text;
begin
  foreach t in array array['location_requirement_statuses', 'alerts', 'audit_events'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
      with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))$p$, t);
  end loop;
end $$;
grant select, insert, update, delete on location_requirement_statuses to prep_app;
grant select, insert, update on alerts to prep_app;
grant select, insert on audit_events to prep_app;

-- The compliance review queue: locations whose status may have changed with
-- the passing of time (a card expired overnight) though no fact changed.
-- The gateway's reviewer re-evaluates each inside that tenant's own scope;
-- this function only tells it which (tenant, location) pairs are due, so it
-- must see across tenants: SECURITY DEFINER, owned by prep_definer, fixed
-- search_path, and it returns ids only.
create function compliance_reviews_due(max_rows integer)
returns table (tenant_id uuid, location_id uuid)
language sql stable security definer
set search_path = pg_catalog, public
as $$
  select l.tenant_id, l.id
  from public.locations l
  where l.status = 'active' and l.compliance_review_at <= now()
  order by l.compliance_review_at
  limit least(greatest(max_rows, 0), 1000)
$$;
grant select (tenant_id, id, status, compliance_review_at) on locations to prep_definer;
alter function compliance_reviews_due(integer) owner to prep_definer;
revoke execute on function compliance_reviews_due(integer) from public;
grant execute on function compliance_reviews_due(integer) to prep_app;
