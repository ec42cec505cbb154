-- Counts what a holder really spent against the budgets it names, gives back its hold, and hands
-- back to token rate limits what the worst case reserved beyond the real use. The spend counts
-- even when the hold lapsed meanwhile: the work was done and paid for.
-- KEYS[1] holds hash, KEYS[2] expiries zset, KEYS[3] budgets hash, KEYS[4] rates hash
-- A token that is not the hold's (the hold was replaced: this holder's task went to another
-- worker) counts the spend and leaves the hold in place alone.
-- ARGV[1] holder, ARGV[2] JSON {usd, tokens, token?, budgets: [name], rates: [{name, tokensPerMinute?}]}
-- @include now-ms.lua
-- @include ledger.lua
local holds, expiries, budgets, rates = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local spend = cjson.decode(ARGV[2])
local now = nowMs()
local hold = releaseHold(holds, expiries, budgets, rates, ARGV[1], spend.token or '', false)
for _, name in ipairs(spend.budgets) do
  put(budgets, name .. ':spentUsd', num(budgets, name .. ':spentUsd') + spend.usd)
  put(budgets, name .. ':spentTokens', num(budgets, name .. ':spentTokens') + spend.tokens)
end
if hold and hold.tokens > spend.tokens then
  for _, r in ipairs(spend.rates) do
    local perMinute = tonumber(r.tokensPerMinute)
    local field = r.name .. ':ttat'
    local tat = num(rates, field)
    if perMinute and tat > now then
      put(rates, field, math.max(now, tat - (hold.tokens - spend.tokens) * 60000 / perMinute))
    end
  end
end
return 1
