-- Prelude prepended to the action scripts (not a script of its own). ARGV[1] is a JSON object of
-- key templates rendered by keys.rs, e.g. {"job": ["rq:job:", ""], "execution": ["rq:execution:",
-- ":", ""]}: the scripts learn a job's origin only from its hash, so they build the keys of that
-- queue here, while the layout itself stays defined in keys.rs alone.
-- key(name, a[, b]) fills the template's holes in order.
local T = cjson.decode(ARGV[1])
local function key(name, a, b)
  local t = T[name]
  if b == nil then
    return t[1] .. a .. t[2]
  end
  return t[1] .. a .. t[2] .. b .. t[3]
end
-- Outcome lists shared by the per-id scripts: ids changed, and (id, reason) pairs left alone.
local done, skipped = {}, {}
local function skip(id, reason)
  skipped[#skipped + 1] = id
  skipped[#skipped + 1] = reason
end
-- The registry that indexes a job in a given status (RQ's `_remove_from_registries`).
local function registry_of(status, origin)
  if status == 'deferred' or status == 'scheduled' or status == 'finished' or status == 'canceled' then
    return key(status, origin)
  elseif status == 'failed' or status == 'stopped' then
    return key('failed', origin)
  end
  return nil
end
local function push(queue_key, id, front)
  if front then
    redis.call('LPUSH', queue_key, id)
  else
    redis.call('RPUSH', queue_key, id)
  end
end
