-- Requeue failed jobs onto their origin queue (RQ's `registry.requeue`). The job's `data` is not
-- touched: the original bytes run again.
-- KEYS: none (each job's queue and failed registry follow from its `origin`)
-- ARGV[1] enqueued_at text   ARGV[2] "1" = push at the front
-- ARGV[3] exc_info value (zlib of b'', as RQ writes)   ARGV[4..] job ids
-- Returns: {done ids, skipped (id, reason) pairs}; reasons: not_found, no_origin, not_failed
-- (the ZREM from `rq:failed:<origin>` removed nothing, as RQ requires).
for i = 4, #ARGV do
  local id = ARGV[i]
  local jk = K('job', id)
  local origin = redis.call('HGET', jk, 'origin')
  if redis.call('EXISTS', jk) == 0 then
    skip(id, 'not_found')
  elseif not origin or origin == '' then
    skip(id, 'no_origin')
  elseif redis.call('ZREM', K('failed', origin), id) == 0 then
    skip(id, 'not_failed')
  else
    redis.call('HSET', jk, 'status', 'queued', 'started_at', '', 'ended_at', '',
      'enqueued_at', ARGV[1], 'exc_info', ARGV[3])
    push(K('queue', origin), id, ARGV[2] == '1')
    done[#done + 1] = id
  end
end
return {done, skipped}
