-- Read-only: the rows of one job-list page, without moving whole payloads over the wire. `data`
-- can be megabytes; its first bytes (zlib stream head) are enough to recover func_name. Errors
-- (a wrong-typed key) are caught per row so one corrupt job never breaks a page.
-- KEYS[1..n]      rq:job:<id> of each row
-- KEYS[n+1..2n]   rq:results:<id> of each row (only when ARGV[2] == '1')
-- ARGV[1]         how many leading bytes of `data` to return
-- ARGV[2]         '1' to also return each row's latest result entry (XREVRANGE + - COUNT 1)
-- ARGV[3..]       hash fields to return, in order
-- Returns: per row {state, field values..., data prefix, latest entry}
--   state: 1 = hash, 0 = missing, -1 = wrong type; missing values are nil; the entry is
--   {stream id, field, value, ...} or nil
local with_results = ARGV[2] == '1'
local n = with_results and #KEYS / 2 or #KEYS
local prefix = tonumber(ARGV[1])
local fields = {}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local rows = {}
for i = 1, n do
  local row = {}
  local kind = redis.call('TYPE', KEYS[i])['ok']
  if kind == 'hash' then
    row[1] = 1
    local vals = redis.call('HMGET', KEYS[i], unpack(fields))
    for j = 1, #fields do
      row[j + 1] = vals[j]
    end
    local data = redis.call('HGET', KEYS[i], 'data')
    if data then
      data = string.sub(data, 1, prefix)
    end
    row[#fields + 2] = data
  else
    row[1] = (kind == 'none') and 0 or -1
    for j = 1, #fields + 1 do
      row[j + 1] = false
    end
  end
  row[#fields + 3] = false
  if with_results and row[1] == 1 then
    local ok, entries = pcall(redis.call, 'XREVRANGE', KEYS[n + i], '+', '-', 'COUNT', 1)
    if ok and entries[1] then
      local e = { entries[1][1] }
      for _, v in ipairs(entries[1][2]) do
        e[#e + 1] = v
      end
      row[#fields + 3] = e
    end
  end
  rows[i] = row
end
return rows
