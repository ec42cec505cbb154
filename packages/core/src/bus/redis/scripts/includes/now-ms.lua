-- Server time in ms: every client shares Redis's clock, so no client clock skew leaks into due times.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
