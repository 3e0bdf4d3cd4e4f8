-- Moves a group's last-delivered ID back (replay) and, in the same step, advances the group's replay epoch,
-- so that no batch committed before the move can acknowledge its entries afterwards (ack.lua).
-- KEYS[1] stream, KEYS[2] the group's replay epoch; ARGV[1] group, ARGV[2] the new last-delivered ID.
redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], ARGV[2])
return redis.call('INCR', KEYS[2])
