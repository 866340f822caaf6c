-- Metrics of docs/design.md §4 items 1-8 and 10-14, as functions of probe_events and door_events.
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
-- positions are (item 9, 05_positions.sql: the same window and estimator, which keeps the
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
    CAST(${estimator_exponent} AS DOUBLE), CAST(${estimator_wall_loss_db} AS DOUBLE), CAST(${estimator_p0_dbm} AS DOUBLE),
    CAST(${estimator_p0_sd_db} AS DOUBLE), CAST(${estimator_shadowing_db} AS DOUBLE), CAST(${estimator_radius_m} AS DOUBLE),
    CAST(${estimator_window_db} AS DOUBLE), CAST(${estimator_step_m} AS DOUBLE))) AS p(x, y, zone, room)
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

-- 1 and 4: visitors against passers-by. A device becomes a visitor once a mall visit (a
-- run of its qualifying mall events with gaps of at most the visit gap, as in item 11) has
-- lasted the minimum dwell; from that event on it is a visitor of each (day, hour) it is
-- heard in during that visit. Devices seen but never a visitor are passers-by, unless they
-- are staff (item 14: counted on their own, in no visitor metric). Like visits, this takes
-- on-time events only.
-- A probe request is heard by many probes at the same time, so the events are first put
-- together per device and second (a tumbling window, pre-aggregated before the shuffle)
-- with their first and last time; that is exact, as events within a second are less than
-- the visit gap apart and a second lies in one hour. How long the visit has lasted at each
-- second is then an event-time OVER (visit_start: udfs/java VisitStart.java), so a visitor
-- counts once the watermark passes the second that reaches the dwell, not when the visit
-- ends.
CREATE TEMPORARY VIEW mall_visit_events AS
SELECT mall_id, device_id, `day`, `hour`, occur_ms, visit_time, CONCAT_WS('|', mall_id, device_id) AS visit_key
FROM probe_events
WHERE rssi >= ${mall_min_rssi} AND NOT randomized AND NOT staff AND on_time;

CREATE TEMPORARY VIEW mall_seconds AS
SELECT visit_key, MIN(mall_id) AS mall_id, MIN(device_id) AS device_id, MIN(`day`) AS `day`, MIN(`hour`) AS `hour`,
    MIN(occur_ms) AS first_ms, MAX(occur_ms) AS last_ms, window_time AS second_time
FROM TABLE(TUMBLE(TABLE mall_visit_events, DESCRIPTOR(visit_time), INTERVAL '1' SECOND))
GROUP BY visit_key, window_start, window_end, window_time;

CREATE TEMPORARY VIEW mall_presence AS
SELECT mall_id, device_id, `day`, `hour`, PROCTIME() AS proc_time,
    last_ms - visit_start(first_ms, last_ms, CAST(${visit_gap_ms} AS BIGINT)) OVER (
        PARTITION BY visit_key ORDER BY second_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS visit_ms
FROM mall_seconds;

CREATE TEMPORARY VIEW visitor_hours AS
SELECT mall_id, `day`, `hour`, device_id, proc_time FROM (
    SELECT mall_id, `day`, `hour`, device_id, proc_time,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, `hour`, device_id ORDER BY proc_time) AS rn
    FROM mall_presence
    WHERE visit_ms >= ${mall_min_dwell_ms}
) WHERE rn = 1;

CREATE TEMPORARY VIEW visitor_days AS
SELECT mall_id, `day`, device_id FROM (
    SELECT mall_id, `day`, device_id,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, device_id ORDER BY proc_time) AS rn
    FROM visitor_hours
) WHERE rn = 1;

-- 5: the first local day each device was a visitor of each mall, remembered for the
-- history TTL.
CREATE TEMPORARY VIEW first_seen AS
SELECT /*+ STATE_TTL('vd' = ${history_ttl}) */ mall_id, device_id, MIN(`day`) AS first_day
FROM visitor_days AS vd
GROUP BY mall_id, device_id;

-- 1, 5, 10 and 14: visitors, new / returning, devices seen, passers-by, staff, randomised
-- devices and door entries per day.
CREATE TEMPORARY VIEW mall_daily AS
-- A device's rows reach this aggregate by several paths, so for a moment it can be
-- counted new before it is counted a visitor, or a visitor before it is seen. New is capped
-- at visitors, and passers-by at zero, so that new + returning = visitors and
-- visitors + passers-by + staff = devices seen always; once all rows are in, the caps
-- change nothing.
SELECT mall_id, `day`, visitors,
    LEAST(new_visitors, visitors) AS new_visitors,
    visitors - LEAST(new_visitors, visitors) AS returning_visitors,
    devices_seen, GREATEST(devices_seen - visitors - staff_devices, CAST(0 AS BIGINT)) AS passers_by,
    randomized_devices, door_entries, staff_devices
