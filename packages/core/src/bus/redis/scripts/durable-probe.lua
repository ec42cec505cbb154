-- Gives a durable swarm's readers the findings no writer marked (it died between its WAIT and
-- mark-durable.lua, or the mark was lost in a failover): this script writes (the mark, again), so
-- a WAIT after it, once confirmed, covers every finding before it.
-- KEYS[1] findings stream, KEYS[2] swarm:{S}:durable
-- Returns {the newest finding id, to pass to mark-durable.lua once WAIT has confirmed this write,
-- replicas, timeoutMs}; {} when the swarm is not durable.
local durable = redis.call('HMGET', KEYS[2], 'mark', 'replicas', 'timeoutMs')
if not durable[1] then
  return {}
end
redis.call('HSET', KEYS[2], 'mark', durable[1])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
return { last and last[1] or '0-0', durable[2] or '1', durable[3] or '1000' }
