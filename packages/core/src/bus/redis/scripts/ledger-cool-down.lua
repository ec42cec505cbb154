-- Holds up every reservation against a rate limit until now + ms: a vendor that keeps failing, or
-- asked for it with Retry-After. A cool-down in force is never shortened.
-- KEYS[1] rates hash; ARGV[1] rate limit name, ARGV[2] ms
-- @include now-ms.lua
-- @include ledger.lua
local field = ARGV[1] .. ':until'
put(KEYS[1], field, math.max(num(KEYS[1], field), nowMs() + tonumber(ARGV[2])))
return 1
