-- Delete jobs and everything that refers to them: queue and intermediate list entries, every
-- registry of the origin (started members `<id>:<execution>` found through the executions
-- zset), execution hashes, the executions zset, the parents' dependents sets, the job hash, its
-- dependents and dependencies sets, its results stream (RQ keeps that one; an operator's delete
-- means gone) and its group membership.
-- KEYS: none
-- ARGV[1..] job ids
-- Returns: {done ids, skipped (id, reason) pairs}; reason: not_found
for i = 1, #ARGV do
  local id = ARGV[i]
  local jk = K('job', id)
  if redis.call('EXISTS', jk) == 0 then
    skip(id, 'not_found')
  else
    local st = redis.call('HMGET', jk, 'origin', 'group_id')
    local origin, group = st[1], st[2]
    local executions = redis.call('ZRANGE', K('executions', id), 0, -1)
    if origin and origin ~= '' then
      redis.call('LREM', K('queue', origin), 0, id)
      redis.call('LREM', K('intermediate', origin), 0, id)
      for _, reg in ipairs({'finished', 'failed', 'deferred', 'scheduled', 'canceled'}) do
        redis.call('ZREM', K(reg, origin), id)
      end
      local wip = K('started', origin)
      redis.call('ZREM', wip, id)
      for _, x in ipairs(executions) do
        redis.call('ZREM', wip, id .. ':' .. x)
      end
    end
    for _, x in ipairs(executions) do
      redis.call('DEL', K('execution', id, x))
    end
    for _, parent in ipairs(redis.call('SMEMBERS', K('dependencies', id))) do
      redis.call('SREM', K('dependents', parent), id)
    end
    redis.call('DEL', jk, K('dependents', id), K('dependencies', id),
      K('executions', id), K('results', id))
    if group and group ~= '' then
      redis.call('SREM', K('group', group), id)
    end
    done[#done + 1] = id
  end
end
return {done, skipped}
