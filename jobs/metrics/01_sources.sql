-- Sources: the three input topics, read raw.
--
-- Each message is one STRING column (`body`) so that a malformed one can be sent to
-- dead-letters exactly as it came. The event time is read from the JSON by the Java
-- function event_millis (udfs/java): a message without a readable `occur_time`, or longer
-- than FOOTFALL_JOB_MAX_MESSAGE_BYTES characters, gets time 0, and one stamped more than
-- FOOTFALL_JOB_FUTURE_TOLERANCE_SECONDS ahead of the job's clock gets -1 ms; neither moves the
-- watermark, and both are rejected downstream. Watermark: the short one of live positions
-- (FOOTFALL_JOB_POSITION_DELAY_SECONDS), per partition as Flink's Kafka source keeps it;
-- the metrics read it shifted by the difference to their own delay (see hooks.py).
-- The layout (probes, shops, malls) is not a table here: the Java functions probe_layout
-- and mall_zone hold it in memory, reloaded from PostgreSQL (see 02_ingest.sql).

CREATE TEMPORARY TABLE wifi_probes_raw (
    body STRING,
    kafka_partition INT METADATA FROM 'partition' VIRTUAL,
    kafka_offset BIGINT METADATA FROM 'offset' VIRTUAL,
    event_time AS TO_TIMESTAMP_LTZ(event_millis(body, ${future_tolerance_ms}, ${max_message_chars}), 3),
    proc_time AS PROCTIME(),
    WATERMARK FOR event_time AS event_time - INTERVAL ${position_delay} DAY TO SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = ${wifi_probes_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.group.id' = ${group_id},
    'scan.startup.mode' = ${startup_mode},
    'properties.auto.offset.reset' = 'earliest',
    -- Fetches of a few MB: with 64 KB ones the job waited on the broker more than half
    -- the time and read 2,200 records/s (bench, 1 M records; 10,000+ with these). How
    -- partitions interleave does not change a result: the late rule is per partition and
    -- the watermark is the slowest partition's. The whole fetch is bounded too, as some
    -- brokers (Tansu) ignore the per-partition limit; a few MB is about a second of
    -- reading, far below any idle timeout (FOOTFALL_JOB_IDLE_TIMEOUT_SECONDS).
    'properties.max.partition.fetch.bytes' = '1048576',
    'properties.fetch.max.bytes' = '4194304',
    'format' = 'raw'
);

-- The same raw schema, watermark and consumer options; only the topic differs.
CREATE TEMPORARY TABLE door_sensors_raw WITH ('topic' = ${door_sensors_topic}) LIKE wifi_probes_raw;

-- The tills' transactions (issue: sales), likewise.
CREATE TEMPORARY TABLE pos_transactions_raw WITH ('topic' = ${pos_transactions_topic}) LIKE wifi_probes_raw;

-- Earlier local days on which a device was a visitor of a mall, for new against returning
-- (first_seen, 05_visitors.sql). Live, the job remembers them itself (first_seen's state),
-- so there are none here; a restatement, which reads one day, is given them
-- (restatement_sources.sql).
CREATE TEMPORARY VIEW visitor_history AS
SELECT CAST(NULL AS STRING) AS mall_id, CAST(NULL AS STRING) AS device_id, CAST(NULL AS DATE) AS `day`
FROM (VALUES (1)) AS t(x)
WHERE FALSE;
