-- chord_fire: enqueue a ready chord's callback exactly once (the status check and the job write
-- are one step; whoever comes second finds `done` and writes nothing).
-- KEYS[1]: the chord hash   KEYS[2]: rq:queues   KEYS[3]: the callback job hash
-- KEYS[4]: the callback's queue list   KEYS[5]: taskmill:chords:open
-- ARGV[1]: chord name   ARGV[2]: now (RQ text)   ARGV[3]: callback job id
-- ARGV[4 ..]: field/value pairs of the callback job hash in RQ's write order (enqueue layout);
--   `status` is written as 'queued'.
-- Returns: 'fired', or 'skipped' (the chord is not `ready`: fired already, failed, or gone).
if redis.call('HGET', KEYS[1], 'status') ~= 'ready' then return 'skipped' end
if redis.call('EXISTS', KEYS[3]) == 0 then
  local args = {}
  for i = 4, #ARGV, 2 do
    local v = ARGV[i + 1]
    if ARGV[i] == 'status' then v = 'queued' end
    args[#args + 1] = ARGV[i]
    args[#args + 1] = v
  end
  redis.call('HSET', KEYS[3], unpack(args))
  redis.call('SADD', KEYS[2], KEYS[4])
  redis.call('RPUSH', KEYS[4], ARGV[3])
end
redis.call('HSET', KEYS[1], 'status', 'done', 'fired_at', ARGV[2])
redis.call('ZREM', KEYS[5], ARGV[1])
return 'fired'
