-- XADD with the stream's retention bound: exact MAXLEN, or MINID for a maximum age in ms.
local function xaddTrimmed(key, kind, value, fields)
  if kind == 'MAXLEN' then
    return redis.call('XADD', key, 'MAXLEN', '=', value, '*', unpack(fields))
  elseif kind == 'MAXAGE' then
    return redis.call('XADD', key, 'MINID', '=', tostring(nowMs() - tonumber(value)), '*', unpack(fields))
  end
  return redis.call('XADD', key, '*', unpack(fields))
end
