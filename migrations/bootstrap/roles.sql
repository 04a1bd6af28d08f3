-- Cluster roles and database ownership. Run by `prep-gateway migrate` as the
-- administrative connection (a superuser locally, a DBA role in production)
-- before the numbered migrations, which then run as `prep_owner`.
--
-- * prep_owner   owns every table and function; NOLOGIN, reached only by
--                `SET ROLE` from the administrative connection.
-- * prep_app     the gateway's runtime role: LOGIN, not a superuser, no
--                BYPASSRLS, owns nothing, and gets only the grants the
--                migrations hand out table by table.
-- * prep_definer owns the few allow-listed SECURITY DEFINER functions that
--                must look across tenants (look-ups before a tenant is known,
--                the compliance review queue). BYPASSRLS, NOLOGIN, and no
--                table privileges beyond the columns those functions read.
--
-- Roles are cluster-wide and several databases (one per test) share them, so
-- creation tolerates a concurrent creator.
do $$ begin create role prep_owner nologin;
exception when duplicate_object or unique_violation then null; end $$;
do $$ begin create role prep_app login;
exception when duplicate_object or unique_violation then null; end $$;
do $$ begin create role prep_definer nologin bypassrls;
exception when duplicate_object or unique_violation then null; end $$;

alter role prep_app nosuperuser nocreatedb nocreaterole noreplication nobypassrls noinherit;
alter role prep_owner nosuperuser nocreatedb nocreaterole noreplication nobypassrls;

do $$ begin
  -- the administrative connection must be able to become the owner
  execute format('grant prep_owner to %I', current_user);
  -- the owner hands its SECURITY DEFINER functions over to prep_definer
  grant prep_definer to prep_owner;
exception when duplicate_object or unique_violation then null; end $$;

do $$ begin
  execute format('revoke all on database %I from public', current_database());
  execute format('grant connect on database %I to prep_app', current_database());
end $$;

alter schema public owner to prep_owner;
revoke all on schema public from public;
grant usage on schema public to prep_app, prep_definer;
grant create on schema public to prep_definer;
