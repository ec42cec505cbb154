-- Gives back a holder's reservation, nothing spent: the work was not done. With a token, only the
-- reservation made with it.
-- KEYS[1] holds hash, KEYS[2] expiries zset, KEYS[3] budgets hash, KEYS[4] rates hash
-- ARGV[1] holder, ARGV[2] token ('' for whichever)
-- @include ledger.lua
releaseHold(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], false)
return 1
