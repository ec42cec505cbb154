-- The ledger's shared steps: budgets hash fields `<name>:spentUsd|spentTokens|heldUsd|heldTokens|
-- limitUsd|limitTokens`, rates hash fields `<name>:rtat|ttat|active|until` (GCRA's theoretical
-- arrival times for requests and tokens, in server ms, holds at once, and the end of a cool-down),
-- holds hash holder -> JSON of what it holds, expiries sorted set holder -> when its hold lapses.
local function num(hash, field)
  return tonumber(redis.call('HGET', hash, field)) or 0
end

local function put(hash, field, value)
  redis.call('HSET', hash, field, string.format('%.17g', value))
end

-- Gives back what a holder holds, nothing spent. Returns the hold, or nil when there was none.
local function releaseHold(holds, expiries, budgets, rates, holder)
  local raw = redis.call('HGET', holds, holder)
  redis.call('HDEL', holds, holder)
  redis.call('ZREM', expiries, holder)
  if not raw then
    return nil
  end
  local hold = cjson.decode(raw)
  for _, name in ipairs(hold.budgets) do
    put(budgets, name .. ':heldUsd', math.max(0, num(budgets, name .. ':heldUsd') - hold.usd))
    put(budgets, name .. ':heldTokens', math.max(0, num(budgets, name .. ':heldTokens') - hold.tokens))
  end
  for _, name in ipairs(hold.rates) do
    put(rates, name .. ':active', math.max(0, num(rates, name .. ':active') - 1))
  end
  return hold
end

local function releaseLapsed(holds, expiries, budgets, rates, now)
  for _, holder in ipairs(redis.call('ZRANGE', expiries, '-inf', now, 'BYSCORE')) do
    releaseHold(holds, expiries, budgets, rates, holder)
  end
end
