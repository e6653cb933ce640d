"""The Lua scripts of ``RedisStore``: each operation is one atomic script, and a batch is one pipeline of them.

Per class namespace, a hash ``<prefix>state:<ns>`` holds ``g``, a random generation (entry keys embed it:
changing it forgets the class; losing the hash loses the generation, and a new random one never reads the old
entries) and ``s``, an eviction counter. An entry is ``{"at": deadline, "k": [every key of the object]}\\n<body>``:
the key list makes the object's keys one group, written and deleted together.

A backfill (``fill``) names the ``g`` and ``s`` it saw when the cache missed, and is refused when either changed
since: an eviction between the miss and the backfill always wins (compare-and-set, atomic in the script).
"""

from __future__ import annotations

# Drop the entry under a key and every key of its group; 1 if there was one.
_DROP = """
local function drop(k)
  local old = redis.call('GET', k)
  if not old then return 0 end
  local nl = string.find(old, '\\n', 1, true)
  if nl then
    local ok, head = pcall(cjson.decode, string.sub(old, 1, nl - 1))
    if ok and type(head) == 'table' and type(head['k']) == 'table' then
      for _, other in ipairs(head['k']) do redis.call('DEL', other) end
    end
  end
  redis.call('DEL', k)
  return 1
end
"""

#: KEYS: state keys (the looked-up class first). ARGV: entry prefix of that class, then key parts.
#: Returns g, s of each state, then the value under each part (nil when missing or no generation).
READ = """
local out = {}
for i = 1, #KEYS do
  local st = redis.call('HMGET', KEYS[i], 'g', 's')
  out[#out + 1] = st[1] or ''
  out[#out + 1] = st[2] or '0'
end
local g = out[1]
for j = 2, #ARGV do
  if g ~= '' then
    out[#out + 1] = redis.call('GET', ARGV[1] .. g .. '|' .. ARGV[j]) or false
  else
    out[#out + 1] = false
  end
end
return out
"""

#: One object. KEYS: its state keys. ARGV: mode ('put' or 'fill'), a new generation to use if none exists (the
#: same for every object of a batch),
#: deadline as JSON, PX (0: none), body, then per state: seen g, seen s, entry prefix, number of parts, parts.
PUT = _DROP + """
local mode, candidate, at, px, body = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local pos = 6
local keys = {}
for i = 1, #KEYS do
  local seen_g, seen_s, prefix, n = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], tonumber(ARGV[pos + 3])
  pos = pos + 4
  local st = redis.call('HMGET', KEYS[i], 'g', 's')
  local g, s = st[1], st[2] or '0'
  -- a fill is refused after any eviction since its read; the batch's own new generation is not one
  if mode == 'fill' and (s ~= seen_s or ((g or '') ~= seen_g and not (seen_g == '' and g == candidate))) then
    return 0
  end
  if not g then
    g = candidate
    redis.call('HSET', KEYS[i], 'g', g)
  end
  for j = 0, n - 1 do keys[#keys + 1] = prefix .. g .. '|' .. ARGV[pos + j] end
  pos = pos + n
end
for _, k in ipairs(keys) do drop(k) end
local value = '{"at":' .. at .. ',"k":' .. cjson.encode(keys) .. '}\\n' .. body
for _, k in ipairs(keys) do
  if px > 0 then redis.call('SET', k, value, 'PX', px) else redis.call('SET', k, value) end
end
return 1
"""

#: KEYS: state keys. ARGV per state: entry prefix, number of parts, parts. Counts an eviction for each state
#: (a backfill read before it is refused), then drops each entry's whole group. Returns how many were found.
EVICT = _DROP + """
local pos, removed = 1, 0
for i = 1, #KEYS do
  local prefix, n = ARGV[pos], tonumber(ARGV[pos + 1])
  pos = pos + 2
  redis.call('HINCRBY', KEYS[i], 's', 1)
  local g = redis.call('HGET', KEYS[i], 'g')
  for j = 0, n - 1 do
    if g then removed = removed + drop(prefix .. g .. '|' .. ARGV[pos + j]) end
  end
  pos = pos + n
end
return removed
"""

#: KEYS: state keys. ARGV: a new generation per key. Forgets the classes and counts an eviction.
BUMP = """
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'g', ARGV[i])
  redis.call('HINCRBY', KEYS[i], 's', 1)
end
return #KEYS
"""

SCRIPTS = {"read": READ, "put": PUT, "evict": EVICT, "bump": BUMP}
