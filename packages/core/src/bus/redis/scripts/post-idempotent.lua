-- Posts a task unless its idempotency key was seen within the window.
-- Returns { 1, task id } when posted, { 0, earlier task id } when it was a duplicate.
-- KEYS[1] task stream, KEYS[2] idempotency key; ARGV[1] window ms, ARGV[2] task id, ARGV[3..] fields
-- A post is counted (counters.lua); a duplicate is not.
-- @include counters.lua
local existing = redis.call('GET', KEYS[2])
if existing then
  return { 0, existing }
end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[1])
countTasks(KEYS[1], 'posted', 1)
return { 1, ARGV[2] }
