-- Enqueue scheduled, deferred or canceled jobs now (RQ's `registry.requeue` on those registries):
-- ZREM from the registry of its status, status `queued`, new `enqueued_at`, push to the origin
-- queue (front if the job's `enqueue_at_front` is 1). A job enqueued ahead of its parents is also
-- removed from their dependents sets so that a later parent success cannot push it twice.
-- KEYS[1] rq:queues
-- ARGV[1] enqueued_at text   ARGV[2..] job ids
-- Returns: {done ids, skipped (id, reason) pairs}; reasons: not_found, no_origin, wrong_state
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = K('job', id)
  local st = redis.call('HMGET', jk, 'status', 'origin', 'enqueue_at_front')
  local status, origin = st[1], st[2]
  if redis.call('EXISTS', jk) == 0 then
    skip(id, 'not_found')
  elseif status ~= 'scheduled' and status ~= 'deferred' and status ~= 'canceled' then
    skip(id, 'wrong_state')
  elseif not origin or origin == '' then
    skip(id, 'no_origin')
  else
    redis.call('ZREM', registry_of(status, origin), id)
    for _, parent in ipairs(redis.call('SMEMBERS', K('dependencies', id))) do
      redis.call('SREM', K('dependents', parent), id)
    end
    redis.call('HSET', jk, 'status', 'queued', 'enqueued_at', ARGV[1])
    local q = K('queue', origin)
    redis.call('SADD', KEYS[1], q)
    push(q, id, st[3] == '1')
    done[#done + 1] = id
  end
end
return {done, skipped}