FROM (
    SELECT mall_id, `day`,
        SUM(visitors) AS visitors,
        SUM(new_visitors) AS new_visitors,
        SUM(devices_seen) AS devices_seen,
        SUM(randomized_devices) AS randomized_devices,
        SUM(door_entries) AS door_entries,
        SUM(staff_devices) AS staff_devices
    FROM (
        SELECT mall_id, `day`,
            CAST(0 AS BIGINT) AS visitors,
            CAST(0 AS BIGINT) AS new_visitors,
            CAST(CASE WHEN randomized THEN 0 ELSE 1 END AS BIGINT) AS devices_seen,
            CAST(CASE WHEN randomized THEN 1 ELSE 0 END AS BIGINT) AS randomized_devices,
            CAST(0 AS BIGINT) AS door_entries,
            CAST(CASE WHEN staff AND NOT randomized THEN 1 ELSE 0 END AS BIGINT) AS staff_devices
        FROM device_days
        UNION ALL
        SELECT mall_id, `day`, 1, 0, 0, 0, 0, 0 FROM visitor_days
        UNION ALL
        SELECT mall_id, first_day, 0, 1, 0, 0, 0, 0 FROM first_seen
        UNION ALL
        SELECT mall_id, `day`, 0, 0, 0, 0, CAST(in_count AS BIGINT), 0 FROM door_local
    )
    GROUP BY mall_id, `day`
);

-- 4, 10 and 14: visitors, devices seen, passers-by, staff and door entries per local hour.
CREATE TEMPORARY VIEW mall_hourly AS
SELECT mall_id, `day`, `hour`, visitors, devices_seen,
    GREATEST(devices_seen - visitors - staff_devices, CAST(0 AS BIGINT)) AS passers_by, door_entries, staff_devices
FROM (
    SELECT mall_id, `day`, `hour`, SUM(visitors) AS visitors, SUM(devices_seen) AS devices_seen,
        SUM(door_entries) AS door_entries, SUM(staff_devices) AS staff_devices
    FROM (
        SELECT mall_id, `day`, `hour`, CAST(1 AS BIGINT) AS visitors, CAST(0 AS BIGINT) AS devices_seen,
            CAST(0 AS BIGINT) AS door_entries, CAST(0 AS BIGINT) AS staff_devices
        FROM visitor_hours
        UNION ALL
        SELECT mall_id, `day`, `hour`, 0, 1, 0, CAST(CASE WHEN staff THEN 1 ELSE 0 END AS BIGINT) FROM device_hours
        UNION ALL
        SELECT mall_id, `day`, `hour`, 0, 0, CAST(in_count AS BIGINT), 0 FROM door_local
    )
    GROUP BY mall_id, `day`, `hour`
);

