-- Footfall history tables (docs/design.md §5), created idempotently by `footfall bootstrap`.
-- Every metric table is ReplacingMergeTree(version): `version` grows with each update of a
-- key (the job writes its update time in epoch nanoseconds), so `SELECT … FINAL` reads the latest
-- value and a replayed write is harmless. Syntax runs on ClickHouse 18.16 and current
-- servers: new-style engine clauses, no DateTime64, no window functions, no table TTL.
-- `${database}` is the only substitution (FOOTFALL_CLICKHOUSE_DATABASE).

CREATE DATABASE IF NOT EXISTS ${database};

CREATE TABLE IF NOT EXISTS ${database}.mall_daily (
    mall_id String,
    day Date,
    visitors UInt64,
    new_visitors UInt64,
    returning_visitors UInt64,
    randomized_devices UInt64,
    door_entries UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day);

CREATE TABLE IF NOT EXISTS ${database}.shop_daily (
    mall_id String,
    day Date,
    shop_code String,
    shop_name String,
    visitors UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day, shop_code);

CREATE TABLE IF NOT EXISTS ${database}.top_shops_daily (
    mall_id String,
    day Date,
    rank UInt8,
    shop_code String,
    shop_name String,
    visitors UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day, rank);

CREATE TABLE IF NOT EXISTS ${database}.mall_hourly (
    mall_id String,
    day Date,
    hour UInt8,
    visitors UInt64,
    door_entries UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day, hour);

CREATE TABLE IF NOT EXISTS ${database}.peak_hour_daily (
    mall_id String,
    day Date,
    hour UInt8,
    visitors UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day);

CREATE TABLE IF NOT EXISTS ${database}.favorite_shop_daily (
    mall_id String,
    day Date,
    device_id String,
    shop_code String,
    shop_name String,
    visits UInt32,
    dwell_seconds UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day, device_id);

CREATE TABLE IF NOT EXISTS ${database}.repeat_shops_daily (
    mall_id String,
    day Date,
    device_id String,
    shop_code String,
    shop_name String,
    visits UInt32,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day, device_id, shop_code);

-- Position history: append-only, one row per device and second.
CREATE TABLE IF NOT EXISTS ${database}.positions (
    mall_id String,
    ts DateTime,
    device_id String,
    x Float32,
    y Float32,
    zone String
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(ts)
ORDER BY (mall_id, ts, device_id);

-- Engagement (docs/design.md §4 item 11): visits by how long they lasted, per mall and day
-- and per shop and day.
CREATE TABLE IF NOT EXISTS ${database}.mall_engagement_daily (
    mall_id String,
    day Date,
    visits UInt64,
    bounced UInt64,
    visits_5_20m UInt64,
    visits_20_60m UInt64,
    visits_1_6h UInt64,
    visits_6h_plus UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day);

CREATE TABLE IF NOT EXISTS ${database}.shop_engagement_daily (
    mall_id String,
    day Date,
    shop_code String,
    shop_name String,
    visits UInt64,
    bounced UInt64,
    visits_5_20m UInt64,
    visits_20_60m UInt64,
    visits_1_6h UInt64,
    visits_6h_plus UInt64,
    version UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (mall_id, day, shop_code);
