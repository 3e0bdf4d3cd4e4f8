-- Moves hit counters into a sync chunk's staging record, atomically per call: the counters are read (MGET) and
-- deleted (DEL) inside one script, so a hit that arrives afterwards creates a new counter for the next sync and
-- is never lost. Native multi-key commands, not one call per key, and no string built per key: a script's
-- per-call and per-string overheads would cost more than the counters themselves. The staging record is a string
-- of "key<LF>value<LF>" pairs, appended once per call (keys hold no control characters: the syncer parks those
-- before moving). A key that is not a counter (another type, or a value that is not a non-negative integer of at
-- most 18 digits) is renamed to the parked prefix instead, with the reason returned.
-- Fenced: it first checks that the fence (the sync lock on a single Redis, the slot's fence on a cluster)
-- holds the caller's fence value and otherwise does nothing and answers the error LOCKLOST, so a syncer that
-- lost its lock (paused past its expiry) can never add to a chunk that the new owner has already recovered.
-- One GET per call, nothing per key. On a cluster every key of a call is in one hash slot: the hit keys, and
-- the staging record, pending set, fence and parked keys named with that slot's tag.
-- On a full Redis (noeviction at maxmemory) it still runs: no command that may grow memory is called before
-- the DEL that frees the counters (GET, MGET, TYPE, EXISTS and RENAME are not denyoom), and a script that has
-- written may go on; the staging record it appends is smaller than the counters it deletes.
-- KEYS[1] staging string, KEYS[2] pending set, KEYS[3] fence, KEYS[4..] hit keys
-- ARGV[1] sync id, ARGV[2] length of the hit key stem (<prefix>analytics:hit, followed by ':' in an untagged
-- key and by '{tag}:' in a tagged one), ARGV[3] parked key prefix, ARGV[4] fence value
-- Returns {pairs, parked}: pairs is what was appended to the staging record ("" when nothing was moved),
-- parked is {key, reason, ...}.
if redis.call('GET', KEYS[3]) ~= ARGV[4] then
  return redis.error_reply('LOCKLOST the sync lock is not held by this syncer')
end
local stem = tonumber(ARGV[2])
local parked, lines, nl = {}, {}, 0
local function pathOf(k) -- keyspace.Names.PathOfHitKey; the syncer passes no key of another shape
  if string.sub(k, stem + 1, stem + 1) == '{' then
    return string.sub(k, string.find(k, '}', stem + 2, true) + 2)
  end
  return string.sub(k, stem + 2)
end
local function parkBad(k, reason) -- park is park.lua's, prepended to this script
  if park(k, ARGV[3] .. pathOf(k), ARGV[1]) then
    parked[#parked + 1] = k
    parked[#parked + 1] = reason
  end
end
local slice = 1000 -- keys per MGET/DEL: stays far below Lua's limit on unpacked arguments
for first = 4, #KEYS, slice do
  local last = math.min(first + slice - 1, #KEYS)
  local vals = redis.call('MGET', unpack(KEYS, first, last))
  local del, nd, from = {}, 0, nl
  for j = 1, last - first + 1 do
    local k, v = KEYS[first + j - 1], vals[j]
    if v then
      if #v > 18 or not string.match(v, '^%d+$') then
        parkBad(k, 'value "' .. string.sub(v, 1, 40) .. '" is not a non-negative integer')
      else
        nd = nd + 1
        del[nd] = k
        if v ~= '0' then
          lines[nl + 1] = k
          lines[nl + 2] = v
          nl = nl + 2
        end
      end
    else
      -- MGET answers nil for a missing key and for a key of another type
      local typ = redis.call('TYPE', k)['ok']
      if typ ~= 'none' then
        parkBad(k, 'holds a ' .. typ .. ', not a counter')
      end
    end
  end
  if nd > 0 and redis.call('DEL', unpack(del)) ~= nd then
    -- a key given twice in this slice was read twice but is one counter: keep its first pair only
    local seen, kept = {}, from
    for j = from + 1, nl, 2 do
      if not seen[lines[j]] then
        seen[lines[j]] = true
        lines[kept + 1], lines[kept + 2] = lines[j], lines[j + 1]
        kept = kept + 2
      end
    end
    for j = kept + 1, nl do
      lines[j] = nil
    end
    nl = kept
  end
end
local out = ''
if nl > 0 then
  out = table.concat(lines, '\n') .. '\n'
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('APPEND', KEYS[1], out)
end
return {out, parked}
