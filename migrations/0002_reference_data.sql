-- Global reference data: jurisdictions and the requirements they impose.
-- Shared by every tenant and read-only for the runtime role. Ids derive from
-- the stable code (md5(code)::uuid) so every environment agrees on them.

create table jurisdictions (
  id uuid primary key,
  code text not null constraint jurisdictions_code_key unique,
  level text not null constraint jurisdictions_level_check
    check (level in ('federal', 'state', 'county', 'city')),
  name text not null,
  parent_id uuid references jurisdictions (id),
  state_code text constraint jurisdictions_state_code_check check (state_code ~ '^[A-Z]{2}$'),
  constraint jurisdictions_parent_check check ((level = 'federal') = (parent_id is null))
);
create index jurisdictions_parent_idx on jurisdictions (parent_id);

-- A requirement's rule is typed: `rule` names the evaluator in the rules
-- engine and the nullable columns are its parameters, checked per rule.
create table requirements (
  id uuid primary key,
  jurisdiction_id uuid not null references jurisdictions (id),
  code text not null constraint requirements_code_key unique,
  kind text not null constraint requirements_kind_check
    check (kind in ('credential', 'permit', 'inspection', 'training')),
  title text not null,
  summary text not null,
  citation text not null,
  rule text not null constraint requirements_rule_check
    check (rule in ('food_handler_card', 'certified_manager', 'health_permit', 'routine_inspection')),
  credential_kind text,
  permit_kind text,
  grace_days integer constraint requirements_grace_days_check check (grace_days >= 0),
  validity_months integer constraint requirements_validity_months_check check (validity_months > 0),
  min_per_location integer constraint requirements_min_per_location_check check (min_per_location > 0),
  interval_days integer constraint requirements_interval_days_check check (interval_days > 0),
  effective_from date not null,
  effective_to date,
  constraint requirements_params_check check (
    case rule
      when 'food_handler_card' then credential_kind is not null and grace_days is not null
      when 'certified_manager' then credential_kind is not null and min_per_location is not null
      when 'health_permit' then permit_kind is not null
      when 'routine_inspection' then interval_days is not null
    end),
  constraint requirements_effective_check check (effective_to is null or effective_to > effective_from)
);
create index requirements_jurisdiction_idx on requirements (jurisdiction_id);

grant select on jurisdictions, requirements to prep_app;

insert into jurisdictions (id, code, level, name, parent_id, state_code)
select md5(j.code)::uuid, j.code, j.level, j.name,
       case when j.parent is null then null else md5(j.parent)::uuid end, j.state_code
from (values
  ('US', 'federal', 'United States', null, null),
  ('US-CA', 'state', 'California', 'US', 'CA'),
  ('US-TX', 'state', 'Texas', 'US', 'TX'),
  ('US-FL', 'state', 'Florida', 'US', 'FL'),
  ('US-IL', 'state', 'Illinois', 'US', 'IL'),
  ('US-CA-LOS-ANGELES-COUNTY', 'county', 'Los Angeles County', 'US-CA', 'CA'),
  ('US-CA-SAN-DIEGO-COUNTY', 'county', 'San Diego County', 'US-CA', 'CA'),
  ('US-CA-SAN-FRANCISCO-COUNTY', 'county', 'City and County of San Francisco', 'US-CA', 'CA'),
  ('US-TX-HARRIS-COUNTY', 'county', 'Harris County', 'US-TX', 'TX'),
  ('US-TX-DALLAS-COUNTY', 'county', 'Dallas County', 'US-TX', 'TX'),
  ('US-TX-TRAVIS-COUNTY', 'county', 'Travis County', 'US-TX', 'TX'),
  ('US-FL-MIAMI-DADE-COUNTY', 'county', 'Miami-Dade County', 'US-FL', 'FL'),
  ('US-FL-ORANGE-COUNTY', 'county', 'Orange County', 'US-FL', 'FL'),
  ('US-FL-HILLSBOROUGH-COUNTY', 'county', 'Hillsborough County', 'US-FL', 'FL'),
  ('US-IL-COOK-COUNTY', 'county', 'Cook County', 'US-IL', 'IL'),
  ('US-CA-LOS-ANGELES', 'city', 'Los Angeles', 'US-CA-LOS-ANGELES-COUNTY', 'CA'),
  ('US-CA-PASADENA', 'city', 'Pasadena', 'US-CA-LOS-ANGELES-COUNTY', 'CA'),
  ('US-CA-SAN-DIEGO', 'city', 'San Diego', 'US-CA-SAN-DIEGO-COUNTY', 'CA'),
  ('US-CA-SAN-FRANCISCO', 'city', 'San Francisco', 'US-CA-SAN-FRANCISCO-COUNTY', 'CA'),
  ('US-TX-HOUSTON', 'city', 'Houston', 'US-TX-HARRIS-COUNTY', 'TX'),
  ('US-TX-DALLAS', 'city', 'Dallas', 'US-TX-DALLAS-COUNTY', 'TX'),
  ('US-TX-AUSTIN', 'city', 'Austin', 'US-TX-TRAVIS-COUNTY', 'TX'),
  ('US-FL-MIAMI', 'city', 'Miami', 'US-FL-MIAMI-DADE-COUNTY', 'FL'),
  ('US-FL-ORLANDO', 'city', 'Orlando', 'US-FL-ORANGE-COUNTY', 'FL'),
  ('US-FL-TAMPA', 'city', 'Tampa', 'US-FL-HILLSBOROUGH-COUNTY', 'FL'),
  ('US-IL-CHICAGO', 'city', 'Chicago', 'US-IL-COOK-COUNTY', 'IL'),
  ('US-IL-EVANSTON', 'city', 'Evanston', 'US-IL-COOK-COUNTY', 'IL')
) as j (code, level, name, parent, state_code)
order by case j.level when 'federal' then 0 when 'state' then 1 when 'county' then 2 else 3 end;

