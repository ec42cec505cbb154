-- Settles a failed delivery and queues its next attempt: at once, or in the delayed set.
-- KEYS[1] task stream, KEYS[2] delayed set
-- ARGV[1] group, ARGV[2] task entry id, ARGV[3] consumer, ARGV[4] delay ms,
-- ARGV[5] next attempt's fields as a JSON array
-- @include now-ms.lua
-- @include owned-by.lua
if not ownedBy(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then
  return 0
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local delay = tonumber(ARGV[4])
if delay <= 0 then
  redis.call('XADD', KEYS[1], '*', unpack(cjson.decode(ARGV[5])))
else
  redis.call('ZADD', KEYS[2], nowMs() + delay, ARGV[5])
end
return 1
