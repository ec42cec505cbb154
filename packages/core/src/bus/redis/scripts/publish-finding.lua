-- Appends one finding that no task produced (an actor's summary, a help request) and broadcasts it
-- exactly as complete.lua does, so readers cannot tell the two paths apart.
-- KEYS[1] findings stream
-- ARGV[1] findings channel, ARGV[2] trim kind ('' | 'MAXLEN' | 'MAXAGE'), ARGV[3] trim value,
-- ARGV[4] the finding as a JSON object without its id.
-- Returns the finding id.
-- @include now-ms.lua
-- @include xadd-trimmed.lua
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local prev = last and last[1] or '0-0'
local id = xaddTrimmed(KEYS[1], ARGV[2], ARGV[3], { 'finding', ARGV[4] })
redis.call('PUBLISH', ARGV[1], '{"prev":"' .. prev .. '","findings":[{"id":"' .. id .. '",' .. string.sub(ARGV[4], 2) .. ']}')
return id
