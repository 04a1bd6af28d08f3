-- The facts the rules engine reads: locations (kitchens), employees and
-- their credentials, permits, inspections and their findings. Pattern as in
-- 0003: tenant_id leads every key, RLS forced, one isolation policy.

create table locations (
  tenant_id uuid not null references tenants (id),
  id uuid not null default gen_random_uuid(),
  store_number text not null constraint locations_store_number_check
    check (store_number ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$'),
  name text not null constraint locations_name_check check (length(name) between 1 and 200),
  address_line1 text not null,
  city text not null,
  state_code text not null constraint locations_state_code_check check (state_code ~ '^[A-Z]{2}$'),
  postal_code text not null constraint locations_postal_code_check check (postal_code ~ '^[0-9]{5}(-[0-9]{4})?$'),
  -- the most specific jurisdiction (city, else county); the chain follows parent_id
  jurisdiction_id uuid not null references jurisdictions (id),
  status text not null default 'active'
    constraint locations_status_check check (status in ('active', 'closed')),
  external_id text,
  -- summary written by the rules engine, with the moment it must look again
  compliance_status text not null default 'compliant'
    constraint locations_compliance_status_check check (compliance_status in ('compliant', 'at_risk', 'non_compliant')),
  compliance_reason text not null default '',
  compliance_evaluated_at timestamptz,
  compliance_review_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint locations_tenant_store_number_key unique (tenant_id, store_number),
  constraint locations_tenant_external_id_key unique (tenant_id, external_id)
);
create index locations_name_idx on locations (tenant_id, name, id);
create index locations_state_idx on locations (tenant_id, state_code, name, id);
create index locations_review_idx on locations (compliance_review_at) where status = 'active';
create trigger locations_updated_at before update on locations
  for each row execute function set_updated_at();

create table employees (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  location_id uuid not null,
  external_id text,
  first_name text not null constraint employees_first_name_check check (length(first_name) between 1 and 100),
  last_name text not null constraint employees_last_name_check check (length(last_name) between 1 and 100),
  job_title text not null default '',
  -- whether the job handles unpackaged food (food-handler rules apply)
  handles_food boolean not null default true,
  hire_date date not null,
  status text not null default 'active'
    constraint employees_status_check check (status in ('active', 'on_leave', 'terminated')),
  terminated_on date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint employees_location_fkey foreign key (tenant_id, location_id) references locations (tenant_id, id),
  constraint employees_tenant_external_id_key unique (tenant_id, external_id),
  constraint employees_terminated_check check ((status = 'terminated') = (terminated_on is not null))
);
create index employees_location_idx on employees (tenant_id, location_id, last_name, first_name, id);
create index employees_name_idx on employees (tenant_id, last_name, first_name, id);
create trigger employees_updated_at before update on employees
  for each row execute function set_updated_at();

create table credentials (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  employee_id uuid not null,
  kind text not null constraint credentials_kind_check
    check (kind in ('food_handler_card', 'food_protection_manager', 'allergen_awareness')),
  issuer text not null default '',
  certificate_number text,
  issued_on date not null,
  expires_on date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint credentials_employee_fkey foreign key (tenant_id, employee_id)
    references employees (tenant_id, id) on delete cascade,
  constraint credentials_dates_check check (expires_on > issued_on)
);
create index credentials_employee_idx on credentials (tenant_id, employee_id);
create index credentials_expiry_idx on credentials (tenant_id, expires_on, id);
create trigger credentials_updated_at before update on credentials
  for each row execute function set_updated_at();

create table permits (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  location_id uuid not null,
  kind text not null constraint permits_kind_check
    check (kind in ('health', 'food_dealer', 'fire', 'business_license', 'liquor')),
  permit_number text not null constraint permits_number_check check (length(permit_number) between 1 and 64),
  issuing_authority text not null default '',
  issued_on date not null,
  expires_on date not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint permits_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade,
  constraint permits_tenant_kind_number_key unique (tenant_id, kind, permit_number),
  constraint permits_dates_check check (expires_on > issued_on)
);
create index permits_location_idx on permits (tenant_id, location_id, expires_on);
create index permits_expiry_idx on permits (tenant_id, expires_on, id);
create trigger permits_updated_at before update on permits
  for each row execute function set_updated_at();

create table inspections (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  location_id uuid not null,
  inspected_on date not null,
  kind text not null default 'routine'
    constraint inspections_kind_check check (kind in ('routine', 'follow_up', 'complaint', 'pre_opening')),
  agency text not null default '',
  score integer constraint inspections_score_check check (score between 0 and 100),
  result text not null constraint inspections_result_check check (result in ('pass', 'conditional', 'fail')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint inspections_location_fkey foreign key (tenant_id, location_id)
    references locations (tenant_id, id) on delete cascade
);
create index inspections_location_idx on inspections (tenant_id, location_id, inspected_on desc, id);
create index inspections_date_idx on inspections (tenant_id, inspected_on desc, id);
create trigger inspections_updated_at before update on inspections
  for each row execute function set_updated_at();

create table findings (
  tenant_id uuid not null,
  id uuid not null default gen_random_uuid(),
  inspection_id uuid not null,
  code text not null constraint findings_code_check check (length(code) between 1 and 32),
  description text not null constraint findings_description_check check (length(description) between 1 and 2000),
  severity text not null constraint findings_severity_check check (severity in ('critical', 'major', 'minor')),
  corrective_action text not null default '',
  due_on date,
  resolved_on date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint findings_inspection_fkey foreign key (tenant_id, inspection_id)
    references inspections (tenant_id, id) on delete cascade
);
create index findings_inspection_idx on findings (tenant_id, inspection_id, id);
create index findings_open_idx on findings (tenant_id, due_on) where resolved_on is null;
create trigger findings_updated_at before update on findings
  for each row execute function set_updated_at();

do $$
declare t text;
begin
  foreach t in array array['locations', 'employees', 'credentials', 'permits', 'inspections', 'findings'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))
      with check (tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid))$p$, t);
    execute format('grant select, insert, update, delete on %I to prep_app', t);
  end loop;
end $$;
