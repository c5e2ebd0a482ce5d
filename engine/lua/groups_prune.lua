-- Drops index entries whose failure is gone from its registry or was replaced by a newer one
-- (requeued, deleted, expired, re-failed: by anyone, Python RQ and rq-dashboard included).
-- KEYS: none
-- ARGV[1] 'scan': ARGV[2] HSCAN cursor of the index, ARGV[3] COUNT hint
-- ARGV[1] 'members': ARGV[2..] index members (`<queue>\n<id>`) to check
-- Returns: {next cursor ('0' for 'members'), entries dropped, entries checked}
local pairs_ = {}
local cursor = '0'
if ARGV[1] == 'scan' then
  local reply = redis.call('HSCAN', K('fg_jobs'), ARGV[2], 'COUNT', ARGV[3])
  cursor, pairs_ = reply[1], reply[2]
else
  for i = 2, #ARGV do
    local v = redis.call('HGET', K('fg_jobs'), ARGV[i])
    if v then
      pairs_[#pairs_ + 1] = ARGV[i]
      pairs_[#pairs_ + 1] = v
    end
  end
end
local dropped = 0
for i = 1, #pairs_ - 1, 2 do
  local member, value = pairs_[i], pairs_[i + 1]
  local queue, id = string.match(member, '^(.*)\n(.*)$')
  local score = split_value(value)
  local in_registry = queue and redis.call('ZSCORE', K('failed', queue), id)
  if not in_registry or tostring(in_registry) ~= score then
    unindex(member, value)
    dropped = dropped + 1
  end
end
return {cursor, dropped, #pairs_ / 2}
