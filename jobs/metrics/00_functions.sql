-- Functions: the project's Java functions (udfs/java, built by `make setup` into the
-- functions jar that reaches the job through pipeline.jars).
--
-- event_millis(body, future_tolerance_ms, max_chars): a raw message's event time for
--   the source's watermark (0: none readable, -1: ahead of the clock).
-- parse_probe(body, max_chars), parse_door(body, max_chars), parse_pos(body, max_chars):
--   a message parsed,
--   validated, normalised and (probes) hashed in one pass, with the reason it is turned
--   away; once per message (table functions).
-- probe_layout(ap_mac), probe_fronts(ap_mac), mall_zone(mall_id): the mall layout
--   (a probe's place, the shop fronts it hears, a mall's time zone), from memory; reloaded
--   from PostgreSQL every FOOTFALL_JOB_LOOKUP_CACHE_SECONDS, the last one kept (and read
--   from its snapshot file after a restart) while PostgreSQL does not answer;
--   shop_till(mall_id, shop_code): what a till's transaction is checked against (the
--   mall's time zone and currency, the shop's name), likewise.
-- local_clock(event_time, tz): the local day and hour in a mall's time zone (once per
--   message, before the fork).
-- staff_device(mall_id, device_id, day): whether the device is staff of the mall on that
--   local day (tables staff_detected and staff_overrides, read with the layout).
-- visit_start(first_ms, last_ms, gap_ms): an OVER aggregate over one device's seconds in
--   event-time order: when the visit of the current second started (a gap over gap_ms
--   from the last event of the second before starts anew).
-- place_device(mall_id, xs, ys, rssis, threshold_dbm, tuning: one ARRAY<DOUBLE>): where a
--   device is on its mall's floor plan (x, y, zone, room: its distance to the nearest
--   wall) from the probes that heard it in one second (a table function, once per device
--   and second; the plan from the layout, shops and probes).
-- smooth_track(x, y, zone, room_m, at_ms, sigma_m, accel, horizon_ms): an OVER aggregate
--   over one device's placed seconds in event-time order: its position smoothed over its
--   recent fixes (a Kalman filter), never farther from the fix than room_m.
-- shop_name(mall_id, shop_code): a shop's name from the layout (for the shop a device is
--   placed in).
-- visit_dwell(second_ms, gap_ms): an OVER aggregate over one device's seconds placed in
--   one shop, in event-time order: the estimated dwell of the visit so far (the span of
--   its seconds and one mean gap between them: docs/design.md §4 item 6);
--   estimated_dwell(first_ms, last_ms, seconds) is the same estimate for a whole visit.
-- opted_out(device_id): whether its owner asked not to be tracked (privacy_opt_outs);
--   feed_allowed(device_id, consent_required): whether the feed may name it (without a
--   required consent always, else if it is in privacy_consents); both read with the layout.
-- scrub_macs(raw): a rejected message's text with every phone MAC in it replaced by its
--   device id (or removed where it cannot be read as one), and how many it replaced: no
--   raw MAC reaches the dead letters (a table function, once per rejected message).

CREATE TEMPORARY FUNCTION event_millis AS 'footfall.udf.EventMillis' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION parse_probe AS 'footfall.udf.ParseProbe' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION parse_door AS 'footfall.udf.ParseDoor' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION parse_pos AS 'footfall.udf.ParsePos' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION probe_layout AS 'footfall.udf.ProbeLayout' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION probe_fronts AS 'footfall.udf.ProbeFronts' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION mall_zone AS 'footfall.udf.MallZone' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION shop_till AS 'footfall.udf.ShopTill' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION local_clock AS 'footfall.udf.LocalClock' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION staff_device AS 'footfall.udf.StaffDevice' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION visit_start AS 'footfall.udf.VisitStart' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION place_device AS 'footfall.udf.PlaceDevice' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION smooth_track AS 'footfall.udf.SmoothTrack' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION shop_name AS 'footfall.udf.ShopName' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION visit_dwell AS 'footfall.udf.VisitDwell' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION estimated_dwell AS 'footfall.udf.EstimatedDwell' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION scrub_macs AS 'footfall.udf.ScrubMacs' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION opted_out AS 'footfall.udf.OptedOut' LANGUAGE JAVA;

CREATE TEMPORARY FUNCTION feed_allowed AS 'footfall.udf.FeedAllowed' LANGUAGE JAVA;
