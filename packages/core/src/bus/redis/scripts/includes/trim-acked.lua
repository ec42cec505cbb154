-- Drops acked task entries in bulk instead of one XDEL per task (XDEL is the costliest step of a
-- completion). Every entry older than the group's oldest pending entry, and no newer than its
-- last-delivered id, has been acked; approximate MINID trimming frees whole stream nodes.
local function trimAcked(stream, group)
  local oldest = redis.call('XPENDING', stream, group)[2]
  if not oldest then
    for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
      for j = 1, #info, 2 do
        if info[j] == 'name' and info[j + 1] ~= group then
          break
        end
        if info[j] == 'last-delivered-id' then
          oldest = info[j + 1]
        end
      end
    end
  end
  if oldest then
    redis.call('XTRIM', stream, 'MINID', '~', oldest)
  end
end
