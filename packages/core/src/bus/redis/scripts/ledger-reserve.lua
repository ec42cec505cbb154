-- Reserves a holder's worst case against every budget and rate limit it names, all or nothing.
-- A holder holds one reservation: reserving again replaces it (a task's next delivery after its
-- worker died), and holds past their lapse time are given back first; both count as spent at their
-- worst case, since their calls may have run.
-- KEYS[1] holds hash, KEYS[2] expiries zset, KEYS[3] budgets hash, KEYS[4] rates hash
-- ARGV[1] holder, ARGV[2] request JSON {usd, tokens, holdMs, budgets: [{name, usd?, tokens?}],
-- rates: [{name, requestsPerMinute?, tokensPerMinute?, concurrency?}]}
-- Returns {'reserved'}, {'exhausted', budget name}, or {'wait', ms, limit name}.
-- @include now-ms.lua
-- @include ledger.lua
local HELD_BUDGET_WAIT_MS = 1000
local CONCURRENCY_WAIT_MS = 250
local holds, expiries, budgets, rates = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local holder = ARGV[1]
local request = cjson.decode(ARGV[2])
local now = nowMs()
releaseLapsed(holds, expiries, budgets, rates, now)
releaseHold(holds, expiries, budgets, rates, holder, '', true)

local budgetNames = {}
for _, b in ipairs(request.budgets) do
  budgetNames[#budgetNames + 1] = b.name
  for _, meter in ipairs({ { 'Usd', b.usd, request.usd }, { 'Tokens', b.tokens, request.tokens } }) do
    local kind, limit, want = meter[1], tonumber(meter[2]), meter[3]
    if limit then
      local spent = num(budgets, b.name .. ':spent' .. kind)
      if spent + want > limit then
        return { 'exhausted', b.name }
      end
      if spent + num(budgets, b.name .. ':held' .. kind) + want > limit then
        return { 'wait', HELD_BUDGET_WAIT_MS, b.name }
      end
    end
  end
end

-- GCRA: a limit of n per minute admits one unit every 60000/n ms, with a burst of one second's worth.
local rateNames = {}
local updates = {}
for _, r in ipairs(request.rates) do
  rateNames[#rateNames + 1] = r.name
  local coolUntil = num(rates, r.name .. ':until')
  if coolUntil > now then
    return { 'wait', coolUntil - now, r.name }
  end
  local concurrency = tonumber(r.concurrency)
  if concurrency and num(rates, r.name .. ':active') + 1 > concurrency then
    return { 'wait', CONCURRENCY_WAIT_MS, r.name }
  end
  for _, meter in ipairs({ { 'rtat', tonumber(r.requestsPerMinute), 1 }, { 'ttat', tonumber(r.tokensPerMinute), request.tokens } }) do
    local field, perMinute, cost = meter[1], meter[2], meter[3]
    if perMinute then
      local interval = 60000 / perMinute
      local tat = math.max(num(rates, r.name .. ':' .. field), now)
      local burst = math.max(interval, 1000)
      if tat - now > burst - interval then
        return { 'wait', math.ceil(tat - now - (burst - interval)), r.name }
      end
      updates[#updates + 1] = { r.name .. ':' .. field, tat + interval * cost }
    end
  end
end

for _, b in ipairs(request.budgets) do
  put(budgets, b.name .. ':heldUsd', num(budgets, b.name .. ':heldUsd') + request.usd)
  put(budgets, b.name .. ':heldTokens', num(budgets, b.name .. ':heldTokens') + request.tokens)
  if b.usd then put(budgets, b.name .. ':limitUsd', b.usd) else redis.call('HDEL', budgets, b.name .. ':limitUsd') end
  if b.tokens then put(budgets, b.name .. ':limitTokens', b.tokens) else redis.call('HDEL', budgets, b.name .. ':limitTokens') end
end
for _, r in ipairs(request.rates) do
  put(rates, r.name .. ':active', num(rates, r.name .. ':active') + 1)
end
for _, u in ipairs(updates) do
  put(rates, u[1], u[2])
end
local hold = { usd = request.usd, tokens = request.tokens, budgets = budgetNames, rates = rateNames, token = request.token or '' }
redis.call('HSET', holds, holder, cjson.encode(hold))
redis.call('ZADD', expiries, now + tonumber(request.holdMs), holder)
return { 'reserved' }
