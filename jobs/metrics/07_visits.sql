-- Visits and engagement (docs/design.md §4 items 6, 7, 8, 11 and 12): every shop and mall
-- visit once it has closed, favourite and repeat shops, and visits by dwell bucket.
-- Input: shop_events (04_presence.sql) and mall_visit_events (05_visitors.sql).
-- Output: visits, favorite_shop_daily, repeat_shops_daily, mall_engagement_daily,
-- shop_engagement_daily. Session windows on visit_time, closed by the metrics' watermark.

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