-- 4: the hour with most visitors; ties go to the earlier hour.
CREATE TEMPORARY VIEW peak_hour_daily AS
SELECT mall_id, `day`, `hour`, visitors FROM (
    SELECT mall_id, `day`, `hour`, visitors,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day` ORDER BY visitors DESC, `hour` ASC) AS rn
    FROM mall_hourly
) WHERE rn = 1;

-- 2: shop visitors (walk-ins) and walk-bys, as the mall's visitors and passers-by are:
-- a device is a visitor of a shop from the second at which its shop visit (item 6) has
-- lasted the shop's minimum dwell, estimated (visit_dwell: the span of its seconds and one
-- mean gap); devices near the shop (placed in it, heard by its own probe, or by a
-- corridor probe facing its front) that never were are its walk-bys.
CREATE TEMPORARY VIEW shop_presence AS
SELECT mall_id, shop_code, shop_name, device_id, `day`, `hour`, proc_time,
    visit_dwell(occur_ms, CAST(${visit_gap_ms} AS BIGINT)) OVER (
        PARTITION BY visit_key ORDER BY visit_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS visit_ms
FROM shop_events;

CREATE TEMPORARY VIEW shop_visitor_hours AS
SELECT mall_id, `day`, `hour`, shop_code, shop_name, device_id, proc_time FROM (
    SELECT mall_id, `day`, `hour`, shop_code, shop_name, device_id, proc_time,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, `hour`, shop_code, device_id ORDER BY proc_time) AS rn
    FROM shop_presence
    WHERE visit_ms >= ${shop_min_dwell_ms}
) WHERE rn = 1;

CREATE TEMPORARY VIEW shop_visitor_days AS
SELECT mall_id, `day`, shop_code, shop_name, device_id FROM (
    SELECT mall_id, `day`, shop_code, shop_name, device_id,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, shop_code, device_id ORDER BY proc_time) AS rn
    FROM shop_visitor_hours
) WHERE rn = 1;

-- Near a shop: placed in it (a shop event), heard at the shop's threshold by its own
-- probe, or by a corridor probe facing its front (the layout's shop_fronts): a few metres
-- from its door.
CREATE TEMPORARY VIEW shop_near_events AS
SELECT mall_id, `day`, `hour`, shop_code, shop_name, device_id, proc_time
FROM shop_events
UNION ALL
SELECT mall_id, `day`, `hour`, shop_code, shop_name, device_id, proc_time
FROM shop_heard_events
WHERE NOT staff
UNION ALL
SELECT mall_id, `day`, `hour`, f.shop_code, f.shop_name, device_id, proc_time
FROM probe_events, LATERAL TABLE(probe_fronts(ap_mac)) AS f(shop_code, shop_name)
WHERE probe_events.shop_code IS NULL AND rssi >= ${shop_min_rssi} AND NOT randomized AND NOT staff;

CREATE TEMPORARY VIEW shop_near_hours AS
SELECT mall_id, `day`, `hour`, shop_code, shop_name, device_id, proc_time FROM (
    SELECT mall_id, `day`, `hour`, shop_code, shop_name, device_id, proc_time,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, `hour`, shop_code, device_id ORDER BY proc_time) AS rn
    FROM shop_near_events
) WHERE rn = 1;

CREATE TEMPORARY VIEW shop_near_days AS
SELECT mall_id, `day`, shop_code, shop_name, device_id FROM (
    SELECT mall_id, `day`, shop_code, shop_name, device_id,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day`, shop_code, device_id ORDER BY proc_time) AS rn
    FROM shop_near_hours
) WHERE rn = 1;

-- Walk-bys are capped at zero for the moment a device's rows are on their way by
-- different paths (as passers-by are in mall_daily).
CREATE TEMPORARY VIEW shop_daily AS
SELECT mall_id, `day`, shop_code, shop_name, visitors, devices_seen,
    GREATEST(near - visitors, CAST(0 AS BIGINT)) AS walk_bys
FROM (
    SELECT mall_id, `day`, shop_code, LAST_VALUE(shop_name) AS shop_name, SUM(visitors) AS visitors,
        SUM(devices_seen) AS devices_seen, SUM(near) AS near
    FROM (
        SELECT mall_id, `day`, shop_code, shop_name, CAST(1 AS BIGINT) AS visitors, CAST(0 AS BIGINT) AS devices_seen,
            CAST(0 AS BIGINT) AS near
        FROM shop_visitor_days
        UNION ALL
        SELECT mall_id, `day`, shop_code, shop_name, 0, 1, 0 FROM device_shop_days
        UNION ALL
        SELECT mall_id, `day`, shop_code, shop_name, 0, 0, 1 FROM shop_near_days
    )
    GROUP BY mall_id, `day`, shop_code
);

CREATE TEMPORARY VIEW shop_hourly AS
SELECT mall_id, `day`, `hour`, shop_code, shop_name, visitors, GREATEST(near - visitors, CAST(0 AS BIGINT)) AS walk_bys
FROM (
    SELECT mall_id, `day`, `hour`, shop_code, LAST_VALUE(shop_name) AS shop_name, SUM(visitors) AS visitors,
        SUM(near) AS near
    FROM (
        SELECT mall_id, `day`, `hour`, shop_code, shop_name, CAST(1 AS BIGINT) AS visitors, CAST(0 AS BIGINT) AS near
        FROM shop_visitor_hours
        UNION ALL
        SELECT mall_id, `day`, `hour`, shop_code, shop_name, 0, 1 FROM shop_near_hours
    )
    GROUP BY mall_id, `day`, `hour`, shop_code
);

-- 3: the five shops with most visitors; ties by shop_code.
CREATE TEMPORARY VIEW top_shops_daily AS
SELECT mall_id, `day`, CAST(rn AS INT) AS `rank`, shop_code, shop_name, visitors FROM (
    SELECT mall_id, `day`, shop_code, shop_name, visitors,
        ROW_NUMBER() OVER (PARTITION BY mall_id, `day` ORDER BY visitors DESC, shop_code ASC) AS rn
    FROM shop_daily
) WHERE rn <= 5;

