-- Per-tenant overrides of the plan tier's limits (rate, cost budget,
-- bulkheads), set by operators (`prep-gateway tenant limits`). Keys are the
-- limit names of the configuration's tiers; the gateway validates the
-- merged result and falls back to the tier when an override is invalid.
alter table tenants
  add column limit_overrides jsonb not null default '{}'
    constraint tenants_limit_overrides_check check (jsonb_typeof(limit_overrides) = 'object');
