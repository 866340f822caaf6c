-- Outputs: every result stream, and the rejects, as one changelog, routed by destination.
--
-- One stream means one translation of the whole plan, so each topic is read once and
-- each aggregation runs once. Rows are (sink_key, message_key, payload):
--   * sink_key: the output, and for per-mall outputs '/' and the mall: the Python sinks
--     are keyed by it, so malls spread over parallel subtasks and a mall's positions are
--     written together (jobs/metrics/sinks/);
--   * message_key: the Kafka key of a row published to Kafka (the feed, dead letters);
--   * payload: the row as JSON, made from the output's definition (footfall/outputs.py,
--     rendered by jobs/metrics/payloads.py as ${payload_<output>}); for the feed and the
--     dead letters, the message's text as it is published.
-- jobs/metrics/hooks.py splits the stream in the JVM (udfs/java Route.java): the feed and
-- the dead letters go to Flink's Kafka sink (12_kafka_outputs.sql), everything else but
-- the dead letters to the Python sinks, which buffer the rows in Flink state and write
-- them in batches as idempotent upserts.

CREATE TEMPORARY VIEW dead_letter_counts AS
SELECT source_topic, reason, COUNT(*) AS messages
FROM rejects
GROUP BY source_topic, reason;

-- Every message accounted for: per topic, the messages accepted, and of those the ones
-- too late for the event-time windows (counted, but in no visit or live position), and the
-- reports of opted-out devices (dropped at once). With dead_letter_counts,
-- accepted + opted out + rejected = read.
CREATE TEMPORARY VIEW ingest_counts AS
SELECT source_topic, SUM(accepted) AS accepted, SUM(late_for_windows) AS late_for_windows,
    SUM(opted_out) AS opted_out
