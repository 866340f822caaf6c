-- Kafka outputs: the favourite-shop feed and the dead letters, through Flink's Kafka sink.
--
-- Input: kafka_messages, the rows of the outputs changelog bound for Kafka (sink_key,
-- message_key, payload), made insert-only in the JVM by jobs/metrics/hooks.py (udfs/java
-- Route.java): a key's current state is published, its retraction is not.
-- Output: one message per row, keyed by message_key, its value the payload, which is the
-- message's JSON text already (11_outputs.sql), both as UTF-8: no row is parsed here. At least once: the sink flushes what it holds with every
-- checkpoint, and a message written again after a restart repeats the same key (the feed
-- is read as the latest message per device; a dead letter names the message it rejects).

CREATE TEMPORARY TABLE favorite_shops_topic (
    message_key STRING,
    message STRING
) WITH (
    'connector' = 'kafka',
    'topic' = ${favorite_shops_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.client.id' = 'footfall-metrics',
    'properties.linger.ms' = '5',
    'key.format' = 'raw',
    'key.fields' = 'message_key',
    'value.format' = 'raw',
    'value.fields-include' = 'EXCEPT_KEY',
    'sink.delivery-guarantee' = 'at-least-once'
);

CREATE TEMPORARY TABLE dead_letters_topic (
    message_key STRING,
    message STRING
) WITH (
    'connector' = 'kafka',
    'topic' = ${dead_letters_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.client.id' = 'footfall-metrics',
    'properties.linger.ms' = '5',
    'key.format' = 'raw',
    'key.fields' = 'message_key',
    'value.format' = 'raw',
    'value.fields-include' = 'EXCEPT_KEY',
    'sink.delivery-guarantee' = 'at-least-once'
);

-- The feed names a device only if it may (FOOTFALL_FEED_CONSENT=required: its owner
-- consented, table privacy_consents, read with the layout); every device counts anyway.
INSERT INTO favorite_shops_topic
SELECT message_key, payload FROM kafka_messages
WHERE sink_key LIKE 'favorite_shop_daily/%' AND feed_allowed(message_key, ${feed_consent_required});

INSERT INTO dead_letters_topic
SELECT message_key, payload FROM kafka_messages WHERE sink_key = 'dead_letters';
