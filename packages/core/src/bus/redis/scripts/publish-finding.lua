-- Appends one finding that no task produced (an actor's summary, a help request) and broadcasts it
-- exactly as complete.lua does, so readers cannot tell the two paths apart. The token makes a
-- resend after a lost reply harmless: it answers the id the first call wrote.
-- KEYS[1] findings stream, KEYS[2] token key
-- ARGV[1] findings channel, ARGV[2] trim kind ('' | 'MAXLEN' | 'MAXAGE'), ARGV[3] trim value,
-- ARGV[4] the finding as a JSON object without its id, ARGV[5] how long the token is remembered (ms).
-- Returns the finding id.
-- @include now-ms.lua
-- @include xadd-trimmed.lua
local done = redis.call('GET', KEYS[2])
if done then
  return done
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local prev = last and last[1] or '0-0'
local id = xaddTrimmed(KEYS[1], ARGV[2], ARGV[3], { 'finding', ARGV[4] })
redis.call('SET', KEYS[2], id, 'PX', ARGV[5])
redis.call('PUBLISH', ARGV[1], '{"prev":"' .. prev .. '","findings":[{"id":"' .. id .. '",' .. string.sub(ARGV[4], 2) .. ']}')
return id
