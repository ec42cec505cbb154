-- Moves a delivery to the swarm's dead-letter stream, unless it was settled already.
-- KEYS[1] task stream, KEYS[2] dead-letter stream
-- ARGV[1] group, ARGV[2] task entry id, ARGV[3] consumer, ARGV[4] trim kind, ARGV[5] trim value,
-- ARGV[6..] dead-letter fields
-- Counts a failed attempt and a dead letter (counters.lua).
-- @include now-ms.lua
-- @include owned-by.lua
-- @include xadd-trimmed.lua
-- @include counters.lua
if not ownedBy(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then
  return 0
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
xaddTrimmed(KEYS[2], ARGV[4], ARGV[5], { unpack(ARGV, 6) })
countTasks(KEYS[1], 'failed', 1)
countTasks(KEYS[1], 'dead', 1)
return 1
