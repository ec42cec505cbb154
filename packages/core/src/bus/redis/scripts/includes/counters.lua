-- Counts what happened to a swarm's tasks in swarm:{S}:counters, field `<type>:<event>`, for
-- metrics that see every process's work. The hash is named from the task stream's key (same
-- swarm, so the same hash tag and cluster slot) rather than passed in KEYS: the scripts keep the
-- keys that clients in other languages already pass, and those clients are counted too.
local function countersOf(taskStream)
  local swarm, taskType = string.match(taskStream, '^(swarm:{[^}]+}):tasks:(.+)$')
  if swarm then
    return swarm .. ':counters', taskType .. ':'
  end
  return nil, nil
end

local function countTasks(taskStream, event, n)
  local hash, prefix = countersOf(taskStream)
  if hash and n > 0 then
    redis.call('HINCRBY', hash, prefix .. event, n)
  end
end

local function addCost(taskStream, usd)
  local hash, prefix = countersOf(taskStream)
  if hash and usd > 0 then
    redis.call('HINCRBYFLOAT', hash, prefix .. 'costUsd', string.format('%.17g', usd))
  end
end

-- The attempt a task entry's `task` field records (fields as a flat list), or nil.
local function attemptIn(flat)
  for j = 1, #flat, 2 do
    if flat[j] == 'task' then
      local ok, task = pcall(cjson.decode, flat[j + 1])
      return ok and type(task) == 'table' and tonumber(task['attempt']) or nil
    end
  end
  return nil
end
