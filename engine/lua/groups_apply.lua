-- Adds decoded failures to the failure-group index (Taskmill's keys only; RQ's are read).
-- Each entry is indexed only if its registry still holds it with the score (and its hash the
-- `ended_at`) it was read at, so
-- a failure requeued or deleted meanwhile is not indexed; a re-failed one replaces its old entry.
-- KEYS: none
-- ARGV[1] queue name, then per failure 8 values: id, registry score, `ended_at` as read ('' if
-- none), fingerprint, func, failure time, exception type, example message
-- Returns: how many entries were (re)indexed
local queue, n = ARGV[1], 0
for i = 2, #ARGV - 7, 8 do
  local id, score, ended, fp, func = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local live_score, live_ended = live(queue, id)
  local member = queue .. '\n' .. id
  local value = score .. '\t' .. ended .. '\t' .. fp .. '\t' .. func
  local old = redis.call('HGET', K('fg_jobs'), member)
  if live_score == score and live_ended == ended and old ~= value then
    if old then unindex(member, old) end
    index(member, queue, value, ARGV[i + 5], ARGV[i + 6], ARGV[i + 7])
    n = n + 1
  end
end
return n
