-- Forgets a consumer that owns no pending entries (DELCONSUMER would drop them from the PEL,
-- and a dropped entry is never reclaimed, so a consumer with pending entries is kept).
-- KEYS[1] task stream; ARGV[1] group, ARGV[2] consumer
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if not ok or #pending > 0 then
  return 0
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
return 1
