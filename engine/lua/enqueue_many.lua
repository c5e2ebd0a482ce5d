-- Creates many plain jobs (no dependencies, no schedule) in one call: all or nothing.
-- Jobs of one batch mostly differ only in id, `data` and `description`, so the other hash fields
-- travel once per distinct "shape" (template) instead of once per job: that keeps the call's
-- argument count, and Redis' time parsing it, about 10x smaller.
-- KEYS[1] rq:queues; KEYS[1+t] the queue list of template t (t = 1..T); KEYS[1+T+j] job j's hash
-- ARGV[1] T; then per template: "1" = push at the front, ttl or "", m, then m items (field/value
-- pairs in RQ's write order, `status` first; the values of `data` and `description` are
-- placeholders); then per job: template index, id, data, description.
-- Returns: 0 when every job was written, else j of the first job whose hash already exists
-- (then nothing was written).
local T = tonumber(ARGV[1])
local templates = {}
local p = 2
for t = 1, T do
  local m = tonumber(ARGV[p + 2])
  local items = {}
  local data_at, desc_at
  for i = 1, m do
    items[i] = ARGV[p + 2 + i]
  end
  for i = 1, m, 2 do
    if items[i] == 'data' then
      data_at = i + 1
    elseif items[i] == 'description' then
      desc_at = i + 1
    end
  end
  templates[t] = {front = ARGV[p] == '1', ttl = ARGV[p + 1], items = items,
    data_at = data_at, desc_at = desc_at, queue = KEYS[1 + t]}
  p = p + 3 + m
end
local jobs = #KEYS - 1 - T
for j = 1, jobs do
  if redis.call('EXISTS', KEYS[1 + T + j]) == 1 then
    return j
  end
end
for t = 1, T do
  redis.call('SADD', KEYS[1], KEYS[1 + t])
end
for j = 1, jobs do
  local t = templates[tonumber(ARGV[p])]
  local id, key = ARGV[p + 1], KEYS[1 + T + j]
  -- The template table is reused: only the two per-job values change.
  t.items[t.data_at] = ARGV[p + 2]
  t.items[t.desc_at] = ARGV[p + 3]
  redis.call('HSET', key, unpack(t.items))
  if t.ttl ~= '' then
    redis.call('EXPIRE', key, t.ttl)
  end
  if t.front then
    redis.call('LPUSH', t.queue, id)
  else
    redis.call('RPUSH', t.queue, id)
  end
  p = p + 4
end
return 0
