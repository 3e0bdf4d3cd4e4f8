-- Trims a stream behind consumption, atomically (no group can move while it decides):
-- keep RETAIN already-consumed entries plus every entry some group still needs (undelivered, or from its
-- oldest pending entry on), so nothing unconsumed is ever trimmed.
-- A group needs its undelivered entries, which Redis counts itself (XINFO GROUPS' lag, exact or nil, never
-- too low), plus the delivered entries from its oldest pending one on, counted here with XRANGE. Only that
-- second part is read entry by entry, so a backlog of undelivered entries costs nothing to count. When Redis
-- cannot tell the lag (after XGROUP SETID, or XDEL past the group), everything from the oldest needed entry on
-- is counted instead. The oldest needed entry is the earlier of the oldest pending one and the one after the
-- last delivered: a replay moves the group back (XGROUP SETID) while entries after the new position may still
-- be pending, and the group will deliver everything from that position again.
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
local function count(from, to, name)
  local n = #redis.call('XRANGE', stream, from, to, 'COUNT', cap + 1)
  if n > cap then
    return nil, 'group ' .. name .. ' still needs more than ' .. cap .. ' entries'
  end
  return n
end
-- a < b for decimal strings of any length (sequence numbers may exceed a Lua number's exact range)
local function less(a, b)
  if #a ~= #b then
    return #a < #b
  end
  return a < b
end
-- before(a, b): stream ID a comes before stream ID b
local function before(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  if ams ~= bms then
    return less(ams, bms)
  end
  return less(aseq, bseq)
end
local needed = 0
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do
    info[g[i]] = g[i + 1]
  end
  local name, last, lag = info['name'], info['last-delivered-id'], info['lag']
  local oldest = nil -- the group's oldest pending entry
  if info['pending'] > 0 then
    oldest = redis.call('XPENDING', stream, name)[2]
  end
  local span, why
  if type(lag) == 'number' then
    span = lag
    if oldest then
      local delivered
      delivered, why = count(oldest, last, name)
      if not delivered then
        return {0, why}
      end
      span = span + delivered
    end
  else
    local from = '(' .. last
    if oldest and not before(last, oldest) then
      from = oldest -- pending at or before the last delivered entry
    end
    span, why = count(from, '+', name)
    if not span then
      return {0, why}
    end
  end
  if span > needed then
    needed = span
  end
end
local keep = retain + needed
if redis.call('XLEN', stream) <= keep then
  return {0, 'nothing to trim'}
end
return {redis.call('XTRIM', stream, 'MAXLEN', '~', keep), 'trimmed'}
