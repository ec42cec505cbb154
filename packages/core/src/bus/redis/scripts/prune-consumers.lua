-- Forgets consumers that own no pending entries and have not been seen for a while: the names
-- of workers that were killed (a clean stop removes its own), and their leases. Without this the
-- group grows by one consumer per crashed or scaled-away worker. A live consumer may look this
-- idle too (before Redis 7.2 an empty read does not reset idle time; or it waits for a shared
-- slot): it owns nothing, its next read creates it again, and that read records its lease again
-- (reclaimers meanwhile hold owners with no record to the longest lease recorded). Entries are
-- never lost: a consumer with pending entries stays, so does the lease of a claim that holds one.
-- KEYS[1] task stream, KEYS[2] leases hash; ARGV[1] group, ARGV[2] idle ms, ARGV[3] the caller
-- (never removed)
-- Returns how many consumers were removed.
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then
  return 0
end
local idleMs = tonumber(ARGV[2])
local removed = 0
for _, fields in ipairs(consumers) do
  local info = {}
  for i = 1, #fields, 2 do
    info[fields[i]] = fields[i + 1]
  end
  if info.name ~= ARGV[3] and tonumber(info.pending) == 0 and tonumber(info.idle) >= idleMs then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info.name)
    redis.call('HDEL', KEYS[2], info.name)
    removed = removed + 1
  end
end
return removed
