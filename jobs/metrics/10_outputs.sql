-- Outputs: every result stream, and the rejects, as one changelog, routed by destination.
--
-- One stream means one translation of the whole plan, so each topic is read once and
-- each aggregation runs once. Rows are (sink_key, message_key, payload):
--   * sink_key: the output, and for per-mall outputs '/' and the mall: the Python sinks
--     are keyed by it, so malls spread over parallel subtasks and a mall's positions are
--     written together (jobs/metrics/sinks.py);
--   * message_key: the Kafka key of a row published to Kafka (the feed, dead letters);
--   * payload: the row as a JSON object; for the feed and dead letters, the message's fields.
-- jobs/metrics/hooks.py splits the stream in the JVM (udfs/java Route.java): the feed and
-- the dead letters go to Flink's Kafka sink (11_kafka_outputs.sql), everything else but
-- the dead letters to the Python sinks, which buffer the rows in Flink state and write
-- them in batches as idempotent upserts.

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
SELECT 'mall_daily/' || mall_id AS sink_key, CAST(NULL AS STRING) AS message_key, JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'visitors' VALUE visitors,
    'new_visitors' VALUE new_visitors, 'returning_visitors' VALUE returning_visitors,
    'randomized_devices' VALUE randomized_devices, 'door_entries' VALUE door_entries,
    'devices_seen' VALUE devices_seen, 'passers_by' VALUE passers_by, 'staff_devices' VALUE staff_devices) AS payload
FROM mall_daily
UNION ALL
SELECT 'mall_hourly/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'hour' VALUE `hour`,
    'visitors' VALUE visitors, 'door_entries' VALUE door_entries, 'devices_seen' VALUE devices_seen,
    'passers_by' VALUE passers_by, 'staff_devices' VALUE staff_devices)
FROM mall_hourly
UNION ALL
SELECT 'peak_hour_daily/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'hour' VALUE `hour`,
    'visitors' VALUE visitors)
FROM peak_hour_daily
UNION ALL
SELECT 'shop_daily/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'shop_code' VALUE shop_code,
    'shop_name' VALUE shop_name, 'visitors' VALUE visitors, 'devices_seen' VALUE devices_seen,
    'walk_bys' VALUE walk_bys)
FROM shop_daily
UNION ALL
SELECT 'shop_hourly/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'hour' VALUE `hour`, 'shop_code' VALUE shop_code,
    'shop_name' VALUE shop_name, 'visitors' VALUE visitors, 'walk_bys' VALUE walk_bys)
FROM shop_hourly
UNION ALL
SELECT 'top_shops_daily/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'rank' VALUE `rank`,
    'shop_code' VALUE shop_code, 'shop_name' VALUE shop_name, 'visitors' VALUE visitors)
FROM top_shops_daily
UNION ALL
-- The payload is the feed's message (FEED_FIELDS in footfall/outputs.py), stamped
-- once, so the favourite in Redis and its message on the feed agree.
SELECT 'favorite_shop_daily/' || mall_id, device_id, JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'device_id' VALUE device_id,
    'shop_code' VALUE shop_code, 'shop_name' VALUE shop_name, 'visits' VALUE visits,
    'dwell_seconds' VALUE dwell_seconds,
    'updated_at' VALUE DATE_FORMAT(CURRENT_TIMESTAMP, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''))
FROM favorite_shop_daily
UNION ALL
SELECT 'repeat_shops_daily/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'device_id' VALUE device_id,
    'shop_code' VALUE shop_code, 'shop_name' VALUE shop_name, 'visits' VALUE visits)
FROM repeat_shops_daily
UNION ALL
SELECT 'mall_engagement_daily/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'visits' VALUE visits, 'bounced' VALUE bounced,
    'visits_5_20m' VALUE visits_5_20m, 'visits_20_60m' VALUE visits_20_60m, 'visits_1_6h' VALUE visits_1_6h,
    'visits_6h_plus' VALUE visits_6h_plus)
FROM mall_engagement_daily
UNION ALL
SELECT 'shop_engagement_daily/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'shop_code' VALUE shop_code,
    'shop_name' VALUE shop_name, 'visits' VALUE visits, 'bounced' VALUE bounced,
    'visits_5_20m' VALUE visits_5_20m, 'visits_20_60m' VALUE visits_20_60m, 'visits_1_6h' VALUE visits_1_6h,
    'visits_6h_plus' VALUE visits_6h_plus)
FROM shop_engagement_daily
UNION ALL
-- A visit's key is where, who and when it started: written again after a restart, it
-- replaces itself.
SELECT 'visits/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'day' VALUE CAST(`day` AS STRING), 'shop_code' VALUE shop_code,
    'device_id' VALUE device_id, 'started_at' VALUE started_ms / 1000, 'shop_name' VALUE shop_name,
    'dwell_seconds' VALUE dwell_ms / 1000)
FROM visits
UNION ALL
-- Also written to PostgreSQL (staff_detected), where the ingestion reads it back.
SELECT 'staff_detected/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'device_id' VALUE device_id, 'qualified_day' VALUE CAST(qualified_day AS STRING),
    'since_day' VALUE CAST(since_day AS STRING))
FROM staff_detected
UNION ALL
SELECT 'positions/' || mall_id, CAST(NULL AS STRING), JSON_OBJECT(
    'mall_id' VALUE mall_id, 'ts' VALUE ts, 'device_id' VALUE device_id,
    'x' VALUE ROUND(x, 2), 'y' VALUE ROUND(y, 2), 'zone' VALUE zone)
FROM positions
UNION ALL
SELECT 'dead_letter_counts', CAST(NULL AS STRING), JSON_OBJECT(
    'source_topic' VALUE source_topic, 'reason' VALUE reason, 'messages' VALUE messages)
FROM dead_letter_counts
UNION ALL
SELECT 'ingest_counts', CAST(NULL AS STRING), JSON_OBJECT(
    'source_topic' VALUE source_topic, 'accepted' VALUE accepted, 'late_for_windows' VALUE late_for_windows)
FROM ingest_counts
UNION ALL
-- The key names the message it rejects, so a copy sent again after a restart can be
-- recognised.
SELECT 'dead_letters', source_topic || '/' || CAST(kafka_partition AS STRING) || '/' || CAST(kafka_offset AS STRING),
    JSON_OBJECT('source_topic' VALUE source_topic, 'raw' VALUE body, 'reason' VALUE reason,
                'received_at' VALUE DATE_FORMAT(proc_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''))
FROM rejects;
