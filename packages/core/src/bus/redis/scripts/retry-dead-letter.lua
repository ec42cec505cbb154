-- Moves a dead letter back onto its task stream. Deleting first makes two racing retries post once.
-- KEYS[1] dead-letter stream, KEYS[2] task stream; ARGV[1] dead-letter id, ARGV[2..] task fields
if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then
  return false
end
return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
