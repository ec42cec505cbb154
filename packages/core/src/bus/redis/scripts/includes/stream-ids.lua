-- Stream ids compare as two numbers, milliseconds then sequence; as strings they would not.
local function idAfter(a, b)
  local aMs, aSeq = string.match(a, '^(%d+)-(%d+)$')
  local bMs, bSeq = string.match(b, '^(%d+)-(%d+)$')
  aMs, aSeq, bMs, bSeq = tonumber(aMs), tonumber(aSeq), tonumber(bMs), tonumber(bSeq)
  return aMs > bMs or (aMs == bMs and aSeq > bSeq)
end
