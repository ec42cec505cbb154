-- Appends a batch of tasks in one call: one command on the wire instead of one per task.
-- KEYS[1] task stream; ARGV: one task JSON per task (the value of the entry's `task` field).
for i = 1, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'task', ARGV[i])
end
return #ARGV
