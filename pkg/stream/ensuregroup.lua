#!lua flags=allow-oom
-- Creates a consumer group on a full Redis (maxmemory reached, noeviction), where XGROUP CREATE is refused
-- for memory even when the group already exists. Creating a group on an existing stream costs a few hundred
-- bytes and lets a worker consume and trim, which frees far more: so it is allowed here, over maxmemory.
-- Creating the stream itself is not: without a stream there is nothing to consume, and the caller waits.
-- KEYS[1] stream; ARGV[1] group. Returns 'exists', 'created' or 'no stream'.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 'no stream'
end
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  for i = 1, #g, 2 do
    if g[i] == 'name' and g[i + 1] == ARGV[1] then
      return 'exists'
    end
  end
end
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0')
return 'created'
