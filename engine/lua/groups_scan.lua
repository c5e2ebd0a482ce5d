-- Read-only: one ZSCAN slice of a failed registry, compared with the failure-group index.
-- KEYS: none (the registry, the job hashes and the index are built with K())
-- ARGV[1] queue name   ARGV[2] ZSCAN cursor   ARGV[3] COUNT hint
-- Returns: {next cursor, {id, score, id, score, ...}} — the failures in the slice that the index
-- does not hold with this registry score and `ended_at` (new ones, and re-failed ones).
local queue = ARGV[1]
local reply = redis.call('ZSCAN', K('failed', queue), ARGV[2], 'COUNT', ARGV[3])
local items, unseen = reply[2], {}
for i = 1, #items - 1, 2 do
  local id, score = items[i], items[i + 1]
  local v = redis.call('HGET', K('fg_jobs'), queue .. '\n' .. id)
  local seen = false
  if v then
    local s, e = split_value(v)
    local ok, ended = pcall(redis.call, 'HGET', K('job', id), 'ended_at')
    if not ok or not ended then ended = '' end
    seen = s == score and e == ended
  end
  if not seen then
    unseen[#unseen + 1] = id
    unseen[#unseen + 1] = score
  end
end
return {reply[1], unseen}
