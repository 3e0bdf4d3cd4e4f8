-- Moves hit counters into a sync chunk's staging record, atomically per call: each counter is read and
-- deleted in one step (GETDEL), so a hit that arrives afterwards creates a new counter for the next sync and is
-- never lost. The staging record is a string of "path<TAB>value<LF>" lines, appended once per call (paths
-- hold no control characters: the syncer parks those keys before moving). A key that is not a counter (another type, or a value that is not a non-negative integer of at most
-- 18 digits) is moved to the parked prefix instead, with the reason returned.
-- KEYS[1] staging string, KEYS[2] pending set, KEYS[3..] hit keys
-- ARGV[1] sync id, ARGV[2] length of the hit key prefix, ARGV[3] parked key prefix
-- Returns {moved, parked}: moved[i] is the value taken from KEYS[i+2] ("" when nothing was moved from it),
-- parked is {key, reason, ...}.
local plen = tonumber(ARGV[2])
local moved, parked, lines = {}, {}, {}
local registered = false
local function parkTarget(path)
  local target = ARGV[3] .. path
  if redis.call('EXISTS', target) == 1 then
    target = target .. ':' .. ARGV[1]
  end
  return target
end
for i = 3, #KEYS do
  local k = KEYS[i]
  moved[i - 2] = ''
  local v = redis.pcall('GETDEL', k)
  if type(v) == 'table' and v['err'] then
    -- not a string: park the key as it is
    local path = string.sub(k, plen + 1)
    local typ = redis.call('TYPE', k)['ok']
    redis.call('RENAME', k, parkTarget(path))
    table.insert(parked, k)
    table.insert(parked, 'holds a ' .. typ .. ', not a counter')
  elseif v then
    local path = string.sub(k, plen + 1)
    if #v > 18 or not string.match(v, '^%d+$') then
      redis.call('SET', parkTarget(path), v)
      table.insert(parked, k)
      table.insert(parked, 'value "' .. string.sub(v, 1, 40) .. '" is not a non-negative integer')
    elseif v ~= '0' then
      if not registered then
        redis.call('SADD', KEYS[2], ARGV[1])
        registered = true
      end
      lines[#lines + 1] = path .. '\t' .. v .. '\n'
      moved[i - 2] = v
    end
  end
end
if #lines > 0 then
  redis.call('APPEND', KEYS[1], table.concat(lines))
end
return {moved, parked}
