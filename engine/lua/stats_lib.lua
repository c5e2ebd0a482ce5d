-- History writers (engine::stats), prepended by scripts.rs to finish.lua (Taskmill workers count
-- their jobs in the finish call they already make) and stats_sample.lua (the console's sampler).
-- Two resolutions: 'm' = 1-minute buckets, one hash per hour; 'h' = 1-hour buckets, one hash per
-- day. Hashes stay small (<= 120 fields) so Redis keeps them in its compact listpack encoding,
-- and every key gets an EXPIREAT of its last bucket's end + the retention of its resolution.
-- KEYS / ARGV: none of its own (keys come from K, key_lib.lua).
-- Returns: nothing; defines stats_slots(now), stats_jobs(now, jobs, cap), stats_gauges(now,
--   scope, packed) and stats_total(queue, finished, failed) for the script that follows.
local STATS_RES = {{'m', 60, 3600, 'minute_ttl', 172800}, {'h', 3600, 86400, 'hour_ttl', 7776000}}
local stats_slot_cache, stats_expired = nil, {}

-- For each resolution: the key's start (text), the bucket's index in it (text), and the key's
-- expiry (unix seconds). Retention comes from taskmill:stats:config (defaults 48 h / 90 days).
local function stats_slots(now)
  if stats_slot_cache then return stats_slot_cache end
  local cfg = redis.call('HMGET', K('stats_config'), STATS_RES[1][4], STATS_RES[2][4])
  local out = {}
  for j, r in ipairs(STATS_RES) do
    local step, span = r[2], r[3]
    local start = now - now % span
    out[j] = {res = r[1], start = string.format('%d', start),
      i = string.format('%d', (now - start) / step), exp = start + span + (tonumber(cfg[j]) or r[5])}
  end
  stats_slot_cache = out
  return out
end

local function stats_expire(key, at)
  if not stats_expired[key] then
    stats_expired[key] = true
    redis.call('EXPIREAT', key, string.format('%d', at))
  end
end

-- Finished / failed counters of one scope ('all' or 'q:<queue>') in the current buckets. The
-- key's expiry is set when a bucket's field is created (the increment's result equals the
-- increment): the key is always created with such a field, and its expiry never changes, so
-- setting it once per bucket is enough. That keeps EXPIREAT off the per-batch path.
local function stats_count(now, scope, fin, fail)
  for _, s in ipairs(stats_slots(now)) do
    local key = K('stats_c_' .. s.res, s.start, scope)
    local fresh = false
    if fin > 0 then fresh = redis.call('HINCRBY', key, 'f' .. s.i, fin) == fin end
    if fail > 0 then fresh = (redis.call('HINCRBY', key, 'x' .. s.i, fail) == fail) or fresh end
    if fresh then stats_expire(key, s.exp) end
  end
end

-- Running totals of one queue for /metrics (no TTL).
local function stats_total(queue, fin, fail)
  local key = K('stats_t', queue)
  if fin > 0 then redis.call('HINCRBY', key, 'finished', fin) end
  if fail > 0 then redis.call('HINCRBY', key, 'failed', fail) end
end

-- `count failed total_us b:n b:n ...` + r (count, failed, us, hist) → the sum, packed.
local function stats_merge(old, r)
  local c, x, us, h = r[1], r[2], r[3], {}
  for b, n in pairs(r[4]) do h[b] = n end
  if old then
    local it = string.gmatch(old, '%S+')
    c = c + (tonumber(it() or '') or 0)
    x = x + (tonumber(it() or '') or 0)
    us = us + (tonumber(it() or '') or 0)
    for tok in it do
      local b, n = string.match(tok, '^(%d+):(%d+)$')
      if b then
        b = tonumber(b)
        h[b] = (h[b] or 0) + tonumber(n)
      end
    end
  end
  local parts = {string.format('%d %d %.0f', c, x, us)}
  for b = 0, 63 do
    if h[b] then parts[#parts + 1] = b .. ':' .. h[b] end
  end
  return table.concat(parts, ' ')
end

-- jobs: list of {queue, function, ok (bool), duration us, histogram bucket}. cap: functions
-- tracked per queue in the /metrics totals (the rest count as 'other').
local function stats_jobs(now, jobs, cap)
  local byq, byf, byqf, qs, fs = {}, {}, {}, {}, {}
  for _, j in ipairs(jobs) do
    local q, f, ok, us, b = j[1], j[2], j[3], j[4], j[5]
    local a = byq[q]
    if not a then
      a = {0, 0}
      byq[q], byqf[q] = a, {}
      qs[#qs + 1] = q
    end
    if ok then a[1] = a[1] + 1 else a[2] = a[2] + 1 end
    for _, t in ipairs({byf, byqf[q]}) do
      local r = t[f]
      if not r then
        r = {0, 0, 0, {}}
        t[f] = r
        if t == byf then fs[#fs + 1] = f end
      end
      r[1] = r[1] + 1
      if not ok then r[2] = r[2] + 1 end
      r[3] = r[3] + us
      r[4][b] = (r[4][b] or 0) + 1
    end
  end
  local all = {0, 0}
  for _, q in ipairs(qs) do
    local a = byq[q]
    all[1], all[2] = all[1] + a[1], all[2] + a[2]
    stats_count(now, K('stats_scope', q), a[1], a[2])
    stats_total(q, a[1], a[2])
    local key = K('stats_t', q)
    for f, r in pairs(byqf[q]) do
      -- A function's first count creates its field (the result equals the increment); only
      -- then is the cap checked, and an uncounted function's count moves to 'other'.
      if redis.call('HINCRBY', key, 'c\t' .. f, r[1]) == r[1] then
        if redis.call('HINCRBY', key, 'nfn', 1) > cap then
          redis.call('HINCRBY', key, 'nfn', -1)
          redis.call('HDEL', key, 'c\t' .. f)
          f = 'other'
          redis.call('HINCRBY', key, 'c\t' .. f, r[1])
        end
      end
      redis.call('HINCRBY', key, 's\t' .. f, string.format('%.0f', r[3]))
      for b, n in pairs(r[4]) do redis.call('HINCRBY', key, 'h\t' .. f .. '\t' .. b, n) end
    end
  end
  stats_count(now, K('stats_all'), all[1], all[2])
  -- A function's bucket field is created once per bucket (HSET answers 1): only then can the
  -- key be new or the function missing from the index of its key's span, so the index SADD and
  -- both expiries happen then, not on every batch.
  for _, s in ipairs(stats_slots(now)) do
    local index, added = K('stats_fi_' .. s.res, s.start), {}
    for _, f in ipairs(fs) do
      local key = K('stats_f_' .. s.res, s.start, f)
      if redis.call('HSET', key, s.i, stats_merge(redis.call('HGET', key, s.i), byf[f])) == 1 then
        stats_expire(key, s.exp)
        added[#added + 1] = f
      end
    end
    if #added > 0 then
      redis.call('SADD', index, unpack(added))
      stats_expire(index, s.exp)
    end
  end
end

-- The console's gauges of one scope: `depth started latency busy idle` (latency '-' = none).
local function stats_gauges(now, scope, packed)
  for _, s in ipairs(stats_slots(now)) do
    local key = K('stats_g_' .. s.res, s.start, scope)
    redis.call('HSET', key, s.i, packed)
    stats_expire(key, s.exp)
  end
end
