-- The statements the gateway sends for the location list scenario.
begin isolation level read committed read only;
select set_config('app.tenant_id', :tenant, true);
select id, store_number, name, address_line1, city, state_code, postal_code, jurisdiction_id, status, external_id, compliance_status, compliance_reason, compliance_evaluated_at, created_at, updated_at from locations where (null::text[] is null or state_code = any (null)) and (null::text[] is null or compliance_status = any (null)) and (null::text is null or status = null) and (null::text is null or (name, id) > (null, null::uuid)) order by name, id limit 51;
rollback;
