-- Mall layout dimension tables (docs/design.md §3), created idempotently by `footfall bootstrap`.
-- The Flink job reads them through cached JDBC lookup joins, so rows added here are
-- picked up without a restart. Coordinates are metres from the mall's origin.
-- `${schema}` is the only substitution (FOOTFALL_POSTGRES_SCHEMA).

CREATE SCHEMA IF NOT EXISTS ${schema};

CREATE TABLE IF NOT EXISTS ${schema}.malls (
    mall_id     text PRIMARY KEY,
    name        text NOT NULL,
    tz          text NOT NULL,              -- IANA zone: days and hours are local to it
    origin_lat  double precision NOT NULL,
    origin_lon  double precision NOT NULL
);

CREATE TABLE IF NOT EXISTS ${schema}.shops (
    mall_id     text NOT NULL REFERENCES ${schema}.malls (mall_id),
    shop_code   text NOT NULL,
    shop_name   text NOT NULL,
    category    text NOT NULL,
    -- JSON [[x, y], ...] kept as text: Flink's JDBC dialect has no jsonb type.
    polygon     text NOT NULL CHECK (json_typeof(polygon::json) = 'array'),
    PRIMARY KEY (mall_id, shop_code)
);

CREATE TABLE IF NOT EXISTS ${schema}.probes (
    ap_mac      text PRIMARY KEY,           -- lower case, ':' separated
    mall_id     text NOT NULL REFERENCES ${schema}.malls (mall_id),
    shop_code   text,                       -- NULL for corridor probes
    x           double precision NOT NULL,
    y           double precision NOT NULL,
    floor       integer NOT NULL DEFAULT 0,
    FOREIGN KEY (mall_id, shop_code) REFERENCES ${schema}.shops (mall_id, shop_code)
);

-- The shop fronts each corridor probe hears: a device heard there walked by the shop
-- (docs/design.md §4 item 2). A probe may face several shops, a shop several probes.
CREATE TABLE IF NOT EXISTS ${schema}.shop_fronts (
    mall_id     text NOT NULL,
    shop_code   text NOT NULL,
    ap_mac      text NOT NULL REFERENCES ${schema}.probes (ap_mac),
    PRIMARY KEY (mall_id, shop_code, ap_mac),
    FOREIGN KEY (mall_id, shop_code) REFERENCES ${schema}.shops (mall_id, shop_code)
);

-- Entrances with their door counters: not read by the job (door events carry their
-- mall_id), but part of the layout the dashboards draw.
CREATE TABLE IF NOT EXISTS ${schema}.entrances (
    sensor_id   text PRIMARY KEY,
    mall_id     text NOT NULL REFERENCES ${schema}.malls (mall_id),
    name        text NOT NULL,
    x           double precision NOT NULL,
    y           double precision NOT NULL
);

-- Staff and fixed devices (docs/design.md §4 item 14). staff_detected is written by the
-- metrics job (a device that met the staff rule: staff from since_day on); operators write
-- staff_overrides (`footfall staff`), which wins: is_staff false keeps a device a visitor,
-- true makes it staff from since_day (NULL: every day). The job reads both with the
-- layout, so a change takes effect within FOOTFALL_JOB_LOOKUP_CACHE_SECONDS.
CREATE TABLE IF NOT EXISTS ${schema}.staff_detected (
    mall_id       text NOT NULL,
    device_id     text NOT NULL,
    qualified_day date NOT NULL,            -- the day the rule was met
    since_day     date NOT NULL,            -- staff from this local day on
    detected_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mall_id, device_id)
);

CREATE TABLE IF NOT EXISTS ${schema}.staff_overrides (
    mall_id     text NOT NULL,
    device_id   text NOT NULL,
    is_staff    boolean NOT NULL,
    since_day   date,
    note        text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mall_id, device_id)
);

