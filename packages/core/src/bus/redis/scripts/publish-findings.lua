-- Appends findings that no task produced (actors' summaries, help requests) and broadcasts them
-- as one message, exactly as complete.lua does, so readers cannot tell the two paths apart.
-- Publishes made in one event-loop turn arrive together: one call, one message. The token makes
-- a resend after a lost reply harmless: it answers the ids the first call wrote.
-- KEYS[1] findings stream, KEYS[2] token key
-- ARGV[1] findings channel ('' for a durable swarm: see mark-durable.lua), ARGV[2] trim kind
-- ('' | 'MAXLEN' | 'MAXAGE'), ARGV[3] trim value, ARGV[4] how long the token is remembered (ms),
-- then each finding as a JSON object without its id.
-- Returns the finding ids, in order; without a channel, then the broadcast it did not publish
-- ('' for a resend).
-- @include now-ms.lua
-- @include xadd-trimmed.lua
local done = redis.call('GET', KEYS[2])
if done then
  local ids = cjson.decode(done)
  if ARGV[1] == '' then
    ids[#ids + 1] = ''
  end
  return ids
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local prev = last and last[1] or '0-0'
local ids = {}
local published = {}
for i = 5, #ARGV do
  local id = xaddTrimmed(KEYS[1], ARGV[2], ARGV[3], { 'finding', ARGV[i] })
  ids[#ids + 1] = id
  published[#published + 1] = '{"id":"' .. id .. '",' .. string.sub(ARGV[i], 2)
end
redis.call('SET', KEYS[2], cjson.encode(ids), 'PX', ARGV[4])
local broadcast = '{"prev":"' .. prev .. '","findings":[' .. table.concat(published, ',') .. ']}'
if ARGV[1] == '' then
  ids[#ids + 1] = broadcast
else
  redis.call('PUBLISH', ARGV[1], broadcast)
end
return ids
