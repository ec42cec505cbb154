-- Moves a delivery to the swarm's dead-letter stream, unless it was settled already.
-- KEYS[1] task stream, KEYS[2] dead-letter stream
-- ARGV[1] group, ARGV[2] task entry id, ARGV[3] trim kind, ARGV[4] trim value, ARGV[5..] dead-letter fields
-- @include now-ms.lua
-- @include xadd-trimmed.lua
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
redis.call('XDEL', KEYS[1], ARGV[2])
xaddTrimmed(KEYS[2], ARGV[3], ARGV[4], { unpack(ARGV, 5) })
return 1
