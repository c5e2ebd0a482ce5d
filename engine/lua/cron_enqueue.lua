-- Cron tick: at most one job per (cron job, tick) across every process, written together with
-- the job's history and RQ's cron job registry. `scripts.rs` appends enqueue.lua's body to this
-- text; after the checks below it runs with KEYS 1..7 and ARGV as enqueue.lua expects (no
-- parents), creates the job and returns its status.
-- KEYS[1..7] as enqueue.lua (n = 0)       KEYS[8] taskmill:cron:last:<name> (last tick)
-- KEYS[9] rq:cron_job:<name>:jobs          KEYS[10] rq:cron_jobs
-- ARGV[1] tick, integer unix seconds, or "" (run now: no tick check, last tick unchanged)
-- ARGV[2] cron job name   ARGV[3] enqueue time, unix seconds   ARGV[4] history limit
-- ARGV[5] history TTL, seconds   ARGV[6..] enqueue.lua's ARGV (ARGV[6] = the job id)
-- Returns: "taken" when this tick or a later one was already enqueued (nothing written), else
-- enqueue.lua's reply ("queued", or "duplicate" when the job id exists: nothing written).
local c_tick, c_name, c_at = ARGV[1], ARGV[2], ARGV[3]
local c_limit, c_ttl = tonumber(ARGV[4]), ARGV[5]
for _ = 1, 5 do
  table.remove(ARGV, 1)
end
if c_tick ~= '' then
  local last = tonumber(redis.call('GET', KEYS[8]) or '')
  if last and last >= tonumber(c_tick) then
    return 'taken'
  end
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 'duplicate'
end
if c_tick ~= '' then
  redis.call('SET', KEYS[8], c_tick, 'EX', c_ttl)
end
redis.call('ZADD', KEYS[9], c_at, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[9], 0, -(c_limit + 1))
redis.call('EXPIRE', KEYS[9], c_ttl)
redis.call('ZADD', KEYS[10], c_at, c_name)
