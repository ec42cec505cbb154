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

-- Gives back what a holder holds. `token` (when not '') must be the hold's own, or the hold stays.
-- `spent`: a hold replaced or lapsed, whose call may have run, counts as spent at its worst case.
-- Returns the hold released, or nil when there was none (or it was another reservation's).
local function releaseHold(holds, expiries, budgets, rates, holder, token, spent)
  local raw = redis.call('HGET', holds, holder)
  if not raw then
    return nil
  end
  local hold = cjson.decode(raw)
  if token and token ~= '' and hold.token ~= token then
    return nil
  end
  redis.call('HDEL', holds, holder)
  redis.call('ZREM', expiries, holder)
  for _, name in ipairs(hold.budgets) do
    put(budgets, name .. ':heldUsd', math.max(0, num(budgets, name .. ':heldUsd') - hold.usd))
    put(budgets, name .. ':heldTokens', math.max(0, num(budgets, name .. ':heldTokens') - hold.tokens))
    if spent then
      put(budgets, name .. ':spentUsd', num(budgets, name .. ':spentUsd') + hold.usd)
      put(budgets, name .. ':spentTokens', num(budgets, name .. ':spentTokens') + hold.tokens)
    end
  end
  for _, name in ipairs(hold.rates) do
    put(rates, name .. ':active', math.max(0, num(rates, name .. ':active') - 1))
  end
  return hold
end

local function releaseLapsed(holds, expiries, budgets, rates, now)
  for _, holder in ipairs(redis.call('ZRANGE', expiries, '-inf', now, 'BYSCORE')) do
    releaseHold(holds, expiries, budgets, rates, holder, '', true)
  end
end
