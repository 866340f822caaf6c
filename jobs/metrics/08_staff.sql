-- Staff and fixed devices (docs/design.md §4 item 14). Input: mall_visits (07_visits.sql).
-- Output: staff_detected. Decided on event time, kept as long as the first-seen history.

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
