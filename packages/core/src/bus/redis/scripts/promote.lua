-- Moves due retries from the delayed set back onto the task stream.
-- Returns ms until the next one is due, 0 if more are due now, -1 if none wait.
-- KEYS[1] delayed set, KEYS[2] task stream; ARGV[1] most to move
-- @include now-ms.lua
local now = nowMs()
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, ARGV[1])
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', unpack(cjson.decode(member)))
  redis.call('ZREM', KEYS[1], member)
end
if #due >= tonumber(ARGV[1]) then
  return 0
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if head[2] == nil then
  return -1
end
return math.max(1, tonumber(head[2]) - now)