insert into requirements (id, jurisdiction_id, code, kind, title, summary, citation, rule,
                          credential_kind, permit_kind, grace_days, validity_months,
                          min_per_location, interval_days, effective_from)
select md5(r.code)::uuid, md5(r.jurisdiction)::uuid, r.code, r.kind, r.title, r.summary, r.citation, r.rule,
       r.credential_kind, r.permit_kind, r.grace_days, r.validity_months, r.min_per_location,
       r.interval_days, r.effective_from::date
from (values
  ('CA-FOOD-HANDLER-CARD', 'US-CA', 'credential', 'California Food Handler Card',
   'Every food employee obtains a food handler card within 30 days of hire and renews it every 3 years.',
   'Cal. Health & Safety Code § 113948', 'food_handler_card', 'food_handler_card', null, 30, 36, null, null, '2011-07-01'),
  ('CA-CFPM', 'US-CA', 'credential', 'Certified Food Protection Manager',
   'At least one owner or employee per food facility holds a valid food protection manager certification (5 years).',
   'Cal. Health & Safety Code § 113947.1', 'certified_manager', 'food_protection_manager', null, null, 60, 1, null, '2011-07-01'),
  ('TX-FOOD-HANDLER', 'US-TX', 'credential', 'Texas Food Handler Certificate',
   'Food employees complete an accredited food handler program within 60 days of hire; valid 2 years.',
   '25 Tex. Admin. Code § 228.33', 'food_handler_card', 'food_handler_card', null, 60, 24, null, null, '2016-09-01'),
  ('TX-CFM', 'US-TX', 'credential', 'Texas Certified Food Manager',
   'Each food establishment employs at least one certified food manager (5 years).',
   '25 Tex. Admin. Code § 228.31', 'certified_manager', 'food_protection_manager', null, null, 60, 1, null, '2015-10-11'),
  ('FL-FOOD-EMPLOYEE-TRAINING', 'US-FL', 'training', 'Florida Food Employee Training',
   'Food employees complete approved food safety training within 60 days of hire; renew every 3 years.',
   'Fla. Stat. § 509.049', 'food_handler_card', 'food_handler_card', null, 60, 36, null, null, '2000-07-01'),
  ('FL-CFPM', 'US-FL', 'credential', 'Florida Certified Food Protection Manager',
   'Each licensed establishment has a certified food protection manager (5 years).',
   'Fla. Stat. § 509.039', 'certified_manager', 'food_protection_manager', null, null, 60, 1, null, '2000-07-01'),
  ('IL-FOOD-HANDLER', 'US-IL', 'training', 'Illinois Food Handler Training',
   'Food handlers complete ANSI-accredited training within 30 days of hire; renew every 3 years.',
   '410 ILCS 625/3.06', 'food_handler_card', 'food_handler_card', null, 30, 36, null, null, '2014-07-01'),
  ('IL-CFPM', 'US-IL', 'credential', 'Illinois Certified Food Protection Manager',
   'At least one certified food protection manager per establishment (5 years).',
   '410 ILCS 625/3.05', 'certified_manager', 'food_protection_manager', null, null, 60, 1, null, '2014-07-01'),
  ('LA-COUNTY-HEALTH-PERMIT', 'US-CA-LOS-ANGELES-COUNTY', 'permit', 'Public Health Permit',
   'A current annual public health permit for each retail food facility.',
   'Los Angeles County Code § 8.04.720', 'health_permit', null, 'health', null, 12, null, null, '1990-01-01'),
  ('LA-COUNTY-ROUTINE-INSPECTION', 'US-CA-LOS-ANGELES-COUNTY', 'inspection', 'Routine Inspection',
   'Routine inspection at least once a year; critical violations corrected by their due date.',
   'Los Angeles County Code § 8.04.225', 'routine_inspection', null, null, null, null, null, 365, '1998-01-01'),
  ('SD-COUNTY-HEALTH-PERMIT', 'US-CA-SAN-DIEGO-COUNTY', 'permit', 'Health Permit',
   'A current annual health permit from the Department of Environmental Health and Quality.',
   'San Diego County Code § 61.103', 'health_permit', null, 'health', null, 12, null, null, '1990-01-01'),
  ('SF-HEALTH-PERMIT', 'US-CA-SAN-FRANCISCO-COUNTY', 'permit', 'Health Permit to Operate',
   'A current annual health permit to operate a food establishment.',
   'San Francisco Health Code Art. 8 § 452', 'health_permit', null, 'health', null, 12, null, null, '1990-01-01'),
  ('HARRIS-COUNTY-FOOD-PERMIT', 'US-TX-HARRIS-COUNTY', 'permit', 'Food Establishment Permit',
   'A current annual food establishment permit.',
   'Harris County Food Regulations § 3', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01'),
  ('HOUSTON-FOOD-DEALER-PERMIT', 'US-TX-HOUSTON', 'permit', 'Food Dealer''s Permit',
   'A current annual food dealer''s permit from the Houston Health Department.',
   'Houston Code of Ordinances § 20-19', 'health_permit', null, 'food_dealer', null, 12, null, null, '2000-01-01'),
  ('HOUSTON-ROUTINE-INSPECTION', 'US-TX-HOUSTON', 'inspection', 'Routine Inspection',
   'Routine inspection at least once a year; violations corrected by their due date.',
   'Houston Code of Ordinances § 20-21', 'routine_inspection', null, null, null, null, null, 365, '2000-01-01'),
  ('DALLAS-COUNTY-FOOD-PERMIT', 'US-TX-DALLAS-COUNTY', 'permit', 'Food Establishment Permit',
   'A current annual food establishment permit.',
   'Dallas County Food Establishment Rules § 5', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01'),
  ('TRAVIS-COUNTY-FOOD-PERMIT', 'US-TX-TRAVIS-COUNTY', 'permit', 'Food Enterprise Permit',
   'A current annual food enterprise permit from Austin Public Health.',
   'Austin City Code § 10-3-61', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01'),
  ('MIAMI-DADE-ROUTINE-INSPECTION', 'US-FL-MIAMI-DADE-COUNTY', 'inspection', 'DBPR Routine Inspection',
   'Routine inspection at least once a year; high-priority violations corrected by their call-back date.',
   'Fla. Admin. Code R. 61C-1.002', 'routine_inspection', null, null, null, null, null, 365, '2000-01-01'),
  ('MIAMI-DADE-FOOD-LICENSE', 'US-FL-MIAMI-DADE-COUNTY', 'permit', 'Public Food Service License',
   'A current annual public food service establishment license.',
   'Fla. Stat. § 509.241', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01'),
  ('ORANGE-FOOD-LICENSE', 'US-FL-ORANGE-COUNTY', 'permit', 'Public Food Service License',
   'A current annual public food service establishment license.',
   'Fla. Stat. § 509.241', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01'),
  ('HILLSBOROUGH-FOOD-LICENSE', 'US-FL-HILLSBOROUGH-COUNTY', 'permit', 'Public Food Service License',
   'A current annual public food service establishment license.',
   'Fla. Stat. § 509.241', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01'),
  ('CHICAGO-RETAIL-FOOD-LICENSE', 'US-IL-CHICAGO', 'permit', 'Retail Food Establishment License',
   'A current retail food establishment license from the City of Chicago.',
   'Chicago Municipal Code § 4-8-010', 'health_permit', null, 'health', null, 24, null, null, '2000-01-01'),
  ('COOK-COUNTY-ROUTINE-INSPECTION', 'US-IL-COOK-COUNTY', 'inspection', 'Routine Inspection',
   'Routine inspection at least once a year; priority violations corrected by their due date.',
   'Cook County Food Service Sanitation Ordinance § 38-41', 'routine_inspection', null, null, null, null, null, 365, '2000-01-01'),
  ('COOK-COUNTY-HEALTH-PERMIT', 'US-IL-EVANSTON', 'permit', 'Food Establishment License',
   'A current annual food establishment license.',
   'Evanston City Code § 8-17-3', 'health_permit', null, 'health', null, 12, null, null, '2000-01-01')
) as r (code, jurisdiction, kind, title, summary, citation, rule, credential_kind, permit_kind,
        grace_days, validity_months, min_per_location, interval_days, effective_from);
