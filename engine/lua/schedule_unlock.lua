-- schedule_unlock: release RQ's scheduler lock only if this scheduler owns it (compare-and-delete).
-- KEYS[1]: rq:scheduler-lock:<q>
-- ARGV[1]: scheduler name
-- Returns: 1 if deleted, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
