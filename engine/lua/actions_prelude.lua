-- Prelude prepended to the action scripts by `scripts.rs`, after key_lib.lua (not a script of
-- its own; no KEYS or ARGV). The scripts learn a job's origin only from its hash, so they build
-- the keys of that queue with K().
-- Returns: nothing; defines done, skipped, skip(), registry_of(), push() for the script after it.
-- Outcome lists shared by the per-id scripts: ids changed, and (id, reason) pairs left alone.
local done, skipped = {}, {}
local function skip(id, reason)
  skipped[#skipped + 1] = id
  skipped[#skipped + 1] = reason
end
-- The registry that indexes a job in a given status (RQ's `_remove_from_registries`).
local function registry_of(status, origin)
  if status == 'deferred' or status == 'scheduled' or status == 'finished' or status == 'canceled' then
    return K(status, origin)
  elseif status == 'failed' or status == 'stopped' then
    return K('failed', origin)
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
