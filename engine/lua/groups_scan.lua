-- Read-only: one ZSCAN slice of a failed registry, compared with the failure-group index.
-- KEYS: none (the registry and the index are built with K())
-- ARGV[1] queue name   ARGV[2] ZSCAN cursor   ARGV[3] COUNT hint
-- Returns: {next cursor, {id, score, id, score, ...}} — the failures in the slice that the index
-- does not hold with this registry score (new ones, and re-failed ones: a new failure gets a
-- new score).
local queue = ARGV[1]
local reply = redis.call('ZSCAN', K('failed', queue), ARGV[2], 'COUNT', ARGV[3])
local items, unseen = reply[2], {}
for i = 1, #items - 1, 2 do
  local id, score = items[i], items[i + 1]
  local v = redis.call('HGET', K('fg_jobs'), queue .. '\n' .. id)
  if not v or string.match(v, '^([^\t]*)') ~= score then
    unseen[#unseen + 1] = id
    unseen[#unseen + 1] = score
  end
end
return {reply[1], unseen}
