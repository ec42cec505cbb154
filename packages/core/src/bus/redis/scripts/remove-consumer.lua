-- Forgets a consumer that owns no pending entries, and its lease (DELCONSUMER would drop its
-- entries from the PEL, and a dropped entry is never reclaimed, so a consumer with pending
-- entries is kept).
-- KEYS[1] task stream, KEYS[2] leases hash; ARGV[1] group, ARGV[2] consumer
-- Returns 1 when the consumer was forgotten, 0 when it still owns entries.
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if ok and #pending > 0 then
  return 0
end
if ok then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('HDEL', KEYS[2], ARGV[2])
return 1
