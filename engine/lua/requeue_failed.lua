-- Requeue the oldest `limit` entries of one failed registry (a window of "requeue all"). Every
-- examined entry leaves the registry: jobs go back to their origin queue with their original
-- bytes, entries whose hash is gone (expired) are dropped. Atomic per window; the caller loops.
-- KEYS[1] the failed registry
-- ARGV[1] enqueued_at text   ARGV[2] "1" = push at the front
-- ARGV[3] exc_info value (zlib of b'')   ARGV[4] limit
-- Returns: {requeued, examined}
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
local moved = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local jk = K('job', id)
  local origin = redis.call('HGET', jk, 'origin')
  if origin and origin ~= '' then
    redis.call('HSET', jk, 'status', 'queued', 'started_at', '', 'ended_at', '',
      'enqueued_at', ARGV[1], 'exc_info', ARGV[3])
    push(K('queue', origin), id, ARGV[2] == '1')
    moved = moved + 1
  end
end
return {moved, #ids}
