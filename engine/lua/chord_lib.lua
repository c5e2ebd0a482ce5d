-- Chord bookkeeping shared by finish.lua (a member's finish) and chord_tick.lua (members that
-- ended elsewhere): prepended after key_lib.lua by `scripts.rs`, no KEYS or ARGV of its own.
-- A chord (`taskmill:chord:<name>`) is `waiting` until every member is in its `ended` set, then
-- `ready` (the callback is due: `chord_fire.lua` enqueues it once and sets `done`) or, with
-- policy `fail` and a failed member, `failed` (no callback). Both steps run inside one script
-- each, so two members ending together can neither both nor neither complete it.
-- Returns: nothing; defines chord_settle() and chord_member_ended().

-- Completes the chord if every member has ended. `nowtxt` = RQ time text.
local function chord_settle(gid, ck, nowtxt)
  local total = tonumber(redis.call('HGET', ck, 'total') or '0')
  if redis.call('SCARD', K('chord_ended', gid)) < total then return end
  local failed = tonumber(redis.call('HGET', ck, 'failed') or '0')
  if failed > 0 and redis.call('HGET', ck, 'policy') == 'fail' then
    redis.call('HSET', ck, 'status', 'failed', 'ended_at', nowtxt)
    redis.call('ZREM', K('chords_open'), gid)
  else
    redis.call('HSET', ck, 'status', 'ready', 'ended_at', nowtxt)
    -- Due at once for the next tick (any Taskmill process).
    redis.call('ZADD', K('chords_open'), 0, gid)
  end
end

-- Member `id` of group `gid` ended with `status` ('finished', 'failed', 'stopped', 'canceled',
-- or 'gone' for a job whose hash disappeared: ended, not counted as failed).
local function chord_member_ended(gid, id, status, nowtxt)
  if not gid or gid == '' then return end
  local ck = K('chord', gid)
  if redis.call('HGET', ck, 'status') ~= 'waiting' then return end
  if redis.call('SISMEMBER', K('chord_members', gid), id) == 0 then return end
  if redis.call('SADD', K('chord_ended', gid), id) == 0 then return end
  if status ~= 'finished' and status ~= 'gone' then redis.call('HINCRBY', ck, 'failed', 1) end
  chord_settle(gid, ck, nowtxt)
end
