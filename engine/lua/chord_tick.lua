-- chord_tick: the safety net for members that ended without Taskmill's finish script (run by a
-- Python `rq worker`, canceled, deleted, expired): checks the chords that are due, completes
-- those whose members have all ended, and returns the ones whose callback is due.
-- KEYS: none (keys are built with K()).
-- ARGV[1]: now (unix float)   ARGV[2]: now (RQ text)   ARGV[3]: most chords checked per call
-- ARGV[4]: seconds until a chord still waiting (or ready, in case its firer died) is rechecked
-- Returns: names of chords in status `ready` (for `chord_fire.lua`).
local now, nowtxt, max, delay = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local open = K('chords_open')
local due = redis.call('ZRANGEBYSCORE', open, '-inf', now, 'LIMIT', 0, max)
local ready = {}
for _, gid in ipairs(due) do
  local ck = K('chord', gid)
  local st = redis.call('HGET', ck, 'status')
  if st == 'waiting' then
    local ekey = K('chord_ended', gid)
    for _, id in ipairs(redis.call('SMEMBERS', K('chord_members', gid))) do
      if redis.call('SISMEMBER', ekey, id) == 0 then
        local s = redis.call('HGET', K('job', id), 'status')
        if not s then
          chord_member_ended(gid, id, 'gone', nowtxt)
        elseif s == 'finished' or s == 'failed' or s == 'stopped' or s == 'canceled' then
          chord_member_ended(gid, id, s, nowtxt)
        end
      end
    end
    st = redis.call('HGET', ck, 'status')
  end
  if st == 'ready' then
    ready[#ready + 1] = gid
    redis.call('ZADD', open, now + delay, gid)
  elseif st == 'waiting' then
    redis.call('ZADD', open, now + delay, gid)
  else
    redis.call('ZREM', open, gid)
  end
end
return ready
