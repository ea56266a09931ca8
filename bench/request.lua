-- wrk script for the bench runner: one request shape per run, from the environment.
--   BENCH_METHOD  GET or POST (default GET)
--   BENCH_BODY    request body (sent as application/json when set)
--   BENCH_TOKEN   access token, sent as "Authorization: Bearer ..."
--   BENCH_UA      User-Agent (tokens are bound to IP + User-Agent: the same one as at login)
-- done() prints one line "BENCH_RESULT {json}" that the runner parses.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local ua = os.getenv("BENCH_UA") or "accounts-bench/1"

wrk.method = method
wrk.headers["User-Agent"] = ua
wrk.headers["Accept"] = "application/json"
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
