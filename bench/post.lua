-- wrk script: POST the GraphQL body in $BODY_FILE with the bearer token in $TOKEN.
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer " .. os.getenv("TOKEN")

-- Each wrk thread runs its own copy of this script; `failures` (every
-- answer that is not a 200 without `errors`) is a global so `done` can add
-- up every thread's count through `thread:get`.
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

failures = 0
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    failures = failures + 1
    if failures <= 3 then io.stderr:write("bad response " .. status .. ": " .. body:sub(1, 300) .. "\n") end
  end
end

done = function(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("failures") or 0)
  end
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d requests=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, bad, summary.requests))
end
