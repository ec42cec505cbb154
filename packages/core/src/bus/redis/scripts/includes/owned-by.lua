-- Whether `consumer` holds the pending entry `id`. Only the owner may retry or bury a delivery:
-- a worker whose lease was reclaimed must not undo the work of the one running it now.
local function ownedBy(stream, group, id, consumer)
  local entry = redis.call('XPENDING', stream, group, id, id, 1)[1]
  return entry ~= nil and entry[2] == consumer
end
