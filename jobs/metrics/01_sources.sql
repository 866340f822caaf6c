-- Sources: the two input topics, read raw, and the PostgreSQL dimension tables.
--
-- Each message is one STRING column (`body`) so that a malformed one can be sent to
-- dead-letters exactly as it came. The event time is read from the JSON; a message
-- without a readable `occur_time` gets time 0, which never moves the watermark, and is
-- rejected downstream. Watermark: the short one of live positions
-- (FOOTFALL_JOB_POSITION_DELAY_SECONDS), per partition as Flink's Kafka source keeps it;
-- the metrics read it shifted by the difference to their own delay (see job.py).
-- The dimension tables are JDBC lookup tables with a partial cache that expires, so a
-- probe, shop or mall added to PostgreSQL is picked up without a restart.

CREATE TEMPORARY TABLE wifi_probes_raw (
    body STRING,
    kafka_partition INT METADATA FROM 'partition' VIRTUAL,
    kafka_offset BIGINT METADATA FROM 'offset' VIRTUAL,
    event_time AS TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(JSON_VALUE(body, '$.occur_time') AS BIGINT), 0), 3),
    proc_time AS PROCTIME(),
    WATERMARK FOR event_time AS event_time - INTERVAL ${position_delay} DAY TO SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = ${wifi_probes_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.group.id' = ${group_id},
    'scan.startup.mode' = ${startup_mode},
    'properties.auto.offset.reset' = 'earliest',
    -- Small fetches interleave the partitions while catching up on a backlog. The
    -- watermark is the slowest partition's, so a partition read far ahead of another
    -- would have its late events pass as on time (and, with idleness on, a partition
    -- left waiting would look idle and turn its on-time events late). Some brokers
    -- (Tansu) ignore the per-partition limit, so the whole fetch is bounded too.
    'properties.max.partition.fetch.bytes' = '65536',
    'properties.fetch.max.bytes' = '65536',
    'format' = 'raw'
);

-- The same raw schema, watermark and consumer options; only the topic differs.
CREATE TEMPORARY TABLE door_sensors_raw WITH ('topic' = ${door_sensors_topic}) LIKE wifi_probes_raw;

CREATE TEMPORARY TABLE dim_probes (
    ap_mac STRING,
    mall_id STRING,
    shop_code STRING,
    x DOUBLE,
    y DOUBLE,
    PRIMARY KEY (ap_mac) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = ${jdbc_url},
    'table-name' = ${probes_table},
    'username' = ${jdbc_user},
    'password' = ${jdbc_password},
    'lookup.cache' = ${lookup_cache_mode},
    'lookup.partial-cache.expire-after-write' = ${lookup_cache},
    'lookup.partial-cache.cache-missing-key' = 'true',
    'lookup.partial-cache.max-rows' = '200000'
);

CREATE TEMPORARY TABLE dim_shops (
    mall_id STRING,
    shop_code STRING,
    shop_name STRING,
    category STRING,
    PRIMARY KEY (mall_id, shop_code) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = ${jdbc_url},
    'table-name' = ${shops_table},
    'username' = ${jdbc_user},
    'password' = ${jdbc_password},
    'lookup.cache' = ${lookup_cache_mode},
    'lookup.partial-cache.expire-after-write' = ${lookup_cache},
    'lookup.partial-cache.cache-missing-key' = 'true',
    'lookup.partial-cache.max-rows' = '200000'
);

CREATE TEMPORARY TABLE dim_malls (
    mall_id STRING,
    tz STRING,
    PRIMARY KEY (mall_id) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = ${jdbc_url},
    'table-name' = ${malls_table},
    'username' = ${jdbc_user},
    'password' = ${jdbc_password},
    'lookup.cache' = ${lookup_cache_mode},
    'lookup.partial-cache.expire-after-write' = ${lookup_cache},
    'lookup.partial-cache.cache-missing-key' = 'true',
    'lookup.partial-cache.max-rows' = '10000'
);
