-- Read-only: per list row, the first bytes of the job's `data` field (it can be megabytes; the
-- zlib stream head is enough to recover func_name) and, for failed lists, the `exc_string` of
-- its latest result. The other row fields come from plain HMGETs pipelined next to this
-- script: for whole rows, Lua's reply conversions cost Redis about three times the commands.
-- KEYS[1..n]      rq:job:<id> of each row
-- KEYS[n+1..2n]   rq:results:<id> of each row (only when ARGV[2] == '1')
-- ARGV[1]         how many leading bytes of `data` to return
-- ARGV[2]         '1' to also return each row's latest exc_string
-- Returns a flat array, per row: the data prefix (a string), or 1 = a hash without `data`,
-- 0 = no such key, -1 = not a hash (the error is caught so one corrupt key never breaks a
-- page); then, with ARGV[2] == '1', the latest entry's exc_string or false.
local with_exc = ARGV[2] == '1'
local n = with_exc and #KEYS / 2 or #KEYS
local prefix = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  local ok, data = pcall(redis.call, 'HGET', KEYS[i], 'data')
  if not ok then
    out[#out + 1] = -1
  elseif data then
    out[#out + 1] = string.sub(data, 1, prefix)
  else
    out[#out + 1] = redis.call('EXISTS', KEYS[i])
  end
  if with_exc then
    local exc = false
    local found, entries = pcall(redis.call, 'XREVRANGE', KEYS[n + i], '+', '-', 'COUNT', 1)
    if found and entries[1] then
      local fields = entries[1][2]
      for j = 1, #fields - 1, 2 do
        if fields[j] == 'exc_string' then
          exc = fields[j + 1]
          break
        end
      end
    end
    out[#out + 1] = exc
  end
end
return out
