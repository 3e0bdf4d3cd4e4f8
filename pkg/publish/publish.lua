#!lua
-- Writes a batch of events atomically, or nothing.
-- KEYS[1..nx]         stream keys, one per XADD entry (repeats allowed)
-- KEYS[nx+1..n-1]     hit counter keys, one per distinct path
-- KEYS[n]             this call's receipt (n = #KEYS): set to the IDs, so a caller whose reply was lost
--                     can find out that the call ran (receipt.lua)
-- ARGV[1]             write cutoff, Unix ms on the Redis clock
-- ARGV[2]             nx, the number of XADD entries
-- ARGV[3]             nr, the number of ts runs
-- ARGV[4..3+2*nr]     ts, count for each run of consecutive entries sharing a ts (counts add up to nx)
-- ARGV[a+1..a+nx]     ad_id for each XADD entry, where a = 3+2*nr
-- ARGV[a+nx+1..a+n-1] increment for each hit key
-- ARGV[a+n]           how long the receipt lives, in ms
-- Returns the stream IDs of the XADD entries, in order, joined by commas ("" when there are none): the same
-- string the receipt holds.
--
-- The cutoff makes the caller's answer truthful: the API answers 503 at its deadline, and a write that
-- reaches Redis after the cutoff (a paused or overloaded Redis) is refused here instead of being stored
-- behind an error. The checks run before any write, so a refused batch leaves nothing behind.
local cutoff = tonumber(ARGV[1])
local nx = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > cutoff then
  return redis.error_reply('ADLYDEADLINE write arrived ' .. (now - cutoff) .. ' ms after its cutoff')
end
local seen = {}
for i = 1, nx do
  local k = KEYS[i]
  if not seen[k] then
    seen[k] = true
    local typ = redis.call('TYPE', k)['ok']
    if typ ~= 'stream' and typ ~= 'none' then
      return redis.error_reply('ADLYBADKEY ' .. k .. ' holds a ' .. typ .. ', not a stream')
    end
  end
end
local n = #KEYS
for i = nx + 1, n - 1 do
  local v = redis.call('GET', KEYS[i])
  if v and not string.match(v, '^%-?%d+$') then
    return redis.error_reply('ADLYBADKEY ' .. KEYS[i] .. ' does not hold an integer')
  end
end
local nr = tonumber(ARGV[3])
local a = 3 + 2 * nr
local ids, i = {}, 0
for r = 1, nr do
  local ts = ARGV[2 + 2 * r]
  for _ = 1, tonumber(ARGV[3 + 2 * r]) do
    i = i + 1
    ids[i] = redis.call('XADD', KEYS[i], '*', 'ad_id', ARGV[a + i], 'ts', ts)
  end
end
for k = nx + 1, n - 1 do
  redis.call('INCRBY', KEYS[k], ARGV[a + k])
end
local joined = table.concat(ids, ',')
redis.call('SET', KEYS[n], joined, 'PX', ARGV[a + n])
return joined
