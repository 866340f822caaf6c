-- Events: the two forks of probe_ingested, as the metrics and positions read them.
--
-- Input: probe_log and probe_log_live, both made from probe_ingested by
-- jobs/metrics/hooks.py, with proc_time the time of this side of the fork; door_rejects
-- and pos_rejects.
-- The source's watermark trails the slowest partition's newest event by the position
-- delay: probe_log_live keeps it on event_time. The metrics need the longer watermark
-- delay, so probe_log carries visit_time = event_time + (watermark delay - position
-- delay) as its time attribute under the same watermark: on event_time that watermark
-- trails by the full watermark delay. Both stay per partition, as Flink's Kafka source
-- computes them, however the partitions are read.
-- Output: probe_events (accepted, enriched; `on_time` says whether the event-time
-- windows may take it, `staff` whether its device is staff of the mall that day),
-- position_reports (on time only), rejects (one row per message turned away, with its
-- reason and its text scrubbed of phone MACs) and opted_out_reports.

CREATE TEMPORARY VIEW probe_events AS
SELECT ap_mac, x, y, mall_id, shop_code, shop_name, rssi, occur_ms, event_time, visit_time, proc_time,
    local_day AS `day`, local_hour AS `hour`, device_id, randomized, on_time, staff
FROM probe_log
WHERE reason IS NULL;

-- Positions are of visitors: reports that qualify for the mall, of devices that are not
-- randomised (a rotating MAC would be one phone seen as many) and not staff.
CREATE TEMPORARY VIEW position_reports AS
SELECT mall_id, device_id, ap_mac, x, y, rssi, event_time
FROM probe_log_live
WHERE reason IS NULL AND on_time AND NOT randomized AND NOT staff AND rssi >= ${mall_min_rssi};

-- A rejected message keeps its text for the dead letters, scrubbed of phone MACs (each
-- replaced by its device id, or removed), never the raw identifier of a person. An
-- opted-out device's report is no dead letter: it is only counted (ingest_counts).
CREATE TEMPORARY VIEW rejects AS
SELECT r.source_topic, r.kafka_partition, r.kafka_offset, s.scrubbed AS body, s.macs_replaced, r.reason, r.proc_time
FROM (
    SELECT ${wifi_probes_topic} AS source_topic, kafka_partition, kafka_offset, body, reason, proc_time
    FROM probe_log WHERE reason IS NOT NULL AND reason <> 'opted_out'
    UNION ALL
    SELECT source_topic, kafka_partition, kafka_offset, body, reason, proc_time FROM door_rejects
    UNION ALL
    SELECT source_topic, kafka_partition, kafka_offset, body, reason, proc_time FROM pos_rejects
) AS r, LATERAL TABLE(scrub_macs(r.body)) AS s(scrubbed, macs_replaced);

-- Reports of devices whose owner opted out (02_ingest.sql): counted, and nothing else.
CREATE TEMPORARY VIEW opted_out_reports AS
SELECT ${wifi_probes_topic} AS source_topic FROM probe_log WHERE reason = 'opted_out';
