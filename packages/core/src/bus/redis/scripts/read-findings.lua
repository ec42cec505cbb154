-- Reads findings the way every reader must: up to the durable mark when the swarm keeps one
-- (see mark-durable.lua), else up to the newest.
-- KEYS[1] findings stream, KEYS[2] swarm:{S}:durable
-- ARGV[1] 'range' or 'last', ARGV[2] start ('(<id>' exclusive, '<id>' or '-' inclusive), ARGV[3] count
-- Returns for 'range' the entries, as XRANGE; for 'last' {the newest readable id, the newest id}.
local mark = redis.call('HGET', KEYS[2], 'mark')
if ARGV[1] == 'last' then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  local newest = last and last[1] or '0-0'
  if mark then
    local readable = redis.call('XREVRANGE', KEYS[1], mark, '-', 'COUNT', 1)[1]
    return { readable and readable[1] or '0-0', newest }
  end
  return { newest, newest }
end
return redis.call('XRANGE', KEYS[1], ARGV[2], mark or '+', 'COUNT', ARGV[3])
