-- Sales (docs/design.md §4 item 18): each shop's till transactions per local hour and day.
--
-- Input: pos_events (02_ingest.sql: valid transactions of known shops, in the mall's
-- currency, within the allowed lateness, with their local day and hour).
-- Output: sales_hourly (ClickHouse: conversion, basket and sales per visitor are worked out
-- there against the shops' visitors, footfall/sales.py) and sales_daily (the live day in
-- Redis).
-- A transaction sent again (the same transaction_id in the same mall: a till retrying, a
-- file imported twice) counts once: its first copy read is kept, for the day state TTL.
-- A refund (a negative amount) is counted apart: it is not a transaction of the hour's
-- conversion, and its amount comes off the net sales; its items are not taken back.
CREATE TEMPORARY VIEW pos_once AS
SELECT mall_id, `day`, `hour`, shop_code, shop_name, currency, amount_minor, items FROM (
    SELECT mall_id, `day`, `hour`, shop_code, shop_name, currency, amount_minor, items,
        ROW_NUMBER() OVER (PARTITION BY mall_id, transaction_id ORDER BY proc_time) AS rn
    FROM pos_events
) WHERE rn = 1;

CREATE TEMPORARY VIEW sales_hourly AS
SELECT mall_id, `day`, `hour`, shop_code, LAST_VALUE(shop_name) AS shop_name, LAST_VALUE(currency) AS currency,
    SUM(CASE WHEN amount_minor > 0 THEN CAST(1 AS BIGINT) ELSE 0 END) AS transactions,
    SUM(CAST(CASE WHEN amount_minor > 0 THEN items ELSE 0 END AS BIGINT)) AS items,
    SUM(CASE WHEN amount_minor < 0 THEN CAST(1 AS BIGINT) ELSE 0 END) AS refunds,
    SUM(CASE WHEN amount_minor < 0 THEN -amount_minor ELSE CAST(0 AS BIGINT) END) AS refunded_minor,
    SUM(amount_minor) AS sales_minor
FROM pos_once
GROUP BY mall_id, `day`, `hour`, shop_code;

-- The day: the sum of its hours (the same transactions, each once).
CREATE TEMPORARY VIEW sales_daily AS
SELECT mall_id, `day`, shop_code, LAST_VALUE(shop_name) AS shop_name, LAST_VALUE(currency) AS currency,
    SUM(transactions) AS transactions, SUM(items) AS items, SUM(refunds) AS refunds,
    SUM(refunded_minor) AS refunded_minor, SUM(sales_minor) AS sales_minor
FROM sales_hourly
GROUP BY mall_id, `day`, shop_code;
