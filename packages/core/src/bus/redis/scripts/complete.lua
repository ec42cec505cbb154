-- Completes a delivery: append the finding, ack and delete the task, ring the doorbell.
-- The pending-entry list is the dedup marker: XACK answers 0 once any delivery of this
-- entry was completed or dead-lettered, so a second completion writes nothing.
-- KEYS[1] task stream, KEYS[2] findings stream
-- ARGV[1] group, ARGV[2] task entry id, ARGV[3] findings channel,
-- ARGV[4] trim kind ('' | 'MAXLEN' | 'MAXAGE'), ARGV[5] trim value,
-- ARGV[6] finding as a JSON object without its id, ARGV[7..] finding field/value pairs
-- @include now-ms.lua
-- @include xadd-trimmed.lua
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return false
end
redis.call('XDEL', KEYS[1], ARGV[2])
local id = xaddTrimmed(KEYS[2], ARGV[4], ARGV[5], { unpack(ARGV, 7) })
redis.call('PUBLISH', ARGV[3], '{"id":"' .. id .. '",' .. string.sub(ARGV[6], 2))
return id
