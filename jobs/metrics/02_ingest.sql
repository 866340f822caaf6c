-- Ingestion: validate every message, normalise MACs, hash devices, join the layout.
--
-- Input: wifi_probes_raw, door_sensors_raw, and the layout through the Java functions
-- probe_layout and mall_zone (udfs/java: held in memory, reloaded from PostgreSQL, and
-- kept as last read while PostgreSQL is down).
-- Output: probe_ingested (every wifi-probes message, accepted or with the reason it is
-- turned away), door_events (valid, in time, enriched) and door_rejects. Each field is
-- read once as a JSON fragment with its type still visible ('["a"]' is a string, '[-61]'
-- a number), so a number sent as text is a wrong type rather than silently converted.
-- A message longer than the size limit is turned away before any JSON is parsed.
-- Time rules, against the newest event time read before a message from its partition
-- (what the source's watermark follows, so a message stamped in the future, which the
-- source reads as -1 ms, moves neither):
--   * more than the future tolerance ahead of the job's clock: rejected, 'future';
--   * at least the allowed lateness behind: rejected, 'late' (its day may be closed);
--   * at least the watermark delay behind (a probe uploading its backlog): accepted for
--     the counts (visitors, hourly, shops, doors), but not `on_time` for the event-time
--     windows (visits, live positions), which the watermark has closed; counted as such.
-- The newest time per partition is an OVER aggregate, so it is in the checkpoint: a
-- restarted job replays and decides exactly as before (a watermark starts from nothing
-- after a restore), and how partitions interleave never matters. `on_time` events are
-- never behind the metrics' watermark (the source's, read on visit_time: see
-- 03_events.sql), so the windows downstream drop none of them.

CREATE TEMPORARY VIEW probe_fields AS
SELECT
    body, kafka_partition, kafka_offset, event_time, proc_time, too_large,
    json_body IS JSON OBJECT AS is_object,
    JSON_QUERY(json_body, '$.event_id' WITH WRAPPER) AS event_id_json,
    JSON_QUERY(json_body, '$.ap_mac' WITH WRAPPER) AS ap_mac_json,
    JSON_QUERY(json_body, '$.device_mac' WITH WRAPPER) AS device_mac_json,
    JSON_QUERY(json_body, '$.rssi' WITH WRAPPER) AS rssi_json,
    JSON_QUERY(json_body, '$.occur_time' WITH WRAPPER) AS occur_time_json
FROM (
    SELECT *, CHAR_LENGTH(body) > ${max_message_chars} AS too_large,
        CASE WHEN CHAR_LENGTH(body) <= ${max_message_chars} THEN body END AS json_body
    FROM wifi_probes_raw
);

CREATE TEMPORARY VIEW probe_checked AS
SELECT
    body, kafka_partition, kafka_offset, event_time, proc_time, event_id, ap_mac, mac, rssi, occur_ms,
    CASE
        WHEN too_large THEN 'too_large'
        WHEN NOT is_object THEN 'not_json'
        WHEN event_id_json IS NULL OR ap_mac_json IS NULL OR device_mac_json IS NULL
            OR rssi_json IS NULL OR occur_time_json IS NULL THEN 'missing_field'
        WHEN event_id_json NOT LIKE '["%' OR ap_mac_json NOT LIKE '["%' OR device_mac_json NOT LIKE '["%'
            OR NOT REGEXP(rssi_json, '^\[-?[0-9]{1,9}\]$')
            OR NOT REGEXP(occur_time_json, '^\[[0-9]{1,15}\]$') THEN 'wrong_type'
        WHEN NOT REGEXP(mac, '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$') THEN 'invalid_mac'
        WHEN rssi NOT BETWEEN -120 AND 0 THEN 'rssi_out_of_range'
        WHEN event_time < TO_TIMESTAMP_LTZ(0, 3) THEN 'future'
    END AS reason
