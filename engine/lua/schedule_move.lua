-- schedule_move: move one queue's due scheduled jobs onto the queue (RQ 9.6, one atomic step).
-- KEYS[1]: rq:scheduled:<q>   KEYS[2]: rq:queue:<q>
-- ARGV[1]: now (integer unix seconds)   ARGV[2]: now (RQ text)   ARGV[3]: max jobs per call
-- Returns: number of jobs queued (ids whose hash is gone are dropped from the registry).
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], 0, ARGV[1], 'LIMIT', 0, ARGV[3])
local moved = 0
for _, id in ipairs(ids) do
  local jkey = K('job', id)
  if redis.call('EXISTS', jkey) == 1 then
    local front = redis.call('HGET', jkey, 'enqueue_at_front') == '1'
    local started = redis.call('HGET', jkey, 'started_at')
    if redis.call('HGET', jkey, 'enqueue_at_front_on_retry') == '1' and started and started ~= '' then
      front = true
    end
    redis.call('HSET', jkey, 'status', 'queued', 'enqueued_at', ARGV[2])
    if front then redis.call('LPUSH', KEYS[2], id) else redis.call('RPUSH', KEYS[2], id) end
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
return moved
