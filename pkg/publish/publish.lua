#!lua
-- Writes a batch of events atomically, or nothing. Within the batch, an event whose event_id is remembered is
-- not written again, and a request whose hits would create more new path counters than the minute's budget
-- has left is refused as a whole; both are decided before the first write.
--
-- KEYS (n = #KEYS)
--   [1..nx]               the stream key of each XADD entry (repeats allowed)
--   [nx+1..nx+nh]         hit counter keys, distinct
--   [nx+nh+1..nx+nh+ne]   event-id keys, distinct: each remembers the stream ID of its event's first write
--                         ('h' for a hit) for the event-id lifetime
--   [n-1]                 the minute's new-path budget (a count), only when the budget is not 0
--   [n]                   this call's receipt: set to the reply, so that a caller whose reply was lost can
--                         find out that the call ran (receipt.lua)
-- ARGV
--   [1] write cutoff, Unix ms on the Redis clock    [2] nx    [3] nr, the number of ts runs
--   [4] the receipt's lifetime, ms                  [5] the layout: 0 plain, 1 extended
-- A plain call (no event_id, no invalid traffic, no budget: the common case, which costs what it always did)
-- has no event-id or budget key, nh = n-1-nx, and then:
--   [6..5+2*nr]           ts, count for each run of consecutive entries sharing a ts
--   [a+1..a+nx]           ad_id of each entry, a = 5+2*nr
--   [a+nx+1..a+nx+nh]     increment of each hit key
-- An extended call:
--   [6] nh    [7] ne    [8] ng, the number of budgeted requests (groups 1..ng)
--   [9] an event-id key's lifetime, ms    [10] the budget: new path counters allowed this minute (0: none)
--   [11] the budget key's lifetime, ms
--   [12..11+2*nr]         ts, count for each run: count > 0 plain entries (fields ad_id, ts) sharing a ts,
--                         count 0 one special entry
--   [a+1..a+nx]           ad_id of each entry, a = 11+2*nr
--   [gb+1..gb+2*(ng+1)]   special entries, hit items of groups 0..ng, gb = a+nx
--   [sb+1..sb+2*ns]       ivt ('' for valid traffic), event-id index (1..ne, 0 for none) of each special
--                         entry, sb = gb+2*(ng+1), ns the sum of the groups' special entries
--   [ib+1..ib+3*ni]       hit key index (1..nh), increment, event-id index (0 for none) of each hit item,
--                         ib = sb+2*ns
-- Group 0 is the requests that are never refused (they create no path counter, or there is no budget);
-- groups 1..ng are one request each whose hits are budgeted. Entries, special entries and hit items come
-- group after group.
--
-- Returns the stream IDs of the XADD entries, in order, joined by commas ("" when there are none); an entry of
-- a refused request has the ID "", a repeated one the ID stored with its event_id. When a request was refused
-- or an event repeated, ";<refused groups, joined by commas>;<number of repeated events>" follows. The
-- receipt holds the same string.
--
-- The cutoff makes the caller's answer truthful: the API answers 503 at its deadline, and a write that
-- reaches Redis after the cutoff (a paused or overloaded Redis) is refused here instead of being stored
-- behind an error. The checks run before any write, so a refused batch leaves nothing behind.
local cutoff = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now > cutoff then
  return redis.error_reply('ADLYDEADLINE write arrived ' .. (now - cutoff) .. ' ms after its cutoff')
end
local nx, nr = tonumber(ARGV[2]), tonumber(ARGV[3])
local n = #KEYS
local plain = ARGV[5] == '0'
local h, nh, ne, ng, budget
if plain then
  h, nh, ne, ng, budget = 5, n - 1 - nx, 0, 0, 0
else
  h, nh, ne, ng, budget = 11, tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[10])
end
local a = h + 2 * nr

-- Reads and checks; nothing is written before they all pass.
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
local fresh = {} -- hit key index -> true while the counter does not exist
for k = 1, nh do
  local v = redis.call('GET', KEYS[nx + k])
  if not v then
    fresh[k] = true
  elseif not string.match(v, '^%-?%d+$') then
    return redis.error_reply('ADLYBADKEY ' .. KEYS[nx + k] .. ' does not hold an integer')
  end
end
local e0 = nx + nh
local val = {} -- event-id index -> what its key holds, false when nothing (true: claimed, not yet written)
for j = 1, ne do
  val[j] = redis.call('GET', KEYS[e0 + j])
end
local left = 0
if budget > 0 then
  local v = redis.call('GET', KEYS[n - 1])
  if v and not string.match(v, '^%d+$') then
    return redis.error_reply('ADLYBADKEY ' .. KEYS[n - 1] .. ' does not hold a count')
  end
  left = budget - (tonumber(v) or 0)
end

