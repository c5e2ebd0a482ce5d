-- wrk script: GET `WALK_PATH?page=N&size=25` for pages spread over 1..WALK_PAGES (env vars), a
-- different page on every request, so a console's per-row caches see mostly new rows.
local path = os.getenv("WALK_PATH") or "/failed"
local pages = tonumber(os.getenv("WALK_PAGES") or "4000")
local n = 0

function setup(thread)
  thread:set("offset", math.random(pages))
end

function request()
  n = n + 1
  -- A stride coprime with typical page counts visits every page before repeating one.
  local page = (offset + n * 7919) % pages + 1
  return wrk.format("GET", path .. "?page=" .. page .. "&size=25")
end
