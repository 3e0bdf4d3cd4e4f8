-- park(key, target, sync id) is the one way a hit key that cannot be synced is moved aside: renamed to target
-- (analytics:parked:<path>; analytics:parked{<tag>}:<path> in the key's slot on a cluster), or to
-- target:<sync id> when target is taken already, so nothing is lost and the key is neither synced nor retried
-- forever. It answers false when key is gone (given twice: parked the first time). RENAME is not denyoom: it runs on a full Redis. Prepended to the scripts that park (hitmove.lua and
-- parkScript), so both park alike.
local function park(key, target, syncid)
  if redis.call('EXISTS', key) == 0 then
    return false
  end
  if redis.call('EXISTS', target) == 1 then
    target = target .. ':' .. syncid
  end
  redis.call('RENAME', key, target)
  return true
end
