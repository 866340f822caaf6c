-- Shops (docs/design.md §4 items 2 and 3): each shop's visitors (walk-ins) and walk-bys
-- per day and hour, and the day's top shops. Input: shop_events and the shop views of
-- 04_presence.sql. Output: shop_daily, shop_hourly, top_shops_daily.
-- Windows and lateness as 04_presence.sql says.

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