FROM (
    -- Each value is taken out of its fragment once; the checks above read the values.
    SELECT *,
        JSON_VALUE(event_id_json, '$[0]') AS event_id,
        LOWER(REPLACE(JSON_VALUE(ap_mac_json, '$[0]'), '-', ':')) AS ap_mac,
        LOWER(REPLACE(JSON_VALUE(device_mac_json, '$[0]'), '-', ':')) AS mac,
        TRY_CAST(SUBSTRING(rssi_json FROM 2 FOR CHAR_LENGTH(rssi_json) - 2) AS INT) AS rssi,
        TRY_CAST(SUBSTRING(occur_time_json FROM 2 FOR CHAR_LENGTH(occur_time_json) - 2) AS BIGINT) AS occur_ms
    FROM probe_fields
);

-- Rejected messages take the same path as accepted ones (with no device hash and no
-- lookup), so the fork below sees every message in the order of its partition: the
-- live watermark follows event times in that order. (A reject sent round the keyed
-- OVER aggregate would overtake the accepted events held in its network buffers.)
CREATE TEMPORARY VIEW probe_enriched AS
SELECT
    c.body, c.kafka_partition, c.kafka_offset, c.event_time, c.proc_time, c.event_id,
    c.ap_mac, c.mac, c.device_id, c.rssi, c.occur_ms, p.mall_id, p.shop_code, p.x, p.y, p.shop_name, p.tz,
    CASE
        WHEN c.reason IS NOT NULL THEN c.reason
        WHEN p.mall_id IS NULL THEN 'unknown_probe'
        WHEN c.event_time <= c.newest_time - INTERVAL ${allowed_lateness} DAY TO SECOND THEN 'late'
    END AS reason,
    c.event_time > c.newest_time - INTERVAL ${watermark_delay} DAY TO SECOND AS on_time
