-- A mall's live positions: a hash device -> {x, y, zone, ts} read in one HGETALL, and a
-- sorted set device -> ts that expires them. A position replaces a device's entry only if
-- it is not older. The mall's clock is its newest position (event time, so a replay or a
-- simulated day expires as live data would); entries more than the TTL behind it go.
-- Zone counts follow each entry that changes or goes (not a recount of every device),
-- and occupancy is the hash's length. The keys themselves expire when a mall sends
-- nothing for the TTL (Redis 7.0 has no field TTL).
-- KEYS: positions, seen, zones, today. ARGV: ttl_ms, now (ISO), then device, ts_ms, json.
local function count(entry, by)
  if not entry then return end
  local zone = cjson.decode(entry)['zone']
  if redis.call('HINCRBY', KEYS[3], zone, by) <= 0 then redis.call('HDEL', KEYS[3], zone) end
end
local ttl = tonumber(ARGV[1])
for i = 3, #ARGV, 3 do
  local seen = redis.call('ZSCORE', KEYS[2], ARGV[i])
  local ts = tonumber(ARGV[i + 1])
  if not seen or tonumber(seen) <= ts then
    count(redis.call('HGET', KEYS[1], ARGV[i]), -1)
    count(ARGV[i + 2], 1)
    redis.call('ZADD', KEYS[2], ts, ARGV[i])
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  end
end
local newest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local cutoff = '(' .. (tonumber(newest[2]) - ttl)
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff)
for i = 1, #gone, 1000 do
  local batch = {unpack(gone, i, math.min(i + 999, #gone))}
  for _, entry in ipairs(redis.call('HMGET', KEYS[1], unpack(batch))) do count(entry, -1) end
  redis.call('HDEL', KEYS[1], unpack(batch))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
local occupancy = redis.call('HLEN', KEYS[1])
redis.call('HSET', KEYS[4], 'occupancy', occupancy, 'occupancy_at', ARGV[2])
local ttl_s = math.ceil(ttl / 1000)
for k = 1, 3 do redis.call('EXPIRE', KEYS[k], ttl_s) end
return occupancy
