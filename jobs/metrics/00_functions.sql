-- Functions: the project's Java functions (udfs/java, built by `make setup` into the
-- functions jar that reaches the job through pipeline.jars). The Python ones (device_id,
-- zone) are registered by the launcher, job.py.
--
-- event_millis(body, future_tolerance_ms, max_chars): a raw message's event time for
--   the source's watermark (0: none readable, -1: ahead of the clock).
-- probe_layout(ap_mac), mall_zone(mall_id): the mall layout, from memory; reloaded
--   from PostgreSQL every FOOTFALL_JOB_LOOKUP_CACHE_SECONDS, the last one kept (and read
--   from its snapshot file after a restart) while PostgreSQL does not answer.

CREATE TEMPORARY FUNCTION event_millis AS 'footfall.udf.EventMillis' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION probe_layout AS 'footfall.udf.ProbeLayout' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION mall_zone AS 'footfall.udf.MallZone' LANGUAGE JAVA;
