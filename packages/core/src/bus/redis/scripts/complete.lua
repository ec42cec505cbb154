-- Completes a batch of deliveries: for each, ack the task and append the finding; then publish
-- the batch's findings in one message, with the id of the finding before them. Batching lets one
-- script call (and one pub/sub message) settle everything a worker finished in one event-loop turn.
-- The pending-entry list is the dedup marker: XACK answers 0 once any delivery of an entry was
-- completed or dead-lettered, so a second completion writes nothing.
-- With an owner (a claim reporting from another process), a delivery that consumer no longer
-- holds is refused in the same step: a worker whose lapsed claim was taken over writes nothing.
-- KEYS[1] task stream, KEYS[2] findings stream
-- ARGV[1] group, ARGV[2] findings channel ('' for a durable swarm: see mark-durable.lua),
-- ARGV[3] trim kind ('' | 'MAXLEN' | 'MAXAGE'), ARGV[4] trim value, ARGV[5] owner ('' for any),
-- then per delivery: entry id, finding as a JSON object without its id.
-- Returns one value per delivery: the finding id; '' when it was already settled; 'lost' when
-- an owner was given and another consumer holds it. Without a channel, one more value follows:
-- the broadcast it did not publish ('' when it wrote no finding).
-- Counts each completion, and the cost of a finding whose usage records costUsd (counters.lua).
-- @include now-ms.lua
-- @include owned-by.lua
-- @include xadd-trimmed.lua
-- @include trim-acked.lua
-- @include counters.lua
-- The id before this batch's first finding: a reader that has read up to it takes the batch as is.
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
local prev = last and last[1] or '0-0'
local out = {}
local published = {}
local cost = 0
for i = 6, #ARGV, 2 do
  local finding = ARGV[i + 1]
  if ARGV[5] ~= '' and not ownedBy(KEYS[1], ARGV[1], ARGV[i], ARGV[5]) then
    local held = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
    out[#out + 1] = held and 'lost' or ''
  elseif redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 0 then
    out[#out + 1] = ''
  else
    local id = xaddTrimmed(KEYS[2], ARGV[3], ARGV[4], { 'finding', finding })
    published[#published + 1] = '{"id":"' .. id .. '",' .. string.sub(finding, 2)
    out[#out + 1] = id
    -- Decoded only when it may carry a cost: most findings do not, and decoding is the dear part.
    if string.find(finding, '"costUsd"', 1, true) then
      local ok, parsed = pcall(cjson.decode, finding)
      local usage = ok and type(parsed) == 'table' and parsed['usage']
      local usd = type(usage) == 'table' and usage['costUsd']
      if type(usd) == 'number' and usd > 0 and usd < math.huge then
        cost = cost + usd
      end
    end
  end
end
local broadcast = ''
if #published > 0 then
  broadcast = '{"prev":"' .. prev .. '","findings":[' .. table.concat(published, ',') .. ']}'
  if ARGV[2] ~= '' then
    redis.call('PUBLISH', ARGV[2], broadcast)
  end
end
countTasks(KEYS[1], 'completed', #published)
addCost(KEYS[1], cost)
trimAcked(KEYS[1], ARGV[1])
if ARGV[2] == '' then
  out[#out + 1] = broadcast
end
return out
