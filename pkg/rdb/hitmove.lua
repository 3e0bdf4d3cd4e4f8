-- Moves hit counters into a sync chunk's staging hash, atomically per call: each counter is read and deleted
-- in one step, so a hit that arrives afterwards creates a new counter for the next sync and is never lost.
-- A key that is not a counter (another type, or a value that is not a non-negative integer of at most 18
-- digits) is renamed to the parked prefix instead, with the reason returned.
-- KEYS[1] staging hash, KEYS[2] pending set, KEYS[3..] hit keys
-- ARGV[1] sync id, ARGV[2] length of the hit key prefix, ARGV[3] parked key prefix
-- Returns {moved: {path, value, ...}, parked: {key, reason, ...}}.
local plen = tonumber(ARGV[2])
local moved, parked = {}, {}
local registered = false
for i = 3, #KEYS do
  local k = KEYS[i]
  local t = redis.call('TYPE', k)['ok']
  if t ~= 'none' then
    local path = string.sub(k, plen + 1)
    local reason = nil
    local v = nil
    if t ~= 'string' then
      reason = 'holds a ' .. t .. ', not a counter'
    else
      v = redis.call('GET', k)
      if #v > 18 or not string.match(v, '^%d+$') then
        reason = 'value "' .. string.sub(v, 1, 40) .. '" is not a non-negative integer'
      end
    end
    if reason then
      local target = ARGV[3] .. path
      if redis.call('EXISTS', target) == 1 then
        target = target .. ':' .. ARGV[1]
      end
      redis.call('RENAME', k, target)
      table.insert(parked, k)
      table.insert(parked, reason)
    else
      redis.call('DEL', k)
      if v ~= '0' then
        if not registered then
          redis.call('SADD', KEYS[2], ARGV[1])
          registered = true
        end
        redis.call('HINCRBY', KEYS[1], path, v)
        table.insert(moved, path)
        table.insert(moved, v)
      end
    end
  end
end
return {moved, parked}
