-- Adds decoded failures to the failure-group index (Taskmill's keys only; RQ's are read).
-- Each entry is indexed only if its registry still holds it with the score it was read at, so
-- a failure requeued or deleted meanwhile is not indexed; a re-failed one replaces its old entry.
-- KEYS: none
-- ARGV[1] queue name, then per failure 7 values: id, registry score, fingerprint, func,
-- failure time, exception type, example message
-- Returns: how many entries were (re)indexed
local queue, n = ARGV[1], 0
for i = 2, #ARGV - 6, 7 do
  local id, score, fp, func = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local live = redis.call('ZSCORE', K('failed', queue), id)
  local member = queue .. '\n' .. id
  local value = score .. '\t' .. fp .. '\t' .. func
  local old = redis.call('HGET', K('fg_jobs'), member)
  if live and tostring(live) == score and old ~= value then
    if old then unindex(member, old) end
    index(member, queue, value, ARGV[i + 4], ARGV[i + 5], ARGV[i + 6])
    n = n + 1
  end
end
return n
