-- Claims deliveries whose lease expired (their worker died or stalled) for this consumer.
-- A delivery's lease is its owner's, recorded in the leases hash (a claim made by an agent may
-- hold 10 minutes while a pool's workers hold 30 s). An owner with no record (pruned while it
-- looked idle: before Redis 7.2 an empty read does not reset a consumer's idle time) is held to
-- the longest lease recorded, never less than the reclaimer's own. The caller records its own
-- lease here too, so a live consumer's record comes back within one round. A claimed entry past
-- maxAttempts goes to the dead-letter stream instead, with its history.
-- Returns { next cursor, { {entry id, fields, deliveries}, ... } }: each call scans on from the
-- cursor the last one returned, so expired entries behind many live ones are reached in turn.
-- Counts each claimed delivery as reclaimed, each one past maxAttempts as dead (counters.lua).
-- KEYS[1] task stream, KEYS[2] dead-letter stream, KEYS[3] leases hash (consumer -> lease ms)
-- ARGV[1] group, ARGV[2] consumer, ARGV[3] lease ms, ARGV[4] count, ARGV[5] max attempts,
-- ARGV[6] task type, ARGV[7] trim kind, ARGV[8] trim value, ARGV[9] cursor ('0-0' to start over)
-- @include now-ms.lua
-- @include xadd-trimmed.lua
-- @include counters.lua
local SCAN = 100
local ownLease = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
local leases = {}
local shortest = ownLease
local longest = ownLease
local registered = redis.call('HGETALL', KEYS[3])
for i = 1, #registered, 2 do
  local ms = tonumber(registered[i + 1])
  if ms then
    leases[registered[i]] = ms
    shortest = math.min(shortest, ms)
    longest = math.max(longest, ms)
  end
end
local start = ARGV[9] == '0-0' and '-' or '(' .. ARGV[9]
local page = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', shortest, start, '+', SCAN)
local out = {}
-- Past the end of the pending list the next scan starts over; a full page resumes after it.
local cursor = #page < SCAN and '0-0' or page[#page][1]
for i, pending in ipairs(page) do
  if #out >= count then
    cursor = page[i - 1][1]
    break
  end
  local id, owner, idle = pending[1], pending[2], pending[3]
  local lease = leases[owner] or longest
  -- XCLAIM answers nothing for an entry deleted while pending, and drops it from the list.
  local entry = idle >= lease and redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], lease, id)[1]
  if entry then
    local flat = entry[2]
    local deliveries = tonumber(pending[4]) + 1
    local fields = {}
    for j = 1, #flat, 2 do
      fields[flat[j]] = flat[j + 1]
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
      countTasks(KEYS[1], 'dead', 1)
    else
      out[#out + 1] = { id, flat, deliveries }
    end
  end
end
countTasks(KEYS[1], 'reclaimed', #out)
return { cursor, out }
