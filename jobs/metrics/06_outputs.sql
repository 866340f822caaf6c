-- Outputs: every result stream, and the rejects, as one changelog for the Python sinks.
--
-- One stream (output name + JSON payload) means one translation of the whole plan, so
-- each topic is read once. The sinks buffer these rows in Flink state and write them
-- in batches as idempotent upserts (see jobs/metrics/sinks.py).

CREATE TEMPORARY VIEW dead_letter_counts AS
SELECT source_topic, reason, COUNT(*) AS messages
FROM rejects
GROUP BY source_topic, reason;

-- Every message accounted for: per topic, the messages accepted, and of those the ones
-- too late for the event-time windows (counted, but in no visit or live position).
-- With dead_letter_counts, accepted + rejected = read.
CREATE TEMPORARY VIEW ingest_counts AS
SELECT source_topic, SUM(accepted) AS accepted, SUM(late_for_windows) AS late_for_windows
FROM (
    SELECT ${wifi_probes_topic} AS source_topic, CAST(1 AS BIGINT) AS accepted,
        CAST(CASE WHEN on_time THEN 0 ELSE 1 END AS BIGINT) AS late_for_windows
    FROM probe_events
    UNION ALL
    SELECT ${door_sensors_topic}, CAST(1 AS BIGINT), CAST(0 AS BIGINT) FROM door_events
)
GROUP BY source_topic;

CREATE TEMPORARY VIEW outputs AS
SELECT 'mall_daily' AS output, JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'visitors' VALUE visitors,
    'new_visitors' VALUE new_visitors, 'returning_visitors' VALUE returning_visitors,
    'randomized_devices' VALUE randomized_devices, 'door_entries' VALUE door_entries) AS payload
FROM mall_daily
UNION ALL
SELECT 'mall_hourly', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'hour' VALUE `hour`,
    'visitors' VALUE visitors, 'door_entries' VALUE door_entries)
FROM mall_hourly
UNION ALL
SELECT 'peak_hour_daily', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'hour' VALUE `hour`,
    'visitors' VALUE visitors)
FROM peak_hour_daily
UNION ALL
SELECT 'shop_daily', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'shop_code' VALUE shop_code,
    'shop_name' VALUE shop_name, 'visitors' VALUE visitors)
FROM shop_daily
UNION ALL
SELECT 'top_shops_daily', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'rank' VALUE `rank`,
    'shop_code' VALUE shop_code, 'shop_name' VALUE shop_name, 'visitors' VALUE visitors)
FROM top_shops_daily
UNION ALL
SELECT 'favorite_shop_daily', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'device_id' VALUE device_id,
    'shop_code' VALUE shop_code, 'shop_name' VALUE shop_name, 'visits' VALUE visits,
    'dwell_seconds' VALUE dwell_seconds)
FROM favorite_shop_daily
UNION ALL
SELECT 'repeat_shops_daily', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'device_id' VALUE device_id,
    'shop_code' VALUE shop_code, 'shop_name' VALUE shop_name, 'visits' VALUE visits)
FROM repeat_shops_daily
UNION ALL
SELECT 'positions', JSON_OBJECT(
    'mall_id' VALUE mall_id, 'ts' VALUE ts, 'device_id' VALUE device_id,
    'x' VALUE ROUND(x, 2), 'y' VALUE ROUND(y, 2), 'zone' VALUE zone)
FROM positions
UNION ALL
SELECT 'dead_letter_counts', JSON_OBJECT(
    'source_topic' VALUE source_topic, 'reason' VALUE reason, 'messages' VALUE messages)
FROM dead_letter_counts
UNION ALL
SELECT 'ingest_counts', JSON_OBJECT(
    'source_topic' VALUE source_topic, 'accepted' VALUE accepted, 'late_for_windows' VALUE late_for_windows)
FROM ingest_counts
UNION ALL
SELECT 'dead_letters', JSON_OBJECT(
    'source_topic' VALUE source_topic, 'raw' VALUE body, 'reason' VALUE reason,
    'received_at' VALUE DATE_FORMAT(proc_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    'partition' VALUE kafka_partition, 'offset' VALUE kafka_offset)
FROM rejects;
