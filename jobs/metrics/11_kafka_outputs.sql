-- Kafka outputs: the favourite-shop feed and the dead letters, through Flink's Kafka sink.
--
-- Input: kafka_messages, the rows of the outputs changelog bound for Kafka (sink_key,
-- message_key, payload), made insert-only in the JVM by jobs/metrics/hooks.py (udfs/java
-- Route.java): a key's current state is published, its retraction is not.
-- Output: one message per row, keyed by message_key (plain UTF-8), its value the
-- payload's fields as JSON. At least once: the sink flushes what it holds with every
-- checkpoint, and a message written again after a restart repeats the same key (the feed
-- is read as the latest message per device; a dead letter names the message it rejects).

-- The messages are written by Flink's json format, so their fields keep the contract's
-- order (JSON_OBJECT, which made the payload, orders them by name).

CREATE TEMPORARY TABLE favorite_shops_topic (
    message_key STRING,
    mall_id STRING,
    `day` STRING,
    device_id STRING,
    shop_code STRING,
    shop_name STRING,
    visits BIGINT,
    dwell_seconds BIGINT,
    updated_at STRING
) WITH (
    'connector' = 'kafka',
    'topic' = ${favorite_shops_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.client.id' = 'footfall-metrics',
    'properties.linger.ms' = '5',
    'key.format' = 'raw',
    'key.fields' = 'message_key',
    'value.format' = 'json',
    'value.fields-include' = 'EXCEPT_KEY',
    'sink.delivery-guarantee' = 'at-least-once'
);

CREATE TEMPORARY TABLE dead_letters_topic (
    message_key STRING,
    source_topic STRING,
    `raw` STRING,
    reason STRING,
    received_at STRING
) WITH (
    'connector' = 'kafka',
    'topic' = ${dead_letters_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.client.id' = 'footfall-metrics',
    'properties.linger.ms' = '5',
    'key.format' = 'raw',
    'key.fields' = 'message_key',
    'value.format' = 'json',
    'value.fields-include' = 'EXCEPT_KEY',
    'sink.delivery-guarantee' = 'at-least-once'
);

INSERT INTO favorite_shops_topic
SELECT message_key, JSON_VALUE(payload, '$.mall_id'), JSON_VALUE(payload, '$.day'), JSON_VALUE(payload, '$.device_id'),
    JSON_VALUE(payload, '$.shop_code'), JSON_VALUE(payload, '$.shop_name'),
    CAST(JSON_VALUE(payload, '$.visits') AS BIGINT), CAST(JSON_VALUE(payload, '$.dwell_seconds') AS BIGINT),
    JSON_VALUE(payload, '$.updated_at')
FROM kafka_messages WHERE sink_key LIKE 'favorite_shop_daily/%';

INSERT INTO dead_letters_topic
SELECT message_key, JSON_VALUE(payload, '$.source_topic'), JSON_VALUE(payload, '$.raw'),
    JSON_VALUE(payload, '$.reason'), JSON_VALUE(payload, '$.received_at')
FROM kafka_messages WHERE sink_key = 'dead_letters';
