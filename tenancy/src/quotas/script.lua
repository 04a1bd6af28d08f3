-- One request's quota check, atomically, in one round trip: the tenant's
-- request rate and the credential's (GCRA), then the tenant's query cost
-- bucket. Nothing is spent unless all three admit the request (a refund of
-- unused points is kept either way). Mirrors tenancy/src/quotas/gcra.rs;
-- times are the server's, in microseconds. Six commands at most: the
-- tenant's rate and bucket share one hash.
--
-- KEYS[1] the tenant's hash (r: rate arrival time, p: points, t: when),
-- KEYS[2] the credential's arrival time (one hash tag: the same cluster slot)
-- ARGV: tenant interval_us, tenant burst, credential interval_us,
--       credential burst, cost, bucket maximum, points per second, refund
--
-- Returns { allowed, denied_by (0 none, 1 tenant, 2 credential, 3 cost),
--           retry_after_us, tenant_remaining, tenant_reset_us,
--           available points (a string: it has a fraction) }

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local stored = redis.call('HMGET', KEYS[1], 'r', 'p', 't')
local c_stored = redis.call('GET', KEYS[2])

local function gcra(tat, interval, burst)
  tat = tonumber(tat) or now
  if tat < now then tat = now end
  local tolerance = interval * (burst - 1)
  local allow_at = tat - tolerance
  if now < allow_at then
    return false, allow_at - now, tat, 0, tat - now
  end
  local new_tat = tat + interval
  local used = new_tat - now
  local remaining = math.floor((tolerance + interval - used) / interval)
  if remaining < 0 then remaining = 0 end
  return true, 0, new_tat, remaining, used
end

local cost = tonumber(ARGV[5])
local maximum = tonumber(ARGV[6])
local per_second = tonumber(ARGV[7])
local refund = tonumber(ARGV[8])
local points = tonumber(stored[2]) or maximum
local at = tonumber(stored[3]) or now
local elapsed = (now - at) / 1000000
if elapsed < 0 then elapsed = 0 end
local available = math.min(maximum, points + elapsed * per_second + refund)
local ttl_ms = math.ceil(maximum / per_second * 1000) + 1000

local function keep(tat, points_left)
  redis.call('HSET', KEYS[1], 'r', string.format('%.0f', tat), 'p', tostring(points_left),
             't', string.format('%.0f', now))
  local rate_ms = math.ceil((tat - now) / 1000) + 1
  redis.call('PEXPIRE', KEYS[1], math.max(ttl_ms, rate_ms))
end

local t_ok, t_retry, t_tat, t_remaining, t_reset =
  gcra(stored[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if not t_ok then
  if refund > 0 then keep(t_tat, available) end
  return { 0, 1, t_retry, 0, t_reset, tostring(available) }
end
local c_ok, c_retry, c_tat = gcra(c_stored, tonumber(ARGV[3]), tonumber(ARGV[4]))
if not c_ok then
  if refund > 0 then keep(tonumber(stored[1]) or now, available) end
  return { 0, 2, c_retry, t_remaining, t_reset, tostring(available) }
end
if cost > available then
  keep(tonumber(stored[1]) or now, available)
  local retry = math.ceil((cost - available) / per_second * 1000000)
  return { 0, 3, retry, t_remaining, t_reset, tostring(available) }
end

keep(t_tat, available - cost)
redis.call('SET', KEYS[2], string.format('%.0f', c_tat), 'PX', math.ceil((c_tat - now) / 1000) + 1)
return { 1, 0, 0, t_remaining, t_reset, tostring(available - cost) }
