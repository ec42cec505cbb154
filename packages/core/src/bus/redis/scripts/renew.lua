-- Renews the leases a live consumer still owns (XCLAIM JUSTID resets idle time without
-- counting a delivery), and records the consumer's lease, so a reclaimer holds its deliveries to
-- it. Returns the ids it no longer owns: another consumer reclaimed them.
-- KEYS[1] task stream, KEYS[2] leases hash; ARGV[1] group, ARGV[2] consumer, ARGV[3] lease ms,
-- ARGV[4..] entry ids
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local lost = {}
for i = 4, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