-- Privacy (docs/privacy.md), by device id only: a MAC is hashed as the job hashes it and
-- never stored. privacy_opt_outs: devices whose owner asked not to be tracked; the job
-- reads them with the layout and drops their reports at ingestion. privacy_consents:
-- devices whose owner agreed to the favourite-shop feed (read when
-- FOOTFALL_FEED_CONSENT=required). privacy_requests: every opt-out, consent, access and
-- erasure request answered, with what it removed or exported (rows per table).
CREATE TABLE IF NOT EXISTS ${schema}.privacy_opt_outs (
    device_id   text PRIMARY KEY,
    since       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ${schema}.privacy_consents (
    device_id   text PRIMARY KEY,
    since       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ${schema}.privacy_requests (
    request_id  bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL,              -- opt-out, opt-in, consent, withdraw, export, erase
    device_id   text NOT NULL,
    rows        jsonb NOT NULL DEFAULT '{}' -- table or key -> rows removed or exported
);

-- Alerts (footfall/alerts.py, docs/design.md §4 item 17). Capacities: the most people
-- the mall or a shop may hold (its fire limit); NULL: no occupancy rule for it.
ALTER TABLE ${schema}.malls ADD COLUMN IF NOT EXISTS capacity integer CHECK (capacity > 0);
-- The currency the mall's tills report in (ISO 4217): a transaction in another is turned
-- away ('wrong_currency'), and sales are shown in it (docs/design.md §3).
ALTER TABLE ${schema}.malls ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'EUR'
    CHECK (currency ~ '^[A-Z]{3}$$');  -- doubled: the file is a template
ALTER TABLE ${schema}.shops ADD COLUMN IF NOT EXISTS capacity integer CHECK (capacity > 0);

-- The rules per mall, made with their defaults when a mall is loaded; subject '' is the
-- mall itself (for probe_silent: each of its probes), or a shop code. warning / critical
-- / clear: for occupancy shares of the capacity (fires at warning, critical at critical,
-- resolves below clear); for probe_silent and door_silent the silence in seconds that
-- makes a probe or counter silent; for probe_degraded shares of the probe's usual share
-- of its mall's reports (fires under warning, resolves over clear); for capture_drift
-- the relative change of visitors per door entry (fires beyond warning, resolves within
-- clear); for footfall_band unused. hold_seconds: how long a level must last before it
-- fires. min_size: the smallest difference from the expected that counts (a quiet hour
-- pages nobody); for probe_degraded the fewest usual reports, for capture_drift the
-- fewest door entries, that are judged.
CREATE TABLE IF NOT EXISTS ${schema}.alert_rules (
    mall_id       text NOT NULL REFERENCES ${schema}.malls (mall_id) ON DELETE CASCADE,
    rule          text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    enabled       boolean NOT NULL DEFAULT true,
    warning       double precision,
    critical      double precision,
    clear         double precision,
    hold_seconds  integer NOT NULL DEFAULT 0 CHECK (hold_seconds >= 0),
    min_size      integer NOT NULL DEFAULT 0 CHECK (min_size >= 0),
    PRIMARY KEY (mall_id, rule, subject)
);
-- The rules there are (footfall/alerts.py RULES); replaced whole so that an older
-- database takes the newer rules too.
ALTER TABLE ${schema}.alert_rules DROP CONSTRAINT IF EXISTS alert_rules_rule_check;
ALTER TABLE ${schema}.alert_rules ADD CONSTRAINT alert_rules_rule_check CHECK (rule IN (
    'occupancy', 'footfall_band', 'probe_silent', 'door_silent', 'probe_degraded', 'capture_drift'));

-- Each alert's current state, one row per (rule, mall, subject): its stable id. status
-- ok, pending (a level reached, held for less than hold_seconds) or open.
CREATE TABLE IF NOT EXISTS ${schema}.alerts (
    alert_id      text PRIMARY KEY,           -- rule/mall/subject
    rule          text NOT NULL,
    mall_id       text NOT NULL,
    subject       text NOT NULL,
    status        text NOT NULL CHECK (status IN ('ok', 'pending', 'open')),
    severity      text,
    pending_since timestamptz,
    opened_at     timestamptz,
    resolved_at   timestamptz,
    value         double precision,
    threshold     double precision,
    acked_at      timestamptz,
    acked_by      text,
    evaluated_at  timestamptz
);

-- Where alerts are posted: a URL with its HMAC-SHA256 secret, for some rules (NULL: all)
-- at a severity or above.
CREATE TABLE IF NOT EXISTS ${schema}.webhooks (
    webhook_id    bigserial PRIMARY KEY,
    url           text NOT NULL UNIQUE,
    secret        text NOT NULL,
    rules         text[],
    min_severity  text NOT NULL DEFAULT 'warning' CHECK (min_severity IN ('warning', 'critical'))
);

-- Every alert event (opened, escalated, resolved) for each place it goes: the topic,
-- ClickHouse, Redis and each webhook. Written with the state change in one transaction,
-- keyed by the event, so an evaluation made again (a restart, a replay) adds nothing
-- and nothing is sent twice; delivered_at NULL: still to go (tried `attempts` times).
CREATE TABLE IF NOT EXISTS ${schema}.alert_deliveries (
    event_id      text NOT NULL,
    target        text NOT NULL,              -- kafka, clickhouse, redis, webhook:<id>
    event         jsonb NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    status        text,                       -- the last try: an HTTP status or an error
    next_try      timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    given_up      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (event_id, target)
);
