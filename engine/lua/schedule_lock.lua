-- schedule_lock: acquire or refresh RQ's scheduler lock for one queue (compare-and-set).
-- KEYS[1]: rq:scheduler-lock:<q>
-- ARGV[1]: scheduler name   ARGV[2]: TTL seconds
-- Returns: 1 if this scheduler holds the lock now, 0 if another one does.
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
if owner == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
