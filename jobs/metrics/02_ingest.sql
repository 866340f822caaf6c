-- Ingestion: validate every message, normalise MACs, hash devices, join the layout.
--
-- Input: wifi_probes_raw, door_sensors_raw, pos_transactions_raw, and the layout through the
-- Java functions probe_layout, mall_zone and shop_till (udfs/java: held in memory, reloaded from PostgreSQL, and
-- kept as last read while PostgreSQL is down).
-- Output: probe_ingested (every wifi-probes message, accepted or with the reason it is
-- turned away; 'opted_out' for a device whose owner asked not to be tracked), door_events
-- (valid, in time, enriched) and door_rejects, pos_events and pos_rejects likewise. Messages
-- are parsed once each, in the JVM, by the Java functions parse_probe, parse_door and
-- parse_pos; a
-- number sent as text is a wrong type rather than silently converted, and a message
-- longer than the size limit is turned away before any JSON is parsed.
-- Time rules, against the newest event time read before a message from its partition
-- (what the source's watermark follows, so a message stamped in the future, which the
-- source reads as -1 ms, moves neither):
--   * more than the future tolerance ahead of the job's clock: rejected, 'future';
--   * at least the allowed lateness behind: rejected, 'late' (its day may be closed);
--   * at least the watermark delay behind (a probe uploading its backlog): accepted for
--     the counts (visitors, hourly, shops, doors), but not `on_time` for the event-time
--     windows (visits, live positions), which the watermark has closed; counted as such.
-- The newest time per partition (newest_time) is worked out as the partition is read,
-- in the source's subtask, by udfs/java NewestTime.java, which jobs/metrics/hooks.py puts
-- between probe_checked and probe_read (door_checked and door_read, pos_checked and
-- pos_read): no message crosses a
-- shuffle for it. It is kept in the checkpoint, so a restarted job replays and decides
-- exactly as before (a watermark starts from nothing after a restore), and how partitions
-- interleave never matters. `on_time` events are never behind the metrics' watermark (the
-- source's, read on visit_time: see 03_events.sql), so the windows downstream drop none
-- of them.

-- Each message is parsed, validated, normalised and hashed once, in the JVM, by
-- parse_probe (udfs/java ParseProbe.java: the reasons and their order are there). Only
-- the clock rule is here, on the event time the source read (the same one its watermark
-- follows).
CREATE TEMPORARY VIEW probe_checked AS
SELECT
    r.body, r.kafka_partition, r.kafka_offset, r.event_time,
    p.event_id, p.ap_mac, p.device_id, p.randomized, p.rssi, p.occur_ms,
    COALESCE(p.reason, CASE WHEN r.event_time < TO_TIMESTAMP_LTZ(0, 3) THEN 'future' END) AS reason
FROM wifi_probes_raw AS r,
    LATERAL TABLE(parse_probe(r.body, ${max_message_chars})) AS p(event_id, ap_mac, device_id, randomized, rssi,
                                                                  occur_ms, reason);

-- probe_read (jobs/metrics/hooks.py): probe_checked with newest_time.
-- Rejected messages take the same path as accepted ones (with no device hash and no
-- lookup), so the fork below sees every message in the order of its partition: the
-- live watermark follows event times in that order.
CREATE TEMPORARY VIEW probe_enriched AS
SELECT
    c.body, c.kafka_partition, c.kafka_offset, c.event_time, c.event_id,
    c.ap_mac, c.device_id, c.randomized, c.rssi, c.occur_ms, p.mall_id, p.shop_code, p.x, p.y, p.shop_name, p.tz,
    CASE
        WHEN c.reason IS NOT NULL THEN c.reason
        WHEN p.mall_id IS NULL THEN 'unknown_probe'
        WHEN c.event_time <= c.newest_time - INTERVAL ${allowed_lateness} DAY TO SECOND THEN 'late'
    END AS reason,
    c.event_time > c.newest_time - INTERVAL ${watermark_delay} DAY TO SECOND AS on_time
