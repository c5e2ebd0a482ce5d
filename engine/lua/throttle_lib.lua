-- Shared part of the limit scripts (throttle_acquire, throttle_tick): prepended after key_lib.lua
-- by `scripts.rs`, so it has no KEYS or ARGV of its own.
-- A limit is {id, conc, count, win}: conc = max permits held at once (0 = none), count starts
-- per win seconds (0 = none). Holders are scored by lease expiry, starts by start time.
-- Returns: nothing; defines call, throttle_free() and throttle_wake().
local call = redis.call

-- Drops expired holders and starts that left the window. Returns how many more jobs may start
-- now (huge when the limit has no bound of that kind) and, when the rate bound is what is full,
-- the time it reopens (the oldest start + win).
local function throttle_free(l, now)
  local free, reopen = 1e9, nil
  if l.conc > 0 then
    local h = K('limit_holders', l.id)
    call('ZREMRANGEBYSCORE', h, '-inf', now)
    free = l.conc - call('ZCARD', h)
  end
  if l.count > 0 then
    local s = K('limit_starts', l.id)
    call('ZREMRANGEBYSCORE', s, '-inf', now - l.win)
    local used = call('ZCARD', s)
    if l.count - used < free then free = l.count - used end
    if used >= l.count then
      local first = call('ZRANGE', s, 0, 0, 'WITHSCORES')
      if first[2] then reopen = tonumber(first[2]) + l.win end
    end
  end
  return free, reopen
end

-- Moves as many parked jobs as there are free permits back to the head of their queue (oldest
-- parked first, so it ends up first). Jobs whose hash is gone, or that are no longer `queued`
-- (canceled or deleted while parked), are dropped from the list. Returns the number moved and
-- the reopen time (see throttle_free), if any.
local function throttle_wake(l, now)
  local free, reopen = throttle_free(l, now)
  local w = K('limit_waiting', l.id)
  local moved, back = 0, {}
  while free > 0 do
    local id = call('LPOP', w)
    if not id then break end
    local jkey = K('job', id)
    local got = call('HMGET', jkey, 'origin', 'status')
    if got[1] and got[2] == 'queued' then
      back[#back + 1] = {got[1], id}
      moved = moved + 1
      free = free - 1
    end
  end
  for i = #back, 1, -1 do call('LPUSH', K('queue', back[i][1]), back[i][2]) end
  return moved, reopen
end
