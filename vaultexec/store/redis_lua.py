"""The Lua scripts of the Redis store: each runs atomically on the server (see store/redis.py for the keys).

Members are trade ids zero-padded to 20 digits, so their string order is their numeric order.
"""

from __future__ import annotations

# Shared by the write scripts. The last ARGV is a JSON spec (see redis.py `_spec`):
#   fences: [[lease key, token]]   the write is refused ({4, holder}) unless each lease holds its token
#   claim_prefix, owner, claims    each claim (key claim_prefix .. claim) must be free or the owner's
#                                  ({3, claim, holder})
#   release                        claims the owner gives up (its nonce, once its trade closed unmined)
#   nonce_prefix, maxes: [[chain:wallet, padded nonce]]   each wallet's highest stored nonce (key
#                                  nonce_prefix .. chain:wallet), raised
GUARD_LUA = """
local spec = cjson.decode(ARGV[#ARGV])
local function guard()
  for _, fence in ipairs(spec.fences) do
    local held = redis.call('GET', fence[1])
    if not held or string.sub(held, 1, #fence[2] + 1) ~= fence[2] .. '|' then
      return {4, fence[1], held or ''}
    end
  end
  for _, claim in ipairs(spec.claims) do
    local holder = redis.call('GET', spec.claim_prefix .. claim)
    if holder and holder ~= spec.owner then return {3, claim, holder} end
  end
  return nil
end
local function record_claims()
  for _, claim in ipairs(spec.release) do
    local key = spec.claim_prefix .. claim
    if redis.call('GET', key) == spec.owner then redis.call('DEL', key) end
  end
  for _, claim in ipairs(spec.claims) do redis.call('SET', spec.claim_prefix .. claim, spec.owner) end
  for _, item in ipairs(spec.maxes) do
    local key = spec.nonce_prefix .. item[1]
    local current = redis.call('GET', key)
    if not current or current < item[2] then redis.call('SET', key, item[2]) end
  end
end
"""

# The claims and highest nonces of a batch written by MULTI/EXEC (checked by the caller under WATCH).
RECORD_CLAIMS_LUA = GUARD_LUA + """
record_claims()
return 1
"""

# KEYS: reports, status, by_time, by_status[new], history, vaults
# ARGV: member, status, body, score, transition json, vault, spec json
CREATE_LUA = GUARD_LUA + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return {0, redis.call('HGET', KEYS[2], ARGV[1])}
end
local refused = guard()
if refused then return refused end
record_claims()
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[5])
redis.call('SADD', KEYS[6], ARGV[6])
return {1, ARGV[2]}
"""

# KEYS: reports, status, by_time, by_status[old], by_status[new], history
# ARGV: member, expected old status, new status, body, score, transition json, sha1 of the expected old body,
#       spec json
REPLACE_LUA = GUARD_LUA + """
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return {0, ''} end
local body = redis.call('HGET', KEYS[1], ARGV[1])
if current ~= ARGV[2] or not body or redis.sha1hex(body) ~= ARGV[7] then return {2, current} end
local refused = guard()
if refused then return refused end
record_claims()
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('RPUSH', KEYS[6], ARGV[6])
return {1, current}
"""

# One page of the time index after a (score, member) cursor, with the bodies: flat (member, score, body).
# KEYS: by_time, reports
# ARGV: low, high, '1' if descending, page size, cursor score ('' on the first page), cursor member
PAGE_LUA = """
local low, high, page = ARGV[1], ARGV[2], tonumber(ARGV[4])
local desc = ARGV[3] == '1'
local score, member = ARGV[5], ARGV[6]
local found = {}
if score ~= '' then
  local same = redis.call('ZRANGE', KEYS[1], score, score, 'BYSCORE')
  local first, last, step = 1, #same, 1
  if desc then first, last, step = #same, 1, -1 end
  for i = first, last, step do
    if #found >= 2 * page then break end
    local m = same[i]
    if (desc and m < member) or (not desc and m > member) then
      table.insert(found, m)
      table.insert(found, score)
    end
  end
end
local need = page - #found / 2
if need > 0 then
  local rest
  if desc then
    local top = high
    if score ~= '' then top = '(' .. score end
    rest = redis.call('ZRANGE', KEYS[1], top, low, 'BYSCORE', 'REV', 'LIMIT', 0, need, 'WITHSCORES')
  else
    local bottom = low
    if score ~= '' then bottom = '(' .. score end
    rest = redis.call('ZRANGE', KEYS[1], bottom, high, 'BYSCORE', 'LIMIT', 0, need, 'WITHSCORES')
  end
  for _, value in ipairs(rest) do table.insert(found, value) end
end
local out = {}
for i = 1, #found, 2 do
  table.insert(out, found[i])
  table.insert(out, found[i + 1])
  table.insert(out, redis.call('HGET', KEYS[2], found[i]))
end
return out
"""

# Every member of some status indexes with score and body, at one instant: flat (member, score, body).
# KEYS: reports, by_status[s] for each status
BY_STATUS_LUA = """
local out = {}
for i = 2, #KEYS do
  local items = redis.call('ZRANGE', KEYS[i], 0, -1, 'WITHSCORES')
  for j = 1, #items, 2 do
    table.insert(out, items[j])
    table.insert(out, items[j + 1])
    table.insert(out, redis.call('HGET', KEYS[1], items[j]))
  end
end
return out
"""


# The greatest member of a hash (the highest trade id), '' when it is empty: ids only, no body is read.
# KEYS: reports
MAX_MEMBER_LUA = """
local best = ''
for _, member in ipairs(redis.call('HKEYS', KEYS[1])) do
  if member > best then best = member end
end
return best
"""
