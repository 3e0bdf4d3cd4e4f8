-- Acknowledges a batch only if no replay moved the group since the batch was committed (see package worker:
-- a replay voids the batch's ledger rows and re-delivers its entries; a late XACK would then take them away
-- from whoever holds them now, and nothing would deliver them again).
-- KEYS[1] stream, KEYS[2] the group's replay epoch; ARGV[1] group, ARGV[2] the epoch read before the commit
-- ('' when the key did not exist), ARGV[3..] entry IDs.
-- Returns the number acknowledged, or -1 when the epoch moved (nothing acknowledged).
local epoch = redis.call('GET', KEYS[2]) or ''
if epoch ~= ARGV[2] then
  return -1
end
local n = 0
for first = 3, #ARGV, 1000 do
  n = n + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end
return n
