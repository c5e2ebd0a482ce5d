-- Read-only: where a deep page of failed jobs merged across queues starts. The merged order is
-- score descending, then queue (KEYS order), then job id descending. Finds the score s of the
-- entry at merged position ARGV[1] by bisecting on score with ZCOUNT (O(log n) per call) inside
-- Redis, so a page costs one round trip however deep it is, and counts per registry the
-- entries above s and at exactly s, from which the caller knows each registry's start index.
-- KEYS[1..n]  rq:failed:<queue>, in the merge's queue order
-- ARGV[1]     offset (0-based position in the merged order)
-- Returns {total} when offset >= total, else {total, s, above_1, at_1, ..., above_n, at_n}
-- with s as a string Redis parses back exactly ('+inf' / '-inf' included). A key that is not a
-- sorted set counts as empty, as it does for the shallow pages' pipeline.
local offset = tonumber(ARGV[1])

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

-- Entries scoring at least x, over every registry.
local function at_least(x)
  local n = 0
  for i = 1, #KEYS do
    if zsets[i] then
      n = n + redis.call('ZCOUNT', KEYS[i], fmt(x), '+inf')
    end
  end
  return n
end

local total = 0
local lo, hi = math.huge, -math.huge -- lowest and highest finite score
for i = 1, #KEYS do
  if zsets[i] then
    local k = KEYS[i]
    total = total + redis.call('ZCARD', k)
    local first = redis.call('ZRANGEBYSCORE', k, '(-inf', '(+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    local last = redis.call('ZREVRANGEBYSCORE', k, '(+inf', '(-inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if first[2] then lo = math.min(lo, tonumber(first[2])) end
    if last[2] then hi = math.max(hi, tonumber(last[2])) end
  end
end
if offset >= total then
  return {total}
end

-- s is the highest score with at_least(s) > offset.
local s
if at_least(math.huge) > offset then
  s = math.huge
elseif lo > hi or at_least(lo) <= offset then
  s = -math.huge -- only entries scored -inf remain
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

local at = fmt(s)
local out = {total, at}
for i = 1, #KEYS do
  if zsets[i] then
    out[#out + 1] = redis.call('ZCOUNT', KEYS[i], '(' .. at, '+inf')
    out[#out + 1] = redis.call('ZCOUNT', KEYS[i], at, at)
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
end
return out
