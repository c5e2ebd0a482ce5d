-- celery_stats_sample: the sampled gauges of Celery queues (engine::celery::history::sample),
-- written by the console that won the interval's sampling lock, with stats_lib's writer. Only
-- per-queue scopes: the 'all' gauges stay RQ's sampler's.
-- KEYS: none (keys come from K).
-- ARGV[1]: now (integer unix seconds), then per queue: scope name (`celery:<queue>`), packed
--   gauges `depth started latency busy idle`
-- Returns: the number of queues written.
local now = tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV - 1, 2 do
  stats_gauges(now, K('stats_scope', ARGV[i]), ARGV[i + 1])
  n = n + 1
end
return n
