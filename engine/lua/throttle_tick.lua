-- throttle_tick: release permits (jobs that ended) and wake parked jobs for the freed permits;
-- with no releases it is the periodic tick that returns permits of dead workers (expired
-- leases) and reopened rate windows to waiting jobs.
-- KEYS: none (keys are built from the ids below with K()).
-- ARGV[1]: now (unix float)   ARGV[2]: n limits
-- ARGV[3 .. 2+4n]: 4 per limit: limit id, concurrency (0 = none), rate count (0 = none), window
-- ARGV[3+4n ..]: pairs (limit index 1-based, holder member `<id>:<x>`) to release
-- Returns: {moved, reopen}: parked jobs moved back to their queue heads, and the earliest time
--   (unix float, as text; '' = none) a full rate window reopens while jobs wait for it.
local now, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local limits = {}
for i = 1, n do
  local b = 2 + 4 * (i - 1)
  limits[i] = {id = ARGV[b + 1], conc = tonumber(ARGV[b + 2]), count = tonumber(ARGV[b + 3]),
    win = tonumber(ARGV[b + 4])}
end
local touched = {}
local j = 3 + 4 * n
while j < #ARGV do
  local i = tonumber(ARGV[j])
  local l = limits[i]
  if l then
    if l.conc > 0 then call('ZREM', K('limit_holders', l.id), ARGV[j + 1]) end
    touched[i] = true
  end
  j = j + 2
end
local all = j == 3 + 4 * n
local moved, reopen = 0, nil
for i, l in ipairs(limits) do
  if all or touched[i] then
    local m, r = throttle_wake(l, now)
    moved = moved + m
    if r and call('LLEN', K('limit_waiting', l.id)) > 0 and (not reopen or r < reopen) then
      reopen = r
    end
  end
end
return {moved, reopen and tostring(reopen) or ''}
