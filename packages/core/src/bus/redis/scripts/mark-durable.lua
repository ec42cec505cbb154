-- A durable swarm (durability.replicas > 0) shows readers only findings its replicas hold. After
-- WAIT has confirmed a write, the writer moves the mark up to the newest finding that write
-- covered (never down: replication is one ordered stream, so a later confirmed write covers
-- every earlier one), and then broadcasts what the write appended.
-- KEYS[1] swarm:{S}:durable, a hash: mark (the newest finding id readers may see), replicas,
-- timeoutMs (the swarm's durability, for readers that catch up; see durable-probe.lua)
-- ARGV[1] the newest finding id now held by the replicas, ARGV[2] findings channel,
-- ARGV[3] the broadcast ('' for none)
-- Returns the mark.
-- @include stream-ids.lua
local mark = redis.call('HGET', KEYS[1], 'mark')
if not mark or idAfter(ARGV[1], mark) then
  redis.call('HSET', KEYS[1], 'mark', ARGV[1])
  mark = ARGV[1]
end
if ARGV[3] ~= '' then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return mark