-- Decisions, group by group: which entries repeat a remembered event_id, which requests are refused, and
-- what each counter is incremented by. A group's claims on event_ids count only if the group is accepted,
-- so a refused request never hides the same event in a later one.
local inc = {}  -- hit key index -> increment
local act       -- special entry -> nil: write, 1: repeated, 2: refused
local marks     -- event-id indexes claimed by hits: set to 'h'
local refused   -- refused groups
local dups, created = 0, 0
local sb -- where the special entries start
if plain then
  for k = 1, nh do
    inc[k] = ARGV[a + nx + k]
  end
else
  local gb = a + nx
  sb = gb + 2 * (ng + 1)
  local ns = 0
  for g = 0, ng do
    ns = ns + tonumber(ARGV[gb + 2 * g + 1])
  end
  local ib = sb + 2 * ns
  act, marks, refused = {}, {}, {}
  local q0, i0 = 0, 0
  for g = 0, ng do
    local gs, gi = tonumber(ARGV[gb + 2 * g + 1]), tonumber(ARGV[gb + 2 * g + 2])
    local claims, kinds, gdups = {}, {}, 0
    for q = q0 + 1, q0 + gs do
      local j = tonumber(ARGV[sb + 2 * q])
      if j > 0 then
        if val[j] or kinds[j] then
          act[q] = 1
          gdups = gdups + 1
        else
          kinds[j] = true
          claims[#claims + 1] = j
        end
      end
    end
    local ginc, gkeys = {}, {}
    for q = i0 + 1, i0 + gi do
      local k, c, j = tonumber(ARGV[ib + 3 * q - 2]), tonumber(ARGV[ib + 3 * q - 1]), tonumber(ARGV[ib + 3 * q])
      if j > 0 then
        if val[j] or kinds[j] then
          c = 0
          gdups = gdups + 1
        else
          kinds[j] = 'h'
          claims[#claims + 1] = j
        end
      end
      if c > 0 then
        if not ginc[k] then
          ginc[k] = 0
          gkeys[#gkeys + 1] = k
        end
        ginc[k] = ginc[k] + c
      end
    end
    local new = 0
    if g > 0 and budget > 0 then
      for _, k in ipairs(gkeys) do
        if fresh[k] then
          new = new + 1
        end
      end
    end
    if new > left then
      refused[#refused + 1] = g
      for q = q0 + 1, q0 + gs do
        act[q] = 2
      end
    else
      left = left - new
      created = created + new
      dups = dups + gdups
      for _, k in ipairs(gkeys) do
        inc[k] = (inc[k] or 0) + ginc[k]
        fresh[k] = nil
      end
      for _, j in ipairs(claims) do
        val[j] = kinds[j]
        if kinds[j] == 'h' then
          marks[#marks + 1] = j
        end
      end
    end
    q0, i0 = q0 + gs, i0 + gi
  end
end

-- Writes. A plain run costs what it always did: one XADD per entry, nothing else.
local ttl = ARGV[9]
local ids, i, q = {}, 0, 0
for r = 1, nr do
  local ts = ARGV[h + 2 * r - 1]
  local c = tonumber(ARGV[h + 2 * r])
  if c > 0 then
    for _ = 1, c do
      i = i + 1
      ids[i] = redis.call('XADD', KEYS[i], '*', 'ad_id', ARGV[a + i], 'ts', ts)
    end
  else
    i = i + 1
    q = q + 1
    local j = tonumber(ARGV[sb + 2 * q])
    local what = act[q]
    if what == 2 then
      ids[i] = ''
    elseif what == 1 then
      local v = val[j]
      if v == 'h' or v == true then
        v = '' -- the event_id was a hit's: there is no stream ID to give
      end
      ids[i] = v
    else
      local ivt = ARGV[sb + 2 * q - 1]
      if ivt == '' then
        ids[i] = redis.call('XADD', KEYS[i], '*', 'ad_id', ARGV[a + i], 'ts', ts)
      else
        ids[i] = redis.call('XADD', KEYS[i], '*', 'ad_id', ARGV[a + i], 'ts', ts, 'ivt', ivt)
      end
      if j > 0 then
        val[j] = ids[i]
        redis.call('SET', KEYS[e0 + j], ids[i], 'PX', ttl)
      end
    end
  end
end
for k = 1, nh do
  local c = inc[k]
  if c then
    redis.call('INCRBY', KEYS[nx + k], c)
  end
end
if marks then
  for _, j in ipairs(marks) do
    redis.call('SET', KEYS[e0 + j], 'h', 'PX', ttl)
  end
end
if created > 0 then
  redis.call('INCRBY', KEYS[n - 1], created)
  redis.call('PEXPIRE', KEYS[n - 1], ARGV[11])
end
local reply = table.concat(ids, ',')
if refused and #refused > 0 or dups > 0 then
  reply = reply .. ';' .. table.concat(refused, ',') .. ';' .. dups
end
redis.call('SET', KEYS[n], reply, 'PX', ARGV[4])
return reply
