-- Cancel jobs that have not started (RQ's `job.cancel()` for queued, deferred and scheduled
-- jobs): status `canceled`, LREM from the queue, ZREM from the registry of its status, ZADD to
-- `rq:canceled:<origin>`. The job stays in its parents' dependents sets, as in RQ; the dependents
-- release skips canceled children.
-- KEYS: none
-- ARGV[1] now, integer unix seconds   ARGV[2..] job ids
-- Returns: {done ids, skipped (id, reason) pairs}; reasons: not_found, no_origin, wrong_state
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = K('job', id)
  local st = redis.call('HMGET', jk, 'status', 'origin')
  local status, origin = st[1], st[2]
  if redis.call('EXISTS', jk) == 0 then
    skip(id, 'not_found')
  elseif status ~= 'queued' and status ~= 'deferred' and status ~= 'scheduled' then
    skip(id, 'wrong_state')
  elseif not origin or origin == '' then
    skip(id, 'no_origin')
  else
    redis.call('HSET', jk, 'status', 'canceled')
    redis.call('LREM', K('queue', origin), 1, id)
    local reg = registry_of(status, origin)
    if reg then
      redis.call('ZREM', reg, id)
    end
    redis.call('ZADD', K('canceled', origin), ARGV[1], id)
    done[#done + 1] = id
  end
end
return {done, skipped}