FROM (
    SELECT *, CASE WHEN reason IS NULL THEN ap_mac END AS lookup_mac
    FROM (
        -- A device whose owner opted out (privacy_opt_outs, read with the layout) is
        -- turned away first: it reaches no count, no visit, no position, no dead letter.
        SELECT body, kafka_partition, kafka_offset, event_time, event_id, ap_mac, device_id, randomized, rssi,
            occur_ms, newest_time,
            CASE WHEN reason IS NULL AND opted_out(device_id) THEN 'opted_out' ELSE reason END AS reason
        FROM probe_read
    )
) AS c
LEFT JOIN LATERAL TABLE(probe_layout(c.lookup_mac)) AS p(mall_id, shop_code, x, y, shop_name, tz) ON TRUE;

-- The one read of the wifi-probes topic. The job forks this stream in two (see
-- jobs/metrics/hooks.py): probe_log for the metrics, with visit_time as its time
-- attribute, and probe_log_live for live positions, on event_time. A view cannot declare
-- a new time attribute, so the fork goes through the DataStream API, all in the JVM.
-- The raw body is carried only for rejected messages (dead letters need it), and only
-- its first ${dead_letter_raw_chars} characters. An accepted event's local day and hour
-- are worked out here, once (local_clock), for every metric after the fork, and whether its
-- device is staff of the mall on that day (staff_device: udfs/java StaffDevice.java, from
-- the tables staff_detected and staff_overrides, read with the layout). Only what a view
-- after the fork reads crosses it: each column is converted and copied for every branch
-- there, so the event id and the time zone (the local day and hour stand for it) stay
-- behind.
CREATE TEMPORARY VIEW probe_ingested AS
SELECT
    CASE
        WHEN reason IS NULL OR reason = 'opted_out' THEN CAST(NULL AS STRING)
        -- Cut only what is too long: SUBSTRING walks the bytes by their UTF-8 lead bytes,
        -- and a body ending in a broken sequence would make it read past the end.
        WHEN CHAR_LENGTH(body) > ${dead_letter_raw_chars} THEN SUBSTRING(body FROM 1 FOR ${dead_letter_raw_chars})
        ELSE body
    END AS body,
    kafka_partition, kafka_offset, event_time, ap_mac, x, y, device_id, rssi, occur_ms,
    mall_id, shop_code, shop_name, k.local_day, k.local_hour, randomized, reason, on_time,
    staff_device(mall_id, device_id, k.local_day) AS staff
FROM probe_enriched AS e
LEFT JOIN LATERAL TABLE(local_clock(e.event_time, CASE WHEN e.reason IS NULL THEN e.tz END))
    AS k(local_day, local_hour) ON TRUE;

CREATE TEMPORARY VIEW door_checked AS
SELECT
    r.body, r.kafka_partition, r.kafka_offset, r.event_time, d.mall_id, d.sensor_id, d.in_count, d.occur_ms,
    COALESCE(d.reason, CASE WHEN r.event_time < TO_TIMESTAMP_LTZ(0, 3) THEN 'future' END) AS reason
FROM door_sensors_raw AS r,
    LATERAL TABLE(parse_door(r.body, ${max_message_chars})) AS d(mall_id, sensor_id, in_count, occur_ms, reason);

-- door_read (jobs/metrics/hooks.py): door_checked with newest_time.
-- Door entries are plain sums, not windows: anything within the allowed lateness counts.
CREATE TEMPORARY VIEW door_enriched AS
SELECT
    c.body, c.kafka_partition, c.kafka_offset, c.event_time, PROCTIME() AS proc_time,
    c.mall_id, c.sensor_id, c.in_count, c.occur_ms, m.tz,
    CASE
        WHEN c.reason IS NOT NULL THEN c.reason
        WHEN m.tz IS NULL THEN 'unknown_mall'
        WHEN c.event_time <= c.newest_time - INTERVAL ${allowed_lateness} DAY TO SECOND THEN 'late'
    END AS reason
