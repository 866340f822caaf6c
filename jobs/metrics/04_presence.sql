-- Presence: who is where, as every metric file after this one reads it (docs/design.md §4
-- items 1, 2 and 6). Door reports in the mall's local time; the first sighting of each
-- device per mall and day and per hour; a shop's qualifying events; and each visitor's
-- seconds placed on the floor plan (shop events), of which shop visits are made.
-- Input: probe_events, door_events (03_events.sql). The files 04-08 are the metrics of
-- design §4 items 1-8 and 10-14, as functions of those two tables; these rules hold for
-- all of them:
--
--
-- Days and hours are the mall's local calendar: a probe event's are worked out once, in
-- the ingestion (local_clock); a door report's here (the session time zone is UTC, so
-- DATE_FORMAT gives UTC and CONVERT_TZ moves it into the mall's zone).
-- Distinct counts are built from first-sightings: a keep-first deduplication emits one
-- row per (mall, day, device) and the like, so a count is a plain COUNT over an
-- append-only stream and changes only when a new device appears. Those dedup and
-- aggregate states hold one day and expire ${day_state_ttl} after their last update;
-- nothing older than the allowed lateness reaches them (it is rejected upstream), and
-- events behind the watermark (a probe's delayed upload) still count here: these are
-- group aggregations, not windows.
-- The first-seen history for new/returning visitors keeps ${history_ttl} of state TTL.
-- Shop visits are event-time session windows (gap ${visit_gap} seconds) on visit_time
-- (event time shifted by a constant, see 03_events.sql), released when the watermark
-- passes the end of the visit; they take only `on_time` events (see 02_ingest.sql).

CREATE TEMPORARY VIEW door_local AS
SELECT mall_id, in_count,
    CAST(SUBSTRING(local_time FROM 1 FOR 10) AS DATE) AS `day`,
    CAST(SUBSTRING(local_time FROM 12 FOR 2) AS INT) AS `hour`
FROM (
    SELECT *, CONVERT_TZ(DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss'), 'UTC', tz) AS local_time
    FROM door_events
);

-- One row the first time a device is heard in a mall on a day (randomised ones and staff
-- too: devices seen keeps its first meaning).
CREATE TEMPORARY VIEW device_days AS
SELECT mall_id, `day`, device_id, randomized, staff FROM (
    SELECT mall_id, `day`, device_id, randomized, staff,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, device_id ORDER BY proc_time) AS rn
    FROM probe_events
    WHERE rssi >= ${mall_min_rssi}
) WHERE rn = 1;

CREATE TEMPORARY VIEW device_hours AS
SELECT mall_id, `day`, `hour`, device_id, staff FROM (
    SELECT mall_id, `day`, `hour`, device_id, staff,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, `hour`, device_id ORDER BY proc_time) AS rn
    FROM probe_events
    WHERE rssi >= ${mall_min_rssi} AND NOT randomized
) WHERE rn = 1;

-- Qualifying shop events, heard by a shop's own probe at the shop's threshold: of every
-- device (a shop's devices seen), and of visitors, staff left out (near the shop).
CREATE TEMPORARY VIEW shop_heard_events AS
SELECT mall_id, shop_code, shop_name, device_id, `day`, `hour`, proc_time, staff
FROM probe_events
WHERE shop_code IS NOT NULL AND rssi >= ${shop_min_rssi} AND NOT randomized;

-- 2 and 6: where a visitor is, second by second, on the metrics' watermark. Its on-time
-- reports of each second are placed on the mall's floor plan by place_device() as live
-- positions are (item 9, 09_positions.sql: the same window and estimator, which keeps the
-- strongest report of each probe), but with the metrics' watermark, so that every on-time
-- report is in its second. Each second placed in a shop is one shop event: a shop's
-- visits and visitors are made of them.
CREATE TEMPORARY VIEW zone_reports AS
SELECT mall_id, device_id, x, y, rssi, `day`, `hour`, occur_ms - MOD(occur_ms, 1000) AS second_ms, visit_time
FROM probe_events
WHERE on_time AND NOT randomized AND NOT staff AND rssi >= ${mall_min_rssi};

-- visit_time is event time shifted by whole seconds, so each of its seconds is one second
-- of event time, and second_ms, `day` and `hour` are fixed within it.
CREATE TEMPORARY VIEW shop_seconds AS
SELECT mall_id, device_id, `day`, `hour`, second_ms, second_time, p.zone AS shop_code
FROM (
    SELECT mall_id, device_id, `day`, `hour`, second_ms, window_time AS second_time,
        ARRAY_AGG(x) AS xs, ARRAY_AGG(y) AS ys, ARRAY_AGG(rssi) AS rssis
    FROM TABLE(TUMBLE(TABLE zone_reports, DESCRIPTOR(visit_time), INTERVAL '1' SECOND))
    GROUP BY mall_id, device_id, `day`, `hour`, second_ms, window_start, window_end, window_time
) AS s, LATERAL TABLE(place_device(s.mall_id, s.xs, s.ys, s.rssis, ${mall_min_rssi},
    ${estimator_tuning})) AS p(x, y, zone, room)
WHERE p.zone <> 'corridor';

CREATE TEMPORARY VIEW shop_events AS
SELECT mall_id, shop_code, shop_name(mall_id, shop_code) AS shop_name, device_id, `day`, `hour`,
    second_ms AS occur_ms, second_time AS visit_time, PROCTIME() AS proc_time,
    -- One column to partition sessions by: a view cannot hold a multi-column PARTITION BY.
    CONCAT_WS('|', mall_id, device_id, shop_code) AS visit_key
FROM shop_seconds;

-- A shop's devices seen: heard by its probe at its threshold, or placed in it.
CREATE TEMPORARY VIEW device_shop_days AS
SELECT mall_id, `day`, shop_code, shop_name, device_id FROM (
    SELECT mall_id, `day`, shop_code, shop_name, device_id,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, shop_code, device_id ORDER BY proc_time) AS rn
    FROM (
        SELECT mall_id, `day`, shop_code, shop_name, device_id, proc_time FROM shop_heard_events
        UNION ALL
        SELECT mall_id, `day`, shop_code, shop_name, device_id, proc_time FROM shop_events
    )
) WHERE rn = 1;
