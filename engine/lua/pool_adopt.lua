-- Marks a Python `rq worker` as a child of a supervised pool (`taskmill pool`), so the console
-- groups it under the pool and `scale` on its name reaches the pool. Only if the hash still
-- exists and still belongs to the same process: a worker that died must not come back as a
-- partial hash, and a reused name must not be mislabelled.
-- KEYS[1] rq:worker:<name>
-- ARGV[1] pool id   ARGV[2] the child's pid   ARGV[3] the child's hostname
-- Returns: 1 adopted, 0 not (gone or another process).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local who = redis.call('HMGET', KEYS[1], 'pid', 'hostname')
if who[1] ~= ARGV[2] or who[2] ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], 'taskmill_pool', ARGV[1])
return 1
