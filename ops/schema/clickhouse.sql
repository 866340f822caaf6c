-- Footfall's ClickHouse database and its views (docs/design.md §5), made by `footfall
-- bootstrap`. The outputs' tables are made from their definitions (footfall/outputs.py,
-- ops/bootstrap.py): each a ReplacingMergeTree(version) ordered by its key, where
-- `version` grows with each update of a key (the job writes its update time in epoch
-- nanoseconds), so `SELECT … FINAL` reads the latest value and a replayed write is
-- harmless; the position history a plain MergeTree. Syntax runs on ClickHouse 18.16 and
-- current servers: new-style engine clauses, no DateTime64, no window functions, no table
-- TTL. `${database}` and `${mall_min_dwell_seconds}` are the only substitutions.

CREATE DATABASE IF NOT EXISTS ${database};

-- What needs a whole day's visits, derived from `visits` when read (views hold no data,
-- so they are made anew each time and always match this file).
-- The median visit per mall (shop_code '') and per shop and day: the middle visit's
-- dwell, or the mean of the two middle ones for an even count.
DROP TABLE IF EXISTS ${database}.dwell_daily;
CREATE VIEW ${database}.dwell_daily AS
SELECT mall_id, day, shop_code, length(dwells) AS visits,
    (dwells[intDiv(length(dwells) + 1, 2)] + dwells[intDiv(length(dwells), 2) + 1]) / 2 AS median_dwell_seconds
FROM (
    SELECT mall_id, day, shop_code, arraySort(groupArray(dwell_seconds)) AS dwells
    FROM ${database}.visits FINAL
    GROUP BY mall_id, day, shop_code
);

-- Journeys: each device's shop visits of a day in the order they started (then by shop
-- code); every step from one shop to a different one is a transition.
DROP TABLE IF EXISTS ${database}.shop_journeys_daily;
CREATE VIEW ${database}.shop_journeys_daily AS
SELECT mall_id, day, step.1 AS from_shop, step.2 AS to_shop, count() AS transitions
FROM (
    SELECT mall_id, day, arraySort(groupArray((started_at, shop_code))) AS path
    FROM ${database}.visits FINAL
    WHERE shop_code != ''
    GROUP BY mall_id, day, device_id
)
ARRAY JOIN arrayFilter(s -> s.1 != s.2,
                       arrayMap((a, b) -> (a.2, b.2), arrayPopBack(path), arrayPopFront(path))) AS step
GROUP BY mall_id, day, from_shop, to_shop;

-- Per mall and day: devices that visited a shop, and those that visited two or more.
DROP TABLE IF EXISTS ${database}.shoppers_daily;
CREATE VIEW ${database}.shoppers_daily AS
SELECT mall_id, day, count() AS shoppers, countIf(shops >= 2) AS multi_shop_visitors
FROM (
    SELECT mall_id, day, device_id, uniqExact(shop_code) AS shops
    FROM ${database}.visits FINAL
    WHERE shop_code != ''
    GROUP BY mall_id, day, device_id
)
GROUP BY mall_id, day;

-- Loyalty: each visitor of the day (a device with a mall visit that lasted the mall's
-- minimum dwell, ${mall_min_dwell_seconds} s, rendered in by `footfall bootstrap` from
-- FOOTFALL_MALL_MIN_DWELL_SECONDS), classed by its visitor visits on earlier days (the
-- first that applies): first_time (none before), daily (on 4 or more of the 7
-- days before), weekly (in 3 or more of the 4 weeks before, each week the 7 days of its
-- own), monthly (one within the 30 days before), occasional (earlier, but none within
-- the 30 days before).
DROP TABLE IF EXISTS ${database}.loyalty_daily;
CREATE VIEW ${database}.loyalty_daily AS
SELECT mall_id, day, count() AS visitors,
    countIf(class = 'first_time') AS first_time, countIf(class = 'daily') AS daily,
    countIf(class = 'weekly') AS weekly, countIf(class = 'monthly') AS monthly,
    countIf(class = 'occasional') AS occasional
FROM (
    SELECT mall_id, day,
        multiIf(
            NOT arrayExists(d -> d < day, days), 'first_time',
            arrayCount(d -> d < day AND d >= day - 7, days) >= 4, 'daily',
            arrayExists(d -> d < day AND d >= day - 7, days) + arrayExists(d -> d < day - 7 AND d >= day - 14, days)
                + arrayExists(d -> d < day - 14 AND d >= day - 21, days)
                + arrayExists(d -> d < day - 21 AND d >= day - 28, days) >= 3, 'weekly',
            arrayExists(d -> d < day AND d >= day - 30, days), 'monthly',
            'occasional') AS class
    FROM (
        SELECT mall_id, device_id, groupUniqArray(day) AS days
        FROM ${database}.visits FINAL
        WHERE shop_code = '' AND dwell_seconds >= ${mall_min_dwell_seconds}
        GROUP BY mall_id, device_id
    )
    ARRAY JOIN days AS day
)
GROUP BY mall_id, day;

-- Estimated people (docs/design.md §4 item 15): the device counts above are exact but count
-- phones with a stable MAC only; people without one (a randomised MAC, no phone that
-- probes) are estimated from the door counters, which count everyone who comes in.
-- Per mall and day: entries per visitor is the day's closed mall visits of its visitors
-- (devices with a visit of at least the mall's minimum dwell, ${mall_min_dwell_seconds} s)
-- over those visitors, at least 1 (1 before any visit has closed); estimated people =
-- door entries / entries per visitor; people per visitor (the factor, used for the hours and
-- the shops) = estimated people / visitors. A mall and day without door entries has no
-- estimate (NULL): `basis` says so rather than a number being guessed.
DROP TABLE IF EXISTS ${database}.people_daily;
CREATE VIEW ${database}.people_daily AS
SELECT mall_id, day, visitors, door_entries, entries_per_visitor,
    if(door_entries = 0, CAST(NULL AS Nullable(UInt64)), toUInt64(round(door_entries / entries_per_visitor)))
        AS estimated_people,
    if(door_entries = 0 OR visitors = 0, CAST(NULL AS Nullable(Float64)), estimated_people / visitors)
        AS people_per_visitor,
    multiIf(door_entries = 0, 'no door counts', visitors = 0, 'door counts, no stable-MAC visitors', 'door counts')
        AS basis
FROM (
    SELECT mall_id, day, visitors, door_entries, greatest(entries_per_visitor, 1) AS entries_per_visitor
    FROM (SELECT mall_id, day, visitors, door_entries FROM ${database}.mall_daily FINAL)
    ANY LEFT JOIN (
        SELECT mall_id, day, sum(visits) / count() AS entries_per_visitor
        FROM (
            SELECT mall_id, day, device_id, count() AS visits, max(dwell_seconds) AS longest
            FROM ${database}.visits FINAL
            WHERE shop_code = ''
            GROUP BY mall_id, day, device_id
        )
        WHERE longest >= ${mall_min_dwell_seconds}
        GROUP BY mall_id, day
    ) USING (mall_id, day)
);

-- Estimated people per mall, day and hour: the hour's visitors times the day's people per
-- visitor (NULL where the day has no estimate). door_entries are the hour's entries.
DROP TABLE IF EXISTS ${database}.people_hourly;
CREATE VIEW ${database}.people_hourly AS
SELECT mall_id, day, hour, visitors, door_entries, people_per_visitor,
    toUInt64(round(visitors * people_per_visitor)) AS estimated_people, basis
FROM (SELECT mall_id, day, hour, visitors, door_entries FROM ${database}.mall_hourly FINAL)
ANY LEFT JOIN (SELECT mall_id, day, people_per_visitor, basis FROM ${database}.people_daily) USING (mall_id, day);

-- Estimated people per shop and day: the shop's visitors times its mall's people per
-- visitor that day (NULL where the mall's day has no estimate).
DROP TABLE IF EXISTS ${database}.shop_people_daily;
CREATE VIEW ${database}.shop_people_daily AS
SELECT mall_id, day, shop_code, shop_name, visitors, people_per_visitor,
    toUInt64(round(visitors * people_per_visitor)) AS estimated_people, basis
FROM (SELECT mall_id, day, shop_code, shop_name, visitors FROM ${database}.shop_daily FINAL)
ANY LEFT JOIN (SELECT mall_id, day, people_per_visitor, basis FROM ${database}.people_daily) USING (mall_id, day);

-- Sales (docs/design.md §4 item 18) for readers in SQL: the job's sales_hourly summed per
-- shop and day, and per mall and hour or day, beside the visitors and estimated people of
-- the same span: conversion = transactions / visitors, sales per visitor = net sales /
-- visitors (minor units of the mall's currency); NULL without visitors. The same formulas
-- as footfall/sales.py (a test holds them together); which shop hours have no sales data
-- needs the tills' habit and is worked out there, when read.
DROP TABLE IF EXISTS ${database}.shop_sales_daily;
CREATE VIEW ${database}.shop_sales_daily AS
SELECT mall_id, day, shop_code, shop_name, currency, transactions, items, refunds, refunded_minor, sales_minor,
    visitors, estimated_people,
    if(visitors = 0, CAST(NULL AS Nullable(Float64)), transactions / visitors) AS conversion,
    if(visitors = 0, CAST(NULL AS Nullable(Float64)), sales_minor / visitors) AS sales_per_visitor_minor
FROM (
    SELECT mall_id, day, shop_code, any(shop_name) AS shop_name, any(currency) AS currency,
        sum(transactions) AS transactions, sum(items) AS items, sum(refunds) AS refunds,
        sum(refunded_minor) AS refunded_minor, sum(sales_minor) AS sales_minor
    FROM ${database}.sales_hourly FINAL
    GROUP BY mall_id, day, shop_code
)
ANY LEFT JOIN (SELECT mall_id, day, shop_code, visitors, estimated_people FROM ${database}.shop_people_daily)
USING (mall_id, day, shop_code);

DROP TABLE IF EXISTS ${database}.mall_sales_daily;
CREATE VIEW ${database}.mall_sales_daily AS
SELECT mall_id, day, currency, transactions, items, refunds, refunded_minor, sales_minor, visitors, estimated_people,
    if(visitors = 0, CAST(NULL AS Nullable(Float64)), transactions / visitors) AS conversion,
    if(visitors = 0, CAST(NULL AS Nullable(Float64)), sales_minor / visitors) AS sales_per_visitor_minor
FROM (
    SELECT mall_id, day, any(currency) AS currency, sum(transactions) AS transactions, sum(items) AS items,
        sum(refunds) AS refunds, sum(refunded_minor) AS refunded_minor, sum(sales_minor) AS sales_minor
    FROM ${database}.sales_hourly FINAL
    GROUP BY mall_id, day
)
ANY LEFT JOIN (SELECT mall_id, day, visitors, estimated_people FROM ${database}.people_daily) USING (mall_id, day);

DROP TABLE IF EXISTS ${database}.mall_sales_hourly;
CREATE VIEW ${database}.mall_sales_hourly AS
SELECT mall_id, day, hour, currency, transactions, items, refunds, refunded_minor, sales_minor, visitors,
    estimated_people,
    if(visitors = 0, CAST(NULL AS Nullable(Float64)), transactions / visitors) AS conversion,
    if(visitors = 0, CAST(NULL AS Nullable(Float64)), sales_minor / visitors) AS sales_per_visitor_minor
FROM (
    SELECT mall_id, day, hour, any(currency) AS currency, sum(transactions) AS transactions, sum(items) AS items,
        sum(refunds) AS refunds, sum(refunded_minor) AS refunded_minor, sum(sales_minor) AS sales_minor
    FROM ${database}.sales_hourly FINAL
    GROUP BY mall_id, day, hour
)
ANY LEFT JOIN (SELECT mall_id, day, hour, visitors, estimated_people FROM ${database}.people_hourly)
USING (mall_id, day, hour);

-- Expected footfall (footfall/expected.py): per mall (shop_code '') and shop, day and
-- hour, the visitors the hour usually brings (baseline, the median of the same weekday
-- and hour over the past weeks, `weeks` of them), its band (low, high) and the expected
-- count (today's baseline scaled by how the day runs; the baseline on later days).
-- Rewritten by each refresh: the newest computed_at wins. It holds no person: kept.
CREATE TABLE IF NOT EXISTS ${database}.expected_hourly (
    mall_id String, day Date, shop_code String, hour UInt8,
    baseline Float64, low Float64, high Float64, expected Float64, weeks UInt8,
    computed_at DateTime
) ENGINE = ReplacingMergeTree(computed_at) PARTITION BY toYYYYMM(day) ORDER BY (mall_id, day, shop_code, hour);

-- Alert events (footfall/alerts.py): every opening, escalation and resolution, as the
-- `alerts` topic carries them. Kept: it holds no person.
CREATE TABLE IF NOT EXISTS ${database}.alerts (
    event_id String, alert_id String, kind String, rule String, mall_id String, subject String,
    severity String, value Float64, threshold Float64, at DateTime, opened_at DateTime
) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(at) ORDER BY (mall_id, at, event_id);

-- Restated days (footfall/restatement.py, docs/metrics-job.md "Restatement"): per mall and
-- local day, its latest restatement: `restating` while one runs, `final` once its rows
-- replaced the live ones, `failed` if it did not finish (the live rows stay); the reports
-- it read and how long it took. A day without a row is provisional. It holds no person: kept.
CREATE TABLE IF NOT EXISTS ${database}.restated_days (
    mall_id String, day Date, state String, restated_at DateTime, reports UInt64, seconds Float32,
    version UInt64
) ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(day) ORDER BY (mall_id, day);
