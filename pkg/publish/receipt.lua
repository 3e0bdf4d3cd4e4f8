#!lua flags=no-writes
-- Tells whether a publish.lua call whose reply was lost ran: {1, ids} when its receipt is there (ids joined
-- by commas), {0} when it is not and Redis's clock is past the call's cutoff, so the call can no longer run
-- (publish.lua refuses after it), and {2, ms} when it is not there yet and the cutoff is ms away: ask again
-- then.
-- KEYS[1] the receipt; ARGV[1] the call's cutoff, Unix ms on the Redis clock.
local r = redis.call('GET', KEYS[1])
if r then
  return {1, r}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = tonumber(ARGV[1])
if now > cutoff then
  return {0}
end
return {2, cutoff - now + 1}