-- 6: a visit is a run of a device's seconds placed in the shop with gaps of at most the
-- visit gap (session windows merge when they touch); it belongs to the local day it
-- starts; its dwell is estimated from its first and last second and how many there are
-- (estimated_dwell). A second is one row, however many reports it had. Grouped by the
-- partition key and the window alone, this is a session window aggregation: one
-- append-only row per visit once the watermark closes it, and no state kept after.
-- (Grouped by more keys it would be a plain group aggregation over the windows, holding
-- every visit for the state TTL.) mall_id, device_id and shop_code are fixed by
-- visit_key, so MIN just names them. Session windows merge, so every aggregate must
-- too: LAST_VALUE cannot, and a shop renamed during a visit keeps the greater of its
-- names for that visit (visits_daily takes the day's latest).
CREATE TEMPORARY VIEW shop_visits AS
SELECT MIN(mall_id) AS mall_id, MIN(device_id) AS device_id, MIN(shop_code) AS shop_code,
    MAX(shop_name) AS shop_name, MIN(`day`) AS `day`, MIN(occur_ms) AS started_ms,
    estimated_dwell(MIN(occur_ms), MAX(occur_ms), COUNT(*)) AS dwell_ms
FROM TABLE(SESSION(TABLE shop_events PARTITION BY visit_key,
                   DESCRIPTOR(visit_time), INTERVAL ${visit_gap} DAY TO SECOND))
GROUP BY visit_key, window_start, window_end;

CREATE TEMPORARY VIEW visits_daily AS
SELECT mall_id, `day`, device_id, shop_code, LAST_VALUE(shop_name) AS shop_name,
    COUNT(*) AS visits, SUM(dwell_ms) AS dwell_ms
FROM shop_visits
GROUP BY mall_id, `day`, device_id, shop_code;

-- 7: most visits, then longer total dwell, then shop_code.
CREATE TEMPORARY VIEW favorite_shop_daily AS
SELECT mall_id, `day`, device_id, shop_code, shop_name, visits, dwell_ms / 1000 AS dwell_seconds FROM (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY mall_id, `day`, device_id ORDER BY visits DESC, dwell_ms DESC, shop_code ASC) AS rn
    FROM visits_daily
) WHERE rn = 1;

-- 8: every shop a device visited at least twice that day.
CREATE TEMPORARY VIEW repeat_shops_daily AS
SELECT mall_id, `day`, device_id, shop_code, shop_name, visits
FROM visits_daily
WHERE visits >= 2;

-- 11: engagement. A mall visit is a run of a device's qualifying mall events with gaps of
-- at most the visit gap, as a shop visit is of its shop events (same rules: on-time events,
-- the day it starts, dwell = last minus first). mall_visit_events is defined above, with
-- the visitors.
CREATE TEMPORARY VIEW mall_visits AS
SELECT MIN(mall_id) AS mall_id, MIN(device_id) AS device_id, MIN(`day`) AS `day`, MIN(occur_ms) AS started_ms,
    MAX(occur_ms) - MIN(occur_ms) AS dwell_ms
FROM TABLE(SESSION(TABLE mall_visit_events PARTITION BY visit_key,
                   DESCRIPTOR(visit_time), INTERVAL ${visit_gap} DAY TO SECOND))
GROUP BY visit_key, window_start, window_end;

-- 12: every visit, to the mall (shop_code '') and to a shop, once it has closed: ClickHouse
-- derives what needs a whole day's visits from these (medians, journeys: clickhouse.sql).
CREATE TEMPORARY VIEW visits AS
SELECT mall_id, `day`, '' AS shop_code, '' AS shop_name, device_id, started_ms, dwell_ms FROM mall_visits
UNION ALL
SELECT mall_id, `day`, shop_code, shop_name, device_id, started_ms, dwell_ms FROM shop_visits;

