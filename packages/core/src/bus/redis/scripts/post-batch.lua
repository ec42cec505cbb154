-- Appends a batch of tasks in one call: one command on the wire instead of one per task.
-- The token makes a resend harmless: a client that lost the reply (Redis restarted after the
-- write) sends the same call again, and the second one appends nothing.
-- KEYS[1] task stream, KEYS[2] token key
-- ARGV[1] how long the token is remembered (ms), then one task JSON per task (the value of the
-- entry's `task` field).
-- Returns the number of tasks appended (0 for a resend), and counts them (counters.lua).
-- @include counters.lua
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'task', ARGV[i])
end
countTasks(KEYS[1], 'posted', #ARGV - 1)
return #ARGV - 1