FROM (
    SELECT ${wifi_probes_topic} AS source_topic, CAST(1 AS BIGINT) AS accepted,
        CAST(CASE WHEN on_time THEN 0 ELSE 1 END AS BIGINT) AS late_for_windows, CAST(0 AS BIGINT) AS opted_out
    FROM probe_events
    UNION ALL
    SELECT source_topic, CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(1 AS BIGINT) FROM opted_out_reports
    UNION ALL
    SELECT ${door_sensors_topic}, CAST(1 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM door_events
    UNION ALL
    SELECT ${pos_transactions_topic}, CAST(1 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM pos_events
)
GROUP BY source_topic;

-- Each probe's newest accepted report, on event time (epoch ms): the alerts tell a probe
-- gone silent while its neighbours still hear devices by it (footfall/alerts.py).
CREATE TEMPORARY VIEW probe_heard AS
SELECT mall_id, ap_mac, MAX(occur_ms) AS heard_at
FROM probe_events
GROUP BY mall_id, ap_mac;

-- Each door counter's newest accepted report, likewise (door_silent).
CREATE TEMPORARY VIEW door_heard AS
SELECT mall_id, sensor_id, MAX(occur_ms) AS heard_at
FROM door_events
GROUP BY mall_id, sensor_id;

-- Each probe's accepted reports per local hour: the alerts tell a probe that hears less
-- than it used to (probe_degraded).
CREATE TEMPORARY VIEW probe_hourly AS
SELECT mall_id, `day`, `hour`, ap_mac, COUNT(*) AS reports
FROM probe_events
GROUP BY mall_id, `day`, `hour`, ap_mac;

-- Reports of probes the layout does not have, per probe (their ap_mac is kept in the dead
-- letter's text): the alerts tell an operator to register it (unregistered_probe). Rejects
-- are few, so reading their text again costs nothing that shows.
CREATE TEMPORARY VIEW unknown_probes AS
SELECT ap_mac, MAX(occur_ms) AS heard_at, COUNT(*) AS reports
FROM (
    SELECT REPLACE(LOWER(JSON_VALUE(body, '$.ap_mac')), '-', ':') AS ap_mac,
        CAST(JSON_VALUE(body, '$.occur_time') AS BIGINT) AS occur_ms
    FROM rejects
    WHERE reason = 'unknown_probe'
)
WHERE ap_mac IS NOT NULL
GROUP BY ap_mac;

CREATE TEMPORARY VIEW outputs AS
SELECT 'mall_daily/' || mall_id AS sink_key, CAST(NULL AS STRING) AS message_key, ${payload_mall_daily} AS payload
FROM mall_daily
UNION ALL
SELECT 'mall_hourly/' || mall_id, CAST(NULL AS STRING), ${payload_mall_hourly}
FROM mall_hourly
UNION ALL
SELECT 'peak_hour_daily/' || mall_id, CAST(NULL AS STRING), ${payload_peak_hour_daily}
FROM peak_hour_daily
UNION ALL
SELECT 'shop_daily/' || mall_id, CAST(NULL AS STRING), ${payload_shop_daily}
FROM shop_daily
UNION ALL
SELECT 'shop_hourly/' || mall_id, CAST(NULL AS STRING), ${payload_shop_hourly}
FROM shop_hourly
UNION ALL
SELECT 'top_shops_daily/' || mall_id, CAST(NULL AS STRING), ${payload_top_shops_daily}
FROM top_shops_daily
UNION ALL
-- The feed's message, stamped once, so the favourite in Redis and its message agree.
SELECT 'favorite_shop_daily/' || mall_id, device_id, ${payload_favorite_shop_daily}
FROM (
    SELECT mall_id, `day`, device_id, shop_code, shop_name, visits, dwell_seconds,
        DATE_FORMAT(CURRENT_TIMESTAMP, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS updated_at
    FROM favorite_shop_daily
)
UNION ALL
SELECT 'repeat_shops_daily/' || mall_id, CAST(NULL AS STRING), ${payload_repeat_shops_daily}
FROM repeat_shops_daily
UNION ALL
SELECT 'mall_engagement_daily/' || mall_id, CAST(NULL AS STRING), ${payload_mall_engagement_daily}
FROM mall_engagement_daily
UNION ALL
SELECT 'shop_engagement_daily/' || mall_id, CAST(NULL AS STRING), ${payload_shop_engagement_daily}
FROM shop_engagement_daily
UNION ALL
-- A visit's key is where, who and when it started: written again, it replaces itself.
SELECT 'visits/' || mall_id, CAST(NULL AS STRING), ${payload_visits}
FROM (
    SELECT mall_id, `day`, shop_code, device_id, started_ms / 1000 AS started_at, shop_name,
        dwell_ms / 1000 AS dwell_seconds
    FROM visits
)
UNION ALL
-- Also written to PostgreSQL (staff_detected), where the ingestion reads it back.
SELECT 'staff_detected/' || mall_id, CAST(NULL AS STRING), ${payload_staff_detected}
FROM staff_detected
UNION ALL
SELECT 'positions/' || mall_id, CAST(NULL AS STRING), ${payload_positions}
FROM (SELECT mall_id, ts, device_id, ROUND(x, 2) AS x, ROUND(y, 2) AS y, zone FROM positions)
UNION ALL
SELECT 'dead_letter_counts', CAST(NULL AS STRING), ${payload_dead_letter_counts}
FROM dead_letter_counts
UNION ALL
SELECT 'ingest_counts', CAST(NULL AS STRING), ${payload_ingest_counts}
FROM ingest_counts
UNION ALL
SELECT 'probe_heard/' || mall_id, CAST(NULL AS STRING), ${payload_probe_heard}
FROM probe_heard
UNION ALL
SELECT 'door_heard/' || mall_id, CAST(NULL AS STRING), ${payload_door_heard}
FROM door_heard
UNION ALL
SELECT 'probe_hourly/' || mall_id, CAST(NULL AS STRING), ${payload_probe_hourly}
FROM probe_hourly
UNION ALL
SELECT 'unknown_probes', CAST(NULL AS STRING), ${payload_unknown_probes}
FROM unknown_probes
UNION ALL
SELECT 'sales_hourly/' || mall_id, CAST(NULL AS STRING), ${payload_sales_hourly}
FROM sales_hourly
UNION ALL
SELECT 'sales_daily/' || mall_id, CAST(NULL AS STRING), ${payload_sales_daily}
FROM sales_daily
UNION ALL
-- The key names the message it rejects, so a copy sent again after a restart can be
-- recognised.
SELECT 'dead_letters', source_topic || '/' || CAST(kafka_partition AS STRING) || '/' || CAST(kafka_offset AS STRING),
    ${dead_letter_message}
FROM (
    SELECT source_topic, kafka_partition, kafka_offset, body AS `raw`, macs_replaced, reason,
        DATE_FORMAT(proc_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''') AS received_at
    FROM rejects
);