FROM (
    SELECT *, CASE WHEN reason IS NULL THEN mall_id END AS lookup_mall
    FROM door_read
) AS c
LEFT JOIN LATERAL TABLE(mall_zone(c.lookup_mall)) AS m(tz) ON TRUE;

CREATE TEMPORARY VIEW door_events AS
SELECT mall_id, sensor_id, tz, in_count, occur_ms, event_time FROM door_enriched WHERE reason IS NULL;

CREATE TEMPORARY VIEW door_rejects AS
SELECT ${door_sensors_topic} AS source_topic, kafka_partition, kafka_offset,
    CASE WHEN CHAR_LENGTH(body) > ${dead_letter_raw_chars} THEN SUBSTRING(body FROM 1 FOR ${dead_letter_raw_chars})
        ELSE body END AS body,
    reason, proc_time
FROM door_enriched WHERE reason IS NOT NULL;

-- The tills' transactions (docs/design.md §3): parsed by parse_pos, then checked against
-- the layout (shop_till): an unknown mall, a shop the mall does not have, a currency not
-- the mall's. Like door entries, sales are plain sums: anything within the allowed
-- lateness counts.
CREATE TEMPORARY VIEW pos_checked AS
SELECT
    r.body, r.kafka_partition, r.kafka_offset, r.event_time, t.transaction_id, t.mall_id, t.shop_code, t.occur_ms,
    t.amount_minor, t.currency, t.items, t.till_id,
    COALESCE(t.reason, CASE WHEN r.event_time < TO_TIMESTAMP_LTZ(0, 3) THEN 'future' END) AS reason
FROM pos_transactions_raw AS r,
    LATERAL TABLE(parse_pos(r.body, ${max_message_chars}))
        AS t(transaction_id, mall_id, shop_code, occur_ms, amount_minor, currency, items, till_id, reason);

-- pos_read (jobs/metrics/hooks.py): pos_checked with newest_time.
CREATE TEMPORARY VIEW pos_enriched AS
SELECT
    c.body, c.kafka_partition, c.kafka_offset, c.event_time, PROCTIME() AS proc_time, c.transaction_id, c.mall_id,
    c.shop_code, l.shop_name, c.occur_ms, c.amount_minor, c.currency, c.items, c.till_id, l.tz,
    CASE
        WHEN c.reason IS NOT NULL THEN c.reason
        WHEN l.tz IS NULL THEN 'unknown_mall'
        WHEN l.shop_name IS NULL THEN 'unknown_shop'
        WHEN c.currency <> l.currency THEN 'wrong_currency'
        WHEN c.event_time <= c.newest_time - INTERVAL ${allowed_lateness} DAY TO SECOND THEN 'late'
    END AS reason
FROM (
    SELECT *, CASE WHEN reason IS NULL THEN mall_id END AS lookup_mall
    FROM pos_read
) AS c
LEFT JOIN LATERAL TABLE(shop_till(c.lookup_mall, c.shop_code)) AS l(tz, currency, shop_name) ON TRUE;

CREATE TEMPORARY VIEW pos_events AS
SELECT e.transaction_id, e.mall_id, e.shop_code, e.shop_name, e.occur_ms, e.amount_minor, e.currency, e.items,
    e.till_id, e.proc_time, k.local_day AS `day`, k.local_hour AS `hour`
FROM (SELECT * FROM pos_enriched WHERE reason IS NULL) AS e,
    LATERAL TABLE(local_clock(e.event_time, e.tz)) AS k(local_day, local_hour);

CREATE TEMPORARY VIEW pos_rejects AS
SELECT ${pos_transactions_topic} AS source_topic, kafka_partition, kafka_offset,
    CASE WHEN CHAR_LENGTH(body) > ${dead_letter_raw_chars} THEN SUBSTRING(body FROM 1 FOR ${dead_letter_raw_chars})
        ELSE body END AS body,
    reason, proc_time
FROM pos_enriched WHERE reason IS NOT NULL;
