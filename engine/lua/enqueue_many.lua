-- Creates many plain jobs (no dependencies, no schedule) in one call: all or nothing.
-- KEYS[1] rq:queues; for job j (1-based): KEYS[2j] its hash, KEYS[2j+1] its queue list
-- ARGV, per job in order: id, "1" = push at the front, ttl or "", m, then m items
-- (field/value pairs of the hash in RQ's write order, `status` first).
-- Returns: 0 when every job was written, else j of the first job whose hash already exists
-- (then nothing was written).
local jobs = (#KEYS - 1) / 2
for j = 1, jobs do
  if redis.call('EXISTS', KEYS[2 * j]) == 1 then
    return j
  end
end
local seen = {}
local p = 1
for j = 1, jobs do
  local key, queue = KEYS[2 * j], KEYS[2 * j + 1]
  local id, front, ttl, m = ARGV[p], ARGV[p + 1], ARGV[p + 2], tonumber(ARGV[p + 3])
  redis.call('HSET', key, unpack(ARGV, p + 4, p + 3 + m))
  if ttl ~= '' then
    redis.call('EXPIRE', key, ttl)
  end
  if not seen[queue] then
    redis.call('SADD', KEYS[1], queue)
    seen[queue] = true
  end
  if front == '1' then
    redis.call('LPUSH', queue, id)
  else
    redis.call('RPUSH', queue, id)
  end
  p = p + 4 + m
end
return 0
