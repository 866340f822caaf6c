-- Sources of a restatement (jobs/metrics/restate.py), in place of 01_sources.sql: the same
-- three raw tables, each read from the excerpt of its topic (jobs/metrics/excerpt.py: a
-- JSON file per partition, in the partition's order, with its partition and offsets), and
-- the visitor history the live job would have held in state. Every file after
-- 01_sources.sql runs as it is; only the values differ (restate.py: the watermark trails
-- by longer than the excerpt spans, so every report within the allowed lateness is in its
-- visit, and the input ends by itself).

CREATE TEMPORARY TABLE wifi_probes_raw (
    body STRING,
    kafka_partition INT,
    kafka_offset BIGINT,
    event_time AS TO_TIMESTAMP_LTZ(event_millis(body, ${future_tolerance_ms}, ${max_message_chars}), 3),
    proc_time AS PROCTIME(),
    WATERMARK FOR event_time AS event_time - INTERVAL ${position_delay} DAY TO SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = ${wifi_probes_path},
    'format' = 'json'
);

CREATE TEMPORARY TABLE door_sensors_raw WITH ('path' = ${door_sensors_path}) LIKE wifi_probes_raw;

CREATE TEMPORARY TABLE pos_transactions_raw WITH ('path' = ${pos_transactions_path}) LIKE wifi_probes_raw;

-- The local days before the restated one on which each device of its mall was a visitor
-- (restate.py reads them from ClickHouse `visits`, over the history TTL).
CREATE TEMPORARY TABLE visitor_history (
    mall_id STRING,
    device_id STRING,
    `day` DATE
) WITH (
    'connector' = 'filesystem',
    'path' = ${visitor_history_path},
    'format' = 'json'
);
