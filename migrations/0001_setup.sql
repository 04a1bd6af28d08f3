-- Helpers shared by every later migration. Runs as prep_owner.

-- Keeps updated_at honest without every statement having to remember it.
create function set_updated_at() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- Functions are executable by PUBLIC by default; the runtime role gets only
-- what a migration grants it explicitly.
alter default privileges revoke execute on functions from public;
revoke execute on function set_updated_at() from public;
