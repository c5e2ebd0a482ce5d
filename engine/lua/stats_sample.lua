-- stats_sample: one console's history sample for one interval (engine::stats::sample): the
-- gauges of every queue and of all queues together, and Python `rq worker` counters' deltas
-- attributed to their (first) queue. Taskmill slots are not passed: they record themselves in
-- finish.lua. The caller already holds the interval's lock (taskmill:stats:lock:*).
-- KEYS: none (keys come from K).
-- ARGV[1]: now (integer unix seconds)   ARGV[2]: nq
-- ARGV[3 .. 2+2*nq]: per queue: name, packed gauges `depth started latency busy idle`
-- ARGV[3+2*nq]: packed gauges of all queues together
-- ARGV[4+2*nq]: nw, then 5 fields per live Python worker: name, successful_job_count,
--   failed_job_count, birth (unix seconds, '' unknown), first queue it listens on
-- Returns: {finished, failed}: the Python workers' jobs counted by this sample.
-- Last-seen counters live in taskmill:stats:rqw (`successful failed birth queue` per worker),
-- so deltas survive console restarts. A counter that went down, or a new birth under the same
-- name, is a restart: the new counters are all new work. A worker first seen now counts fully
-- if it was born after the previous sample, else its counters are a baseline. A worker gone
-- from rq:workers is read once more from its hash (RQ keeps it 60 s after death) for its last
-- jobs, then forgotten.
local now = tonumber(ARGV[1])
local nq = tonumber(ARGV[2])
for i = 0, nq - 1 do
  stats_gauges(now, K('stats_scope', ARGV[3 + 2 * i]), ARGV[4 + 2 * i])
end
stats_gauges(now, K('stats_all'), ARGV[3 + 2 * nq])

local seen_key, at_key = K('stats_rq_seen'), K('stats_rq_seen_at')
local last_at = tonumber(redis.call('GET', at_key) or '')
local seen = {}
local flat = redis.call('HGETALL', seen_key)
for i = 1, #flat, 2 do seen[flat[i]] = flat[i + 1] end

local byq, order = {}, {}
local function credit(queue, ds, df)
  if queue == '' or ds + df == 0 then return end
  local a = byq[queue]
  if not a then
    a = {0, 0}
    byq[queue] = a
    order[#order + 1] = queue
  end
  a[1], a[2] = a[1] + ds, a[2] + df
end
local function parse(prev)
  local ps, pf, pb, pq = string.match(prev, '^(%d+) (%d+) (%S*) ?(.*)$')
  return tonumber(ps) or 0, tonumber(pf) or 0, pb or '', pq or ''
end
-- Delta since `prev` (nil: never seen) for counters s, f and birth b.
local function delta(prev, s, f, b)
  if prev then
    local ps, pf, pb = parse(prev)
    if s < ps or f < pf or pb ~= b then return s, f end
    return s - ps, f - pf
  end
  local born = tonumber(b)
  if last_at and born and born >= last_at then return s, f end
  return 0, 0
end

local base = 5 + 2 * nq
local nw = tonumber(ARGV[base - 1])
local present = {}
for w = 0, nw - 1 do
  local at = base + 5 * w
  local name, s, f, b, queue = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
  s, f = tonumber(s) or 0, tonumber(f) or 0
  present[name] = true
  local ds, df = delta(seen[name], s, f, b)
  credit(queue, ds, df)
  redis.call('HSET', seen_key, name, string.format('%d %d %s %s', s, f, b, queue))
end
for name, prev in pairs(seen) do
  if not present[name] then
    -- Gone from rq:workers: its hash (if still there) has the final counters.
    local h = redis.call('HMGET', K('worker', name), 'successful_job_count', 'failed_job_count')
    local ps, pf, _, pq = parse(prev)
    if h[1] or h[2] then
      local s, f = tonumber(h[1]) or 0, tonumber(h[2]) or 0
      if s >= ps and f >= pf then credit(pq, s - ps, f - pf) end
    end
    redis.call('HDEL', seen_key, name)
  end
end
redis.call('SET', at_key, ARGV[1])

local all = {0, 0}
for _, q in ipairs(order) do
  local a = byq[q]
  stats_count(now, K('stats_scope', q), a[1], a[2])
  stats_total(q, a[1], a[2])
  all[1], all[2] = all[1] + a[1], all[2] + a[2]
end
stats_count(now, K('stats_all'), all[1], all[2])
return all
