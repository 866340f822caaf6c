-- 9: live positions, as a function of position_reports.
--
-- Each second of event time is a tumbling window on the source's short watermark
-- (FOOTFALL_JOB_POSITION_DELAY_SECONDS behind the slowest partition), so a device's
-- second is final a few seconds after it ends, not a watermark delay later. The first window keeps each probe's
-- strongest report (duplicates change nothing); the second, cascaded on its window
-- time, takes the centroid of those probes weighted by 10^(rssi/10). Only then does
-- the Python zone() UDF see a row: one per device and second. How long a position stays
-- live after its second (position_ttl) is applied where it is kept, in Redis.

CREATE TEMPORARY VIEW probe_strongest AS
SELECT mall_id, device_id, ap_mac, window_time AS second_end,
    MAX(rssi) AS rssi, MAX(x) AS x, MAX(y) AS y
FROM TABLE(TUMBLE(TABLE position_reports, DESCRIPTOR(event_time), INTERVAL '1' SECOND))
GROUP BY mall_id, device_id, ap_mac, window_start, window_end, window_time;

CREATE TEMPORARY VIEW positions AS
SELECT mall_id, device_id,
    -- window_start is UTC wall time (the session time zone), as epoch seconds.
    UNIX_TIMESTAMP(DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss')) AS ts,
    x, y, zone(mall_id, x, y) AS zone
FROM (
    SELECT mall_id, device_id, window_start, SUM(w * x) / SUM(w) AS x, SUM(w * y) / SUM(w) AS y
    FROM (
        SELECT *, POWER(10.0, rssi / 10.0) AS w
        FROM TABLE(TUMBLE(TABLE probe_strongest, DESCRIPTOR(second_end), INTERVAL '1' SECOND))
    )
    GROUP BY mall_id, device_id, window_start, window_end
);
