-- Settles a failed delivery and queues its next attempt: at once, or in the delayed set.
-- KEYS[1] task stream, KEYS[2] delayed set
-- ARGV[1] group, ARGV[2] task entry id, ARGV[3] consumer, ARGV[4] delay ms,
-- ARGV[5] next attempt's fields as a JSON array
-- The same script hands a delivery back unworked (same attempt: a stop, a deferral, a release);
-- only a next attempt counts as a failed one (counters.lua).
-- @include now-ms.lua
-- @include owned-by.lua
-- @include counters.lua
if not ownedBy(KEYS[1], ARGV[1], ARGV[2], ARGV[3]) then
  return 0
end
local current = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])[1]
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
local following = cjson.decode(ARGV[5])
local was = current and attemptIn(current[2])
local becomes = attemptIn(following)
if was and becomes and becomes > was then
  countTasks(KEYS[1], 'failed', 1)
end
local delay = tonumber(ARGV[4])
if delay <= 0 then
  redis.call('XADD', KEYS[1], '*', unpack(following))
else
  redis.call('ZADD', KEYS[2], nowMs() + delay, ARGV[5])
end
return 1
