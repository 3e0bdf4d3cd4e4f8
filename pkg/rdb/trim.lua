-- Trims a stream behind consumption, atomically (no group can move while it decides):
-- keep RETAIN already-consumed entries plus every entry some group still needs (undelivered, or from its
-- oldest pending entry on), so nothing unconsumed is ever trimmed.
-- KEYS[1] stream; ARGV[1] retain; ARGV[2] span cap (count at most this many entries per group, else skip).
-- Returns {trimmed, reason}.
local stream = KEYS[1]
local retain = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
if redis.call('EXISTS', stream) == 0 then
  return {0, 'no stream'}
end
local groups = redis.call('XINFO', 'GROUPS', stream)
if #groups == 0 then
  return {0, 'no consumer group: nothing is consumed yet'}
end
local needed = 0
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do
    info[g[i]] = g[i + 1]
  end
  local from = '(' .. info['last-delivered-id']
  if info['pending'] > 0 then
    local summary = redis.call('XPENDING', stream, info['name'])
    from = summary[2]
  end
  local span = redis.call('XRANGE', stream, from, '+', 'COUNT', cap + 1)
  if #span > cap then
    return {0, 'group ' .. info['name'] .. ' still needs more than ' .. cap .. ' entries'}
  end
  if #span > needed then
    needed = #span
  end
end
local keep = retain + needed
if redis.call('XLEN', stream) <= keep then
  return {0, 'nothing to trim'}
end
return {redis.call('XTRIM', stream, 'MAXLEN', '~', keep), 'trimmed'}
