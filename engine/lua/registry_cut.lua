-- Read-only: where a deep page of one registry merged across queues starts. The merged order is
-- by score (descending for ARGV[2] = 'desc', ascending for 'asc'), then queue (KEYS order), then
-- job id (descending / ascending: the registry's own ZREVRANGE / ZRANGE order). Finds the score
-- s of the entry at merged position ARGV[1] by bisecting on score with ZCOUNT (O(log n) per
-- call) inside Redis, so a page costs one round trip however deep it is, and counts per registry
-- the entries before s and at exactly s, from which the caller knows each registry's start index.
-- The bisection runs on y = score (desc) or y = -score (asc), so both orders share one search.
-- KEYS[1..n]  rq:<registry>:<queue>, in the merge's queue order
-- ARGV[1]     offset (0-based position in the merged order)
-- ARGV[2]     'desc' (failed, canceled, deferred: newest first) or 'asc' (scheduled: soonest first)
-- Returns {total} when offset >= total, else {total, s, before_1, at_1, ..., before_n, at_n}
-- with s as a string Redis parses back exactly ('+inf' / '-inf' included). A key that is not a
-- sorted set counts as empty, as it does for the shallow pages' pipeline.
local offset = tonumber(ARGV[1])
local desc = ARGV[2] ~= 'asc'

local zsets = {}
for i = 1, #KEYS do
  zsets[i] = redis.call('TYPE', KEYS[i]).ok == 'zset'
end

local function fmt(x)
  if x == math.huge then
    return '+inf'
  elseif x == -math.huge then
    return '-inf'
  end
  return string.format('%.17g', x)
end

-- Entries with y >= x (score >= x, or score <= -x), over every registry.
local function at_least(x)
  local n = 0
  for i = 1, #KEYS do
    if zsets[i] then
      if desc then
        n = n + redis.call('ZCOUNT', KEYS[i], fmt(x), '+inf')
      else
        n = n + redis.call('ZCOUNT', KEYS[i], '-inf', fmt(-x))
      end
    end
  end
  return n
end

local total = 0
local lo, hi = math.huge, -math.huge -- lowest and highest finite y
for i = 1, #KEYS do
  if zsets[i] then
    local k = KEYS[i]
    total = total + redis.call('ZCARD', k)
    local first = redis.call('ZRANGEBYSCORE', k, '(-inf', '(+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    local last = redis.call('ZREVRANGEBYSCORE', k, '(+inf', '(-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if first[2] and last[2] then
      local a, b = tonumber(first[2]), tonumber(last[2])
      if not desc then
        a, b = -b, -a
      end
      lo = math.min(lo, a)
      hi = math.max(hi, b)
    end
  end
end
if offset >= total then
  return {total}
end

-- s is the highest y with at_least(s) > offset.
local s
if at_least(math.huge) > offset then
  s = math.huge
elseif lo > hi or at_least(lo) <= offset then
  s = -math.huge -- only entries at the far end (score -inf, or +inf ascending) remain
elseif at_least(hi) > offset then
  s = hi
else
  -- at_least(lo) > offset >= at_least(hi): halve until lo and hi are adjacent doubles.
  while true do
    local mid = lo / 2 + hi / 2
    if mid <= lo or mid >= hi then
      break
    end
    if at_least(mid) > offset then
      lo = mid
    else
      hi = mid
    end
  end
  s = lo
end

if not desc then
  s = -s
end
local at = fmt(s)
local out = {total, at}
for i = 1, #KEYS do
  if zsets[i] then
    if desc then
      out[#out + 1] = redis.call('ZCOUNT', KEYS[i], '(' .. at, '+inf')
    else
      out[#out + 1] = redis.call('ZCOUNT', KEYS[i], '-inf', '(' .. at)
    end
    out[#out + 1] = redis.call('ZCOUNT', KEYS[i], at, at)
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
end
return out
