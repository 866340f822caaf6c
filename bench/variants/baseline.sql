-- Straightforward baseline: the metrics of docs/design.md §4 written the naive way, for
-- `make bench` to measure the production job against.
--
-- Runs on top of the production job's 01_sources.sql and 02_ingest.sql (the same
-- validation, device hash and time rules, so the same events count; it reads
-- probe_enriched, which still has each event's time zone, and works out the local day
-- and hour itself), with the
-- sources' watermark at the full watermark delay, so windows can run on event_time
-- directly, and the ingestion's functions the straightforward way: each message parsed
-- and hashed in Python (bench/naive.py).
-- Then one INSERT per metric; with source and sub-plan reuse switched off (see
-- bench/variant.py) each INSERT reads and parses the topics itself, hashes the devices
-- and looks the layout up again.
-- Distinct counts are plain COUNT(DISTINCT) group aggregations, with no mini-batch, no
-- distinct split and no state TTL. Results go to upsert-kafka topics (latest value per
-- key), which the bench reads back to check they equal the production job's.

CREATE TEMPORARY VIEW b_probes AS
SELECT *,
    CAST(SUBSTRING(local_time FROM 1 FOR 10) AS DATE) AS `day`,
    CAST(SUBSTRING(local_time FROM 12 FOR 2) AS INT) AS `hour`
