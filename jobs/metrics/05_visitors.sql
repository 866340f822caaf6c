-- Visitors (docs/design.md §4 items 1, 4, 5 and 10): mall visitors against passers-by,
-- new and returning, devices seen, staff and door entries per day and hour, and the peak
-- hour. Input: probe_events, the views of 04_presence.sql and visitor_history
-- (01_sources.sql). Output: mall_daily,
-- mall_hourly, peak_hour_daily (and mall_visit_events, which 07_visits.sql reads).
-- Windows and lateness as 04_presence.sql says.

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
-- history TTL (and the days before that a restatement is given: visitor_history).
CREATE TEMPORARY VIEW first_seen AS
SELECT /*+ STATE_TTL('vd' = ${history_ttl}) */ mall_id, device_id, MIN(`day`) AS first_day
FROM (
    SELECT mall_id, device_id, `day` FROM visitor_days
    UNION ALL
    SELECT mall_id, device_id, `day` FROM visitor_history
) AS vd
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
