-- Completes a batch of deliveries: for each, append the finding, ack and delete the task,
-- and publish the finding. Batching lets one script call settle everything a worker finished
-- in one event-loop turn.
-- The pending-entry list is the dedup marker: XACK answers 0 once any delivery of an entry
-- was completed or dead-lettered, so a second completion writes nothing.
-- KEYS[1] task stream, KEYS[2] findings stream
-- ARGV[1] group, ARGV[2] findings channel, ARGV[3] trim kind ('' | 'MAXLEN' | 'MAXAGE'),
-- ARGV[4] trim value, then per delivery: entry id, finding as a JSON object without its id,
-- number of finding field/value strings n, and those n strings.
-- Returns one value per delivery: the finding id, or '' when it was already settled.
-- @include now-ms.lua
-- @include xadd-trimmed.lua
local out = {}
local i = 5
while i <= #ARGV do
  local entryId, payload, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if redis.call('XACK', KEYS[1], ARGV[1], entryId) == 0 then
    out[#out + 1] = ''
  else
    redis.call('XDEL', KEYS[1], entryId)
    local id = xaddTrimmed(KEYS[2], ARGV[3], ARGV[4], { unpack(ARGV, i + 3, i + 2 + n) })
    redis.call('PUBLISH', ARGV[2], '{"id":"' .. id .. '",' .. string.sub(payload, 2))
    out[#out + 1] = id
  end
  i = i + 3 + n
end
return out