FROM (
    SELECT mall_id, shop_code, shop_name, device_id, randomized, rssi, occur_ms, x, y, ap_mac, event_time,
        on_time,
        CONVERT_TZ(DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss'), 'UTC', tz) AS local_time
    FROM probe_enriched
    WHERE reason IS NULL
);

CREATE TEMPORARY VIEW b_doors AS
SELECT mall_id, in_count,
    CAST(SUBSTRING(local_time FROM 1 FOR 10) AS DATE) AS `day`,
    CAST(SUBSTRING(local_time FROM 12 FOR 2) AS INT) AS `hour`
FROM (
    SELECT *, CONVERT_TZ(DATE_FORMAT(event_time, 'yyyy-MM-dd HH:mm:ss'), 'UTC', tz) AS local_time
    FROM door_events
);

-- Qualifying mall events of visitors and door reports, one stream per (mall, day, hour).
CREATE TEMPORARY VIEW b_mall_rows AS
SELECT mall_id, `day`, `hour`, device_id, randomized, 0 AS in_count
FROM b_probes WHERE rssi >= ${mall_min_rssi}
UNION ALL
SELECT mall_id, `day`, `hour`, CAST(NULL AS STRING), FALSE, in_count FROM b_doors;

CREATE TEMPORARY VIEW b_shop_events AS
SELECT mall_id, shop_code, shop_name, device_id, `day`, `hour`, occur_ms, event_time, on_time,
    -- A view cannot hold a multi-column PARTITION BY.
    CONCAT_WS('|', mall_id, device_id, shop_code) AS visit_key
FROM b_probes
WHERE shop_code IS NOT NULL AND rssi >= ${shop_min_rssi} AND NOT randomized;

-- The windows take what the production job's do: events on time for them.
CREATE TEMPORARY VIEW b_window_events AS
SELECT * FROM b_shop_events WHERE on_time;

CREATE TEMPORARY VIEW b_visits_daily AS
SELECT mall_id, `day`, device_id, shop_code, MAX(shop_name) AS shop_name,
    COUNT(*) AS visits, SUM(dwell_ms) AS dwell_ms
FROM (
    SELECT mall_id, device_id, shop_code, MAX(shop_name) AS shop_name,
        MIN(`day`) AS `day`, MAX(occur_ms) - MIN(occur_ms) AS dwell_ms
    FROM TABLE(SESSION(TABLE b_window_events PARTITION BY visit_key,
                       DESCRIPTOR(event_time), INTERVAL ${visit_gap} DAY TO SECOND))
    GROUP BY visit_key, mall_id, device_id, shop_code, window_start, window_end
)
GROUP BY mall_id, `day`, device_id, shop_code;

-- Visitors: each mall visit from a session window, joined back to all of its events (a
-- regular join that holds every event); an event from the visit's start plus the minimum
-- dwell on is heard while the device is a visitor.
CREATE TEMPORARY VIEW b_mall_events AS
SELECT mall_id, device_id, `day`, `hour`, occur_ms, event_time, CONCAT_WS('|', mall_id, device_id) AS visit_key
FROM b_probes
WHERE rssi >= ${mall_min_rssi} AND NOT randomized AND on_time;

CREATE TEMPORARY VIEW b_mall_visits AS
SELECT visit_key, MIN(occur_ms) AS first_ms, MAX(occur_ms) AS last_ms
FROM TABLE(SESSION(TABLE b_mall_events PARTITION BY visit_key,
                   DESCRIPTOR(event_time), INTERVAL ${visit_gap} DAY TO SECOND))
GROUP BY visit_key, window_start, window_end;

CREATE TEMPORARY VIEW b_visitor_rows AS
SELECT e.mall_id, e.`day`, e.`hour`, e.device_id
FROM b_mall_events AS e
JOIN b_mall_visits AS v
    ON e.visit_key = v.visit_key AND e.occur_ms >= v.first_ms + ${mall_min_dwell_ms} AND e.occur_ms <= v.last_ms;

-- Devices seen (any qualifying event, randomised ones apart), visitors and door entries.
CREATE TEMPORARY VIEW b_presence AS
SELECT mall_id, `day`, `hour`, CAST(NULL AS STRING) AS visitor,
    CASE WHEN NOT randomized THEN device_id END AS seen,
    CASE WHEN randomized THEN device_id END AS randomized_device, in_count
FROM b_mall_rows
UNION ALL
SELECT mall_id, `day`, `hour`, device_id, CAST(NULL AS STRING), CAST(NULL AS STRING), 0 FROM b_visitor_rows;

CREATE TEMPORARY VIEW b_hourly AS
SELECT mall_id, `day`, `hour`, visitors, door_entries, devices_seen, devices_seen - visitors AS passers_by
FROM (
    SELECT mall_id, `day`, `hour`, COUNT(DISTINCT visitor) AS visitors, SUM(in_count) AS door_entries,
        COUNT(DISTINCT seen) AS devices_seen
    FROM b_presence
    GROUP BY mall_id, `day`, `hour`
);

-- Shop visitors as mall visitors are (each shop visit joined back to its events), devices
-- near each shop (its own probe, or a corridor probe facing its front) and devices seen.
CREATE TEMPORARY VIEW b_shop_sessions AS
SELECT visit_key, MIN(occur_ms) AS first_ms, MAX(occur_ms) AS last_ms
FROM TABLE(SESSION(TABLE b_window_events PARTITION BY visit_key,
                   DESCRIPTOR(event_time), INTERVAL ${visit_gap} DAY TO SECOND))
GROUP BY visit_key, window_start, window_end;

CREATE TEMPORARY VIEW b_shop_presence AS
SELECT e.mall_id, e.`day`, e.`hour`, e.shop_code, e.shop_name, e.device_id AS visitor,
    CAST(NULL AS STRING) AS seen, CAST(NULL AS STRING) AS near
FROM b_window_events AS e
JOIN b_shop_sessions AS v
    ON e.visit_key = v.visit_key AND e.occur_ms >= v.first_ms + ${shop_min_dwell_ms} AND e.occur_ms <= v.last_ms
UNION ALL
SELECT mall_id, `day`, `hour`, shop_code, shop_name, CAST(NULL AS STRING), device_id, CAST(NULL AS STRING)
FROM b_shop_events
UNION ALL
SELECT mall_id, `day`, `hour`, shop_code, shop_name, CAST(NULL AS STRING), CAST(NULL AS STRING), device_id
FROM b_shop_events
UNION ALL
SELECT mall_id, `day`, `hour`, f.shop_code, f.shop_name, CAST(NULL AS STRING), CAST(NULL AS STRING), device_id
FROM b_probes, LATERAL TABLE(probe_fronts(ap_mac)) AS f(shop_code, shop_name)
WHERE b_probes.shop_code IS NULL AND rssi >= ${shop_min_rssi} AND NOT randomized;

CREATE TEMPORARY VIEW b_shop_daily AS
SELECT mall_id, `day`, shop_code, MAX(shop_name) AS shop_name, COUNT(DISTINCT visitor) AS visitors,
    COUNT(DISTINCT seen) AS devices_seen, COUNT(DISTINCT near) - COUNT(DISTINCT visitor) AS walk_bys
FROM b_shop_presence
GROUP BY mall_id, `day`, shop_code;

CREATE TEMPORARY VIEW b_shop_hourly AS
SELECT mall_id, `day`, `hour`, shop_code, MAX(shop_name) AS shop_name, COUNT(DISTINCT visitor) AS visitors,
    COUNT(DISTINCT near) - COUNT(DISTINCT visitor) AS walk_bys
FROM b_shop_presence
WHERE visitor IS NOT NULL OR near IS NOT NULL
GROUP BY mall_id, `day`, `hour`, shop_code;

CREATE TEMPORARY VIEW b_live_probes AS
SELECT * FROM b_probes WHERE on_time;

CREATE TEMPORARY VIEW b_probe_strongest AS
SELECT mall_id, device_id, ap_mac, window_time AS second_end, MAX(rssi) AS rssi, MAX(x) AS x, MAX(y) AS y
FROM TABLE(TUMBLE(TABLE b_live_probes, DESCRIPTOR(event_time), INTERVAL '1' SECOND))
WHERE rssi >= ${mall_min_rssi} AND NOT randomized
GROUP BY mall_id, device_id, ap_mac, window_start, window_end, window_time;

CREATE TEMPORARY VIEW b_positions AS
SELECT mall_id, device_id, UNIX_TIMESTAMP(DATE_FORMAT(window_start, 'yyyy-MM-dd HH:mm:ss')) AS ts,
    SUM(w * x) / SUM(w) AS x, SUM(w * y) / SUM(w) AS y
FROM (
    SELECT *, POWER(10.0, rssi / 10.0) AS w
    FROM TABLE(TUMBLE(TABLE b_probe_strongest, DESCRIPTOR(second_end), INTERVAL '1' SECOND))
)
GROUP BY mall_id, device_id, window_start, window_end;

-- The sinks: one upsert-kafka topic per metric, JSON keys and values.

CREATE TEMPORARY TABLE out_mall_daily (
    mall_id STRING, `day` DATE, visitors BIGINT, randomized_devices BIGINT, door_entries BIGINT,
    devices_seen BIGINT, passers_by BIGINT, PRIMARY KEY (mall_id, `day`) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${mall_daily_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_new_visitors (
    mall_id STRING, `day` DATE, new_visitors BIGINT, PRIMARY KEY (mall_id, `day`) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${new_visitors_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_mall_hourly (
    mall_id STRING, `day` DATE, `hour` INT, visitors BIGINT, door_entries BIGINT, devices_seen BIGINT,
    passers_by BIGINT, PRIMARY KEY (mall_id, `day`, `hour`) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${mall_hourly_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_peak_hour_daily (
    mall_id STRING, `day` DATE, `hour` INT, visitors BIGINT, PRIMARY KEY (mall_id, `day`) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${peak_hour_daily_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_shop_daily (
    mall_id STRING, `day` DATE, shop_code STRING, shop_name STRING, visitors BIGINT, devices_seen BIGINT,
    walk_bys BIGINT, PRIMARY KEY (mall_id, `day`, shop_code) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${shop_daily_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_shop_hourly (
    mall_id STRING, `day` DATE, `hour` INT, shop_code STRING, shop_name STRING, visitors BIGINT, walk_bys BIGINT,
    PRIMARY KEY (mall_id, `day`, `hour`, shop_code) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${shop_hourly_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_top_shops_daily (
    mall_id STRING, `day` DATE, `rank` BIGINT, shop_code STRING, shop_name STRING, visitors BIGINT,
    PRIMARY KEY (mall_id, `day`, `rank`) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${top_shops_daily_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_favorite_shop_daily (
    mall_id STRING, `day` DATE, device_id STRING, shop_code STRING, shop_name STRING, visits BIGINT,
    dwell_seconds BIGINT, PRIMARY KEY (mall_id, `day`, device_id) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${favorite_shop_daily_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_repeat_shops_daily (
    mall_id STRING, `day` DATE, device_id STRING, shop_code STRING, shop_name STRING, visits BIGINT,
    PRIMARY KEY (mall_id, `day`, device_id, shop_code) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${repeat_shops_daily_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_positions (
    mall_id STRING, ts BIGINT, device_id STRING, x DOUBLE, y DOUBLE, zone STRING,
    PRIMARY KEY (mall_id, ts, device_id) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${positions_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

CREATE TEMPORARY TABLE out_dead_letter_counts (
    source_topic STRING, reason STRING, messages BIGINT, PRIMARY KEY (source_topic, reason) NOT ENFORCED
) WITH (
    'connector' = 'upsert-kafka', 'topic' = ${dead_letter_counts_topic}, 'properties.bootstrap.servers' = ${bootstrap_servers},
    'key.format' = 'json', 'value.format' = 'json'
);

-- One INSERT per metric.

INSERT INTO out_mall_daily
SELECT mall_id, `day`, visitors, randomized_devices, door_entries, devices_seen, devices_seen - visitors
FROM (
    SELECT mall_id, `day`, COUNT(DISTINCT visitor) AS visitors, COUNT(DISTINCT randomized_device) AS randomized_devices,
        SUM(in_count) AS door_entries, COUNT(DISTINCT seen) AS devices_seen
    FROM b_presence
    GROUP BY mall_id, `day`
);

INSERT INTO out_new_visitors
SELECT mall_id, first_day, COUNT(*)
FROM (
    SELECT mall_id, device_id, MIN(`day`) AS first_day
    FROM b_visitor_rows
    GROUP BY mall_id, device_id
)
GROUP BY mall_id, first_day;

INSERT INTO out_mall_hourly SELECT * FROM b_hourly;

INSERT INTO out_peak_hour_daily
SELECT mall_id, `day`, `hour`, visitors FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY mall_id, `day` ORDER BY visitors DESC, `hour` ASC) AS rn
    FROM b_hourly
) WHERE rn = 1;

INSERT INTO out_shop_daily SELECT * FROM b_shop_daily;

INSERT INTO out_shop_hourly SELECT * FROM b_shop_hourly;

INSERT INTO out_top_shops_daily
SELECT mall_id, `day`, rn, shop_code, shop_name, visitors FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY mall_id, `day` ORDER BY visitors DESC, shop_code ASC) AS rn
    FROM b_shop_daily
) WHERE rn <= 5;

INSERT INTO out_favorite_shop_daily
SELECT mall_id, `day`, device_id, shop_code, shop_name, visits, dwell_ms / 1000 FROM (
    SELECT *, ROW_NUMBER() OVER (
        PARTITION BY mall_id, `day`, device_id ORDER BY visits DESC, dwell_ms DESC, shop_code ASC) AS rn
    FROM b_visits_daily
) WHERE rn = 1;

INSERT INTO out_repeat_shops_daily
SELECT mall_id, `day`, device_id, shop_code, shop_name, visits FROM b_visits_daily WHERE visits >= 2;

INSERT INTO out_positions
SELECT mall_id, ts, device_id, ROUND(x, 2), ROUND(y, 2), zone(mall_id, x, y) FROM b_positions;

INSERT INTO out_dead_letter_counts
SELECT source_topic, reason, COUNT(*) FROM (
    SELECT ${wifi_probes_topic} AS source_topic, reason FROM probe_ingested WHERE reason IS NOT NULL
    UNION ALL
    SELECT source_topic, reason FROM door_rejects
)
GROUP BY source_topic, reason;
