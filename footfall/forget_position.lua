-- Forget one device's live position in a mall (an erasure): its entry leaves the hash and
-- the expiry set, its zone's count drops by one, and the occupancy is the hash's length,
-- as jobs/metrics/sinks/update_positions.lua keeps them.
-- KEYS: positions, seen, zones, today. ARGV: device. Returns 1 if it had a position.
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
local zone = cjson.decode(entry)['zone']
if redis.call('HINCRBY', KEYS[3], zone, -1) <= 0 then redis.call('HDEL', KEYS[3], zone) end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[4], 'occupancy', redis.call('HLEN', KEYS[1]))
return 1
