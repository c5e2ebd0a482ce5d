-- Key builder prepended to every script that builds keys inside Redis (ids popped, read from a
-- hash or walked through dependents): `scripts.rs` puts it right after the generated table `KT`
-- (name -> a keys.rs template's literal parts around each `{}`), so it has no KEYS or ARGV of
-- its own. The layout stays spelled out in keys.rs alone, and compiled into the script text it
-- costs no argument and no parsing per call.
-- Returns: nothing; defines K(name[, a[, b]]): the key with the template's holes filled in order.
local function K(name, a, b)
  local p = KT[name]
  if b then return p[1] .. a .. p[2] .. b .. p[3] end
  if a then return p[1] .. a .. p[2] end
  return p[1]
end
