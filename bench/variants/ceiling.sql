-- Ceiling: the most events/s this machine's Flink takes from the input topics. Each
-- message is read and parsed as JSON (Flink's own json format, one parse per message)
-- into a blackhole: no validation, no state, nothing written.

CREATE TEMPORARY TABLE probes_json (
    event_id STRING,
    ap_mac STRING,
    device_mac STRING,
    rssi INT,
    occur_time BIGINT
) WITH (
    'connector' = 'kafka',
    'topic' = ${wifi_probes_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.group.id' = ${group_id},
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE doors_json (
    sensor_id STRING,
    mall_id STRING,
    entrance STRING,
    occur_time BIGINT,
    in_count INT,
    out_count INT
) WITH (
    'connector' = 'kafka',
    'topic' = ${door_sensors_topic},
    'properties.bootstrap.servers' = ${bootstrap_servers},
    'properties.group.id' = ${group_id},
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'json',
    'json.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE probes_blackhole WITH ('connector' = 'blackhole') LIKE probes_json (EXCLUDING ALL);

CREATE TEMPORARY TABLE doors_blackhole WITH ('connector' = 'blackhole') LIKE doors_json (EXCLUDING ALL);

INSERT INTO probes_blackhole SELECT * FROM probes_json;

INSERT INTO doors_blackhole SELECT * FROM doors_json;
