-- wrk script for `scripts/bench.sh api` (run by scripts/bench): POST /track/batch with a JSON array of
-- identical impression events. Only method, body and Content-Type change, so
-- the run differs from the GET run in the request alone.
--
-- BATCH_EVENTS (default 100) is the number of events per request; the bench
-- sets it so its events/s figure and this body cannot disagree.

local n = tonumber(os.getenv("BATCH_EVENTS") or "100")

local events = {}
for i = 1, n do
  events[i] = '{"type":"impression","ad_id":123}'
end

-- Built once per thread at load time, not per request, so wrk measures the
-- server rather than Lua string building.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = "[" .. table.concat(events, ",") .. "]"
