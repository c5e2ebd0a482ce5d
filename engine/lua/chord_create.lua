-- chord_create: make an RQ 2.x group (`rq:group:<name>` + `rq:groups`, members' `group_id`) and
-- its chord record in one step. Members that already ended are counted at once, so a member
-- finishing while this runs is seen either here or by its own finish script, never by neither.
-- KEYS: none (keys are built with K()).
-- ARGV[1]: name   ARGV[2]: policy ('fail' | 'always')   ARGV[3]: callback (NewJob JSON)
-- ARGV[4]: callback job id   ARGV[5]: now (unix float)   ARGV[6]: now (RQ text)
-- ARGV[7]: '1' = a missing member hash is a job that already ended and expired (the caller
--          created the members just before), else it is an unknown id
-- ARGV[8 ..]: member ids
-- Returns: {'ok', status} ('waiting', 'ready' or 'failed'); {'exists'} (a chord or an RQ group
--   of that name exists); {'unknown', ids...}; {'taken', id, other group}.
local name, policy, callback, cb_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, nowtxt, allow_missing = tonumber(ARGV[5]), ARGV[6], ARGV[7] == '1'
local ck = K('chord', name)
if redis.call('EXISTS', ck) == 1 or redis.call('EXISTS', K('group', name)) == 1 then
  return {'exists'}
end
local ids, unknown, statuses = {}, {}, {}
for i = 8, #ARGV do
  local id = ARGV[i]
  local got = redis.call('HMGET', K('job', id), 'status', 'group_id')
  if not got[1] and not allow_missing and redis.call('EXISTS', K('job', id)) == 0 then
    unknown[#unknown + 1] = id
  elseif got[2] and got[2] ~= '' and got[2] ~= name then
    return {'taken', id, got[2]}
  end
  ids[#ids + 1] = id
  statuses[#statuses + 1] = got[1] or 'gone'
end
if #unknown > 0 then return {'unknown', unpack(unknown)} end

local gkey, mkey, ekey = K('group', name), K('chord_members', name), K('chord_ended', name)
local failed = 0
for i, id in ipairs(ids) do
  local st = statuses[i]
  if st ~= 'gone' then redis.call('HSET', K('job', id), 'group_id', name) end
  redis.call('SADD', gkey, id)
  redis.call('SADD', mkey, id)
  if st == 'finished' or st == 'failed' or st == 'stopped' or st == 'canceled' or st == 'gone' then
    if redis.call('SADD', ekey, id) == 1 and st ~= 'finished' and st ~= 'gone' then
      failed = failed + 1
    end
  end
end
redis.call('SADD', K('groups'), name)
redis.call('HSET', ck, 'name', name, 'policy', policy, 'callback', callback,
  'callback_id', cb_id, 'status', 'waiting', 'total', redis.call('SCARD', mkey),
  'failed', failed, 'created_at', nowtxt)
redis.call('ZADD', K('chords'), now, name)
redis.call('ZADD', K('chords_open'), now + 2, name)
chord_settle(name, ck, nowtxt)
return {'ok', redis.call('HGET', ck, 'status')}
