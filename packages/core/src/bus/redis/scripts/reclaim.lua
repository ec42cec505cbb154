-- Claims deliveries whose lease expired (their worker died or stalled) for this consumer.
-- A claimed entry past maxAttempts goes to the dead-letter stream instead, with its history.
-- Returns { next cursor, { {entry id, fields, deliveries}, ... } }: each call scans on from the
-- cursor the last one returned, so expired entries behind many live ones are reached in turn.
-- KEYS[1] task stream, KEYS[2] dead-letter stream
-- ARGV[1] group, ARGV[2] consumer, ARGV[3] lease ms, ARGV[4] count, ARGV[5] max attempts,
-- ARGV[6] task type, ARGV[7] trim kind, ARGV[8] trim value, ARGV[9] cursor ('0-0' to start over)
-- @include now-ms.lua
-- @include xadd-trimmed.lua
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[9], 'COUNT', ARGV[4])
local out = {}
for _, entry in ipairs(claimed[2]) do
  local id, flat = entry[1], entry[2]
  local info = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  local deliveries = tonumber(info[1][4])
  local fields = {}
  for i = 1, #flat, 2 do
    fields[flat[i]] = flat[i + 1]
  end
  -- An entry that does not parse goes back to the client, which dead-letters it with the reason.
  local ok, task = pcall(cjson.decode, fields['task'] or '')
  local base = ok and type(task) == 'table' and tonumber(task['attempt']) or nil
  if base and base + deliveries - 1 > tonumber(ARGV[5]) then
    local errors = type(task['errors']) == 'table' and task['errors'] or {}
    local now = nowMs()
    local failed = base + deliveries - 2
    errors[#errors + 1] = { attempt = failed, message = 'lease expired: the worker died or stalled', at = now }
    xaddTrimmed(KEYS[2], ARGV[7], ARGV[8], {
      'type', ARGV[6],
      'reason', 'lease expired on attempt ' .. failed .. ' of ' .. ARGV[5],
      'dead_at', tostring(now),
      'errors', cjson.encode(errors),
      'entry', cjson.encode(fields),
    })
    redis.call('XACK', KEYS[1], ARGV[1], id)
    redis.call('XDEL', KEYS[1], id)
  else
    out[#out + 1] = { id, flat, deliveries }
  end
end
return { claimed[1], out }