FROM (
    -- The device hash (a Python UDF) is computed here, below the OVER aggregate, which
    -- no filter is pushed through: every metric branch then shares this one call per
    -- event. Computed in probe_events, the planner copied it into each branch.
    SELECT *,
        device_id(CASE WHEN reason IS NULL THEN mac END) AS device_id,
        CASE WHEN reason IS NULL THEN ap_mac END AS lookup_mac,
        -- Every message's event time, as the source's watermark reads them (0 for none).
        MAX(event_time) OVER (
            PARTITION BY kafka_partition ORDER BY proc_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS newest_time
    FROM probe_checked
) AS c
LEFT JOIN LATERAL TABLE(probe_layout(c.lookup_mac)) AS p(mall_id, shop_code, x, y, shop_name, tz) ON TRUE;

-- The one read of the wifi-probes topic. The job forks this stream in two (see
-- jobs/metrics/job.py): probe_log for the metrics, with visit_time as its time
-- attribute, and probe_log_live for live positions, on event_time. A view cannot declare
-- a new time attribute, so the fork goes through the DataStream API, all in the JVM.
-- The raw body is carried only for rejected messages (dead letters need it), and only
-- its first ${dead_letter_raw_chars} characters.
CREATE TEMPORARY VIEW probe_ingested AS
SELECT
    CASE
        WHEN reason IS NULL THEN CAST(NULL AS STRING)
        -- Cut only what is too long: SUBSTRING walks the bytes by their UTF-8 lead bytes,
        -- and a body ending in a broken sequence would make it read past the end.
        WHEN CHAR_LENGTH(body) > ${dead_letter_raw_chars} THEN SUBSTRING(body FROM 1 FOR ${dead_letter_raw_chars})
        ELSE body
    END AS body,
    kafka_partition, kafka_offset, event_time, event_id, ap_mac, x, y, device_id, rssi, occur_ms,
    mall_id, shop_code, shop_name, tz,
    -- Locally administered (randomised) MAC: bit 1 of the first octet.
    SUBSTRING(mac FROM 2 FOR 1) IN ('2', '3', '6', '7', 'a', 'b', 'e', 'f') AS randomized,
    reason, on_time
FROM probe_enriched;

CREATE TEMPORARY VIEW door_fields AS
SELECT
    body, kafka_partition, kafka_offset, event_time, proc_time, too_large,
    json_body IS JSON OBJECT AS is_object,
    JSON_QUERY(json_body, '$.sensor_id' WITH WRAPPER) AS sensor_id_json,
    JSON_QUERY(json_body, '$.mall_id' WITH WRAPPER) AS mall_id_json,
    JSON_QUERY(json_body, '$.entrance' WITH WRAPPER) AS entrance_json,
    JSON_QUERY(json_body, '$.occur_time' WITH WRAPPER) AS occur_time_json,
    JSON_QUERY(json_body, '$.in_count' WITH WRAPPER) AS in_count_json,
    JSON_QUERY(json_body, '$.out_count' WITH WRAPPER) AS out_count_json
FROM (
    SELECT *, CHAR_LENGTH(body) > ${max_message_chars} AS too_large,
        CASE WHEN CHAR_LENGTH(body) <= ${max_message_chars} THEN body END AS json_body
    FROM door_sensors_raw
);

CREATE TEMPORARY VIEW door_checked AS
SELECT
    body, kafka_partition, kafka_offset, event_time, proc_time,
    JSON_VALUE(mall_id_json, '$[0]') AS mall_id,
    TRY_CAST(SUBSTRING(in_count_json FROM 2 FOR CHAR_LENGTH(in_count_json) - 2) AS INT) AS in_count,
    CASE
        WHEN too_large THEN 'too_large'
        WHEN NOT is_object THEN 'not_json'
        WHEN sensor_id_json IS NULL OR mall_id_json IS NULL OR entrance_json IS NULL
            OR occur_time_json IS NULL OR in_count_json IS NULL OR out_count_json IS NULL
            THEN 'missing_field'
        WHEN sensor_id_json NOT LIKE '["%' OR mall_id_json NOT LIKE '["%' OR entrance_json NOT LIKE '["%'
            OR NOT REGEXP(occur_time_json, '^\[[0-9]{1,15}\]$')
            OR NOT REGEXP(in_count_json, '^\[-?[0-9]{1,9}\]$')
            OR NOT REGEXP(out_count_json, '^\[-?[0-9]{1,9}\]$') THEN 'wrong_type'
        WHEN in_count_json LIKE '[-%' OR out_count_json LIKE '[-%' THEN 'count_out_of_range'
        WHEN event_time < TO_TIMESTAMP_LTZ(0, 3) THEN 'future'
    END AS reason
FROM door_fields;

-- Door entries are plain sums, not windows: anything within the allowed lateness counts.
CREATE TEMPORARY VIEW door_enriched AS
SELECT
    c.body, c.kafka_partition, c.kafka_offset, c.event_time, c.proc_time,
    c.mall_id, c.in_count, m.tz,
    CASE
        WHEN c.reason IS NOT NULL THEN c.reason
        WHEN m.tz IS NULL THEN 'unknown_mall'
        WHEN c.event_time <= c.newest_time - INTERVAL ${allowed_lateness} DAY TO SECOND THEN 'late'
    END AS reason
FROM (
    SELECT *,
        CASE WHEN reason IS NULL THEN mall_id END AS lookup_mall,
        MAX(event_time) OVER (
            PARTITION BY kafka_partition ORDER BY proc_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS newest_time
    FROM door_checked
) AS c
LEFT JOIN LATERAL TABLE(mall_zone(c.lookup_mall)) AS m(tz) ON TRUE;

CREATE TEMPORARY VIEW door_events AS
SELECT mall_id, tz, in_count, event_time FROM door_enriched WHERE reason IS NULL;

CREATE TEMPORARY VIEW door_rejects AS
SELECT ${door_sensors_topic} AS source_topic, kafka_partition, kafka_offset,
    CASE WHEN CHAR_LENGTH(body) > ${dead_letter_raw_chars} THEN SUBSTRING(body FROM 1 FOR ${dead_letter_raw_chars})
        ELSE body END AS body,
    reason, proc_time
FROM door_enriched WHERE reason IS NOT NULL;
