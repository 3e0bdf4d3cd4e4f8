-- Dead-letters one entry exactly once: acknowledge it, and only if this call removed it from the pending
-- list (XACK answered 1) add it to the dead-letter stream. A second consumer holding the same entry (it was
-- reclaimed) gets 0 from XACK and adds nothing.
-- KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] group, ARGV[2] entry id, ARGV[3] reason,
-- ARGV[4] consumer, ARGV[5..] the entry's original field/value pairs.
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if acked == 0 then
  return 0
end
local fields = {'original_id', ARGV[2], 'reason', ARGV[3], 'group', ARGV[1], 'consumer', ARGV[4]}
for i = 5, #ARGV, 2 do
  table.insert(fields, 'field:' .. ARGV[i])
  table.insert(fields, ARGV[i + 1])
end
redis.call('XADD', KEYS[2], '*', unpack(fields))
return 1
