-- 9: live positions, as a function of position_reports.
--
-- Each second of event time is a tumbling window on the source's short watermark
-- (FOOTFALL_JOB_POSITION_DELAY_SECONDS behind the slowest partition), so a device's
-- second is final a few seconds after it ends, not a watermark delay later. The window
-- gathers the places and levels of the device's reports in the second, one row per
-- device and second: the place_device() table function (udfs/java PlaceDevice.java and
-- FloorPlan.java, whose twin is udfs/positioning.py; its tuning, ${estimator_tuning}, is that
-- twin's) keeps each probe's strongest report (duplicates change nothing), places the
-- device on the mall's floor plan with a path-loss model, also using the probes that did
-- not hear it at ${mall_min_rssi} dBm or more, and gives the zone;
-- the fix is then smoothed over the device's recent seconds.
-- How long a position stays live after its second (position_ttl) is applied where it is
-- kept, in Redis.

-- The three arrays line up: each aggregate appends the same rows in the same order, and
-- the two-phase window aggregate merges the accumulators of each in the same order too.
CREATE TEMPORARY VIEW fixes AS
SELECT mall_id, device_id, ts, second_time, p.x, p.y, p.zone, p.room
FROM (
    SELECT mall_id, device_id, window_time AS second_time,
        -- window_start is UTC wall time (the session time zone), as epoch seconds.
        UNIX_TIMESTAMP(DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss')) AS ts,
        ARRAY_AGG(x) AS xs, ARRAY_AGG(y) AS ys, ARRAY_AGG(rssi) AS rssis
    FROM TABLE(TUMBLE(TABLE position_reports, DESCRIPTOR(event_time), INTERVAL '1' SECOND))
    GROUP BY mall_id, device_id, window_start, window_end, window_time
) AS s, LATERAL TABLE(place_device(s.mall_id, s.xs, s.ys, s.rssis, ${mall_min_rssi},
    ${estimator_tuning})) AS p(x, y, zone, room);

-- Each fix smoothed over the device's recent fixes in its zone (smooth_track: udfs/java
-- SmoothTrack.java; a track starts anew after ${track_horizon_ms} ms without a fix), an
-- event-time OVER on the fixes' seconds, so a device's fixes are taken in time order.
CREATE TEMPORARY VIEW positions AS
SELECT mall_id, device_id, ts, t.track.x AS x, t.track.y AS y, zone
FROM (
    SELECT mall_id, device_id, ts, zone,
        smooth_track(x, y, zone, room, ts * 1000, CAST(${track_sigma_m} AS DOUBLE), CAST(${track_accel} AS DOUBLE),
                     CAST(${track_horizon_ms} AS BIGINT)) OVER (
            PARTITION BY mall_id, device_id ORDER BY second_time ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS track
    FROM fixes
) AS t;
