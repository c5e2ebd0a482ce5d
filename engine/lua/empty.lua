-- Empty a queue like RQ's `Queue.empty()`: pop every id and delete its hash and dependents set
-- (and its dependencies set, which RQ leaves behind as garbage). Registries and results streams
-- are untouched, as in RQ. One call, so no job is half-deleted; O(queue length) like RQ's.
-- KEYS[1] the queue list
-- ARGV: none
-- Returns: how many ids were popped
local count = 0
while true do
  local ids = redis.call('LPOP', KEYS[1], 1000)
  if not ids then
    break
  end
  for _, id in ipairs(ids) do
    redis.call('DEL', K('job', id), K('dependents', id), K('dependencies', id))
  end
  count = count + #ids
end
return count