-- Visits by how long they lasted, per mall (shop_code '') and per shop and day: bounced
-- (under 5 minutes), 5-20 min, 20-60 min, 1-6 h, 6 h or more (each bound opens its
-- bucket). The median is ClickHouse's (dwell_daily, over `visits`): with Flink's
-- PERCENTILE over each day's visits here, the live bench's visitor count took 4.2 s (p50)
-- instead of 2.9 s at 2,000 records/s and the job fell behind at 5,000/s.
CREATE TEMPORARY VIEW engagement_daily AS
SELECT mall_id, `day`, shop_code, LAST_VALUE(shop_name) AS shop_name, COUNT(*) AS visits,
    COUNT(*) FILTER (WHERE dwell_ms < 300000) AS bounced,
    COUNT(*) FILTER (WHERE dwell_ms >= 300000 AND dwell_ms < 1200000) AS visits_5_20m,
    COUNT(*) FILTER (WHERE dwell_ms >= 1200000 AND dwell_ms < 3600000) AS visits_20_60m,
    COUNT(*) FILTER (WHERE dwell_ms >= 3600000 AND dwell_ms < 21600000) AS visits_1_6h,
    COUNT(*) FILTER (WHERE dwell_ms >= 21600000) AS visits_6h_plus
FROM visits
GROUP BY mall_id, `day`, shop_code;

CREATE TEMPORARY VIEW mall_engagement_daily AS
SELECT mall_id, `day`, visits, bounced, visits_5_20m, visits_20_60m, visits_1_6h, visits_6h_plus
FROM engagement_daily
WHERE shop_code = '';

CREATE TEMPORARY VIEW shop_engagement_daily AS
SELECT mall_id, `day`, shop_code, shop_name, visits, bounced, visits_5_20m, visits_20_60m, visits_1_6h,
    visits_6h_plus
FROM engagement_daily
WHERE shop_code <> '';

-- 14: staff and fixed devices. A device heard in a mall for more than the staff hours on a
-- day (the total dwell of its mall visits that started that day) qualifies that day; once
-- it has qualified on the staff days of a window of days in a row, it is staff
-- from the next day on. The rule is met on a qualifying day D with that many or more
-- qualifying days in the window of days that ends on D: its first such day is the
-- device's qualified_day. Mall visits already leave out a device's days as staff, and a
-- staff device stays staff (staff_overrides, in PostgreSQL, can say otherwise).
-- The rule is decided on event time; the ingestion learns a new staff device from
-- PostgreSQL (staff_detected, written by the sinks) at its next reload, before the next
-- day starts in any mall that closes at night (a backfill faster than real time reads on
-- before that reload: design §4 item 14).
CREATE TEMPORARY VIEW mall_visits_heard AS
SELECT mall_id, device_id, `day`, dwell_ms, PROCTIME() AS proc_time FROM mall_visits;

-- A device's qualifying days, once each: the running total of its day's visits passes
-- the staff hours (an OVER aggregate, so the stream stays append-only).
CREATE TEMPORARY VIEW staff_days AS
SELECT mall_id, device_id, `day` FROM (
    SELECT mall_id, device_id, `day`,
        ROW_NUMBER() OVER (PARTITION BY mall_id, device_id, `day` ORDER BY proc_time) AS rn
    FROM (
        SELECT mall_id, device_id, `day`, proc_time,
            SUM(dwell_ms) OVER (
                PARTITION BY mall_id, device_id, `day` ORDER BY proc_time
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS heard_ms
        FROM mall_visits_heard
    )
    WHERE heard_ms > ${staff_min_heard_ms}
) WHERE rn = 1;

-- Each qualifying day with the device's qualifying days of the window that ends on it.
-- Few devices ever qualify, so the join's state is small; it is kept as long as the
-- first-seen history.
CREATE TEMPORARY VIEW staff_day_pairs AS
SELECT /*+ STATE_TTL('a' = ${history_ttl}, 'b' = ${history_ttl}) */ a.mall_id, a.device_id, a.`day`
FROM staff_days AS a
JOIN staff_days AS b
    ON a.mall_id = b.mall_id AND a.device_id = b.device_id
    AND b.`day` <= a.`day` AND b.`day` > a.`day` - INTERVAL ${staff_window} DAY TO SECOND;

CREATE TEMPORARY VIEW staff_rule_days AS
SELECT /*+ STATE_TTL('p' = ${history_ttl}) */ mall_id, device_id, `day`
FROM staff_day_pairs AS p
GROUP BY mall_id, device_id, `day`
HAVING COUNT(*) >= ${staff_min_days};

CREATE TEMPORARY VIEW staff_detected AS
SELECT mall_id, device_id, qualified_day, qualified_day + INTERVAL '1' DAY AS since_day FROM (
    SELECT /*+ STATE_TTL('r' = ${history_ttl}) */ mall_id, device_id, MIN(`day`) AS qualified_day
    FROM staff_rule_days AS r
    GROUP BY mall_id, device_id
);
