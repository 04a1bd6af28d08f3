-- The statements the gateway sends for the location detail scenario
-- (location, its employees, their credentials: one batch per level).
begin isolation level read committed read only;
select set_config('app.tenant_id', :tenant, true);
select id, store_number, name, address_line1, city, state_code, postal_code, jurisdiction_id, status, external_id, compliance_status, compliance_reason, compliance_evaluated_at, created_at, updated_at from locations where id = any (array[:location]::uuid[]);
select id, location_id, external_id, first_name, last_name, job_title, handles_food, hire_date, status, terminated_on, created_at, updated_at from employees where location_id = any (array[:location]::uuid[]) and status <> 'terminated' order by location_id, last_name, first_name, id;
select c.id, c.employee_id, c.kind, c.issuer, c.certificate_number, c.issued_on, c.expires_on from credentials c join employees e on e.tenant_id = c.tenant_id and e.id = c.employee_id where e.location_id = :location order by c.employee_id, c.expires_on, c.id;
rollback;
