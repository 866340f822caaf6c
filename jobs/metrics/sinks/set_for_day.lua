-- Write a day's fields only if that day is not older than the one stored; a newer day
-- replaces the hash. Keeps "today" right when updates for two days interleave. Occupancy
-- is of the moment, not of a day, so it survives the change of day.
-- KEYS: the hash. ARGV: day, ttl seconds (0: none), then field, value pairs.
local current = redis.call('HGET', KEYS[1], 'day')
if current and current > ARGV[1] then return 0 end
if current and current < ARGV[1] then
  local now = redis.call('HMGET', KEYS[1], 'occupancy', 'occupancy_at')
  redis.call('DEL', KEYS[1])
  if now[1] then redis.call('HSET', KEYS[1], 'occupancy', now[1], 'occupancy_at', now[2]) end
end
redis.call('HSET', KEYS[1], 'day', ARGV[1], unpack(ARGV, 3))
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return 1
