import re

import pytest

from footfall.outputs import OUTPUTS
from footfall.schema import identifier
from ops.bootstrap import output_table, render

# docs/design.md §5: table -> key columns + value columns (written out, not imported from
# footfall/outputs.py: the schema must match the contract, not itself).
ENGAGEMENT = ["visits", "bounced", "visits_5_20m", "visits_20_60m", "visits_1_6h", "visits_6h_plus"]
CONTRACT = {
    "mall_daily": [
        "mall_id",
        "day",
        "visitors",
        "new_visitors",
        "returning_visitors",
        "randomized_devices",
        "door_entries",
        "devices_seen",
        "passers_by",
        "staff_devices",
    ],
    "shop_daily": ["mall_id", "day", "shop_code", "shop_name", "visitors", "devices_seen", "walk_bys"],
    "shop_hourly": ["mall_id", "day", "hour", "shop_code", "shop_name", "visitors", "walk_bys"],
    "top_shops_daily": ["mall_id", "day", "rank", "shop_code", "shop_name", "visitors"],
    "mall_hourly": ["mall_id", "day", "hour", "visitors", "door_entries", "devices_seen", "passers_by",
                    "staff_devices"],
    "peak_hour_daily": ["mall_id", "day", "hour", "visitors"],
    "favorite_shop_daily": ["mall_id", "day", "device_id", "shop_code", "shop_name", "visits", "dwell_seconds"],
    "repeat_shops_daily": ["mall_id", "day", "device_id", "shop_code", "shop_name", "visits"],
    "mall_engagement_daily": ["mall_id", "day", *ENGAGEMENT],
    "shop_engagement_daily": ["mall_id", "day", "shop_code", "shop_name", *ENGAGEMENT],
    "visits": ["mall_id", "day", "shop_code", "device_id", "started_at", "shop_name", "dwell_seconds"],
    "staff_detected": ["mall_id", "device_id", "qualified_day", "since_day"],
    "positions": ["mall_id", "ts", "device_id", "x", "y", "zone"],
    "probe_hourly": ["mall_id", "day", "hour", "ap_mac", "reports"],
    "sales_hourly": ["mall_id", "day", "hour", "shop_code", "shop_name", "currency", "transactions", "items",
                     "refunds", "refunded_minor", "sales_minor"],
}
KEYS = {
    "mall_daily": "mall_id, day",
    "shop_daily": "mall_id, day, shop_code",
    "shop_hourly": "mall_id, day, hour, shop_code",
    "top_shops_daily": "mall_id, day, rank",
    "mall_hourly": "mall_id, day, hour",
    "peak_hour_daily": "mall_id, day",
    "favorite_shop_daily": "mall_id, day, device_id",
    "repeat_shops_daily": "mall_id, day, device_id, shop_code",
    "mall_engagement_daily": "mall_id, day",
    "shop_engagement_daily": "mall_id, day, shop_code",
    "visits": "mall_id, day, shop_code, device_id, started_at",
    "staff_detected": "mall_id, device_id",
    "probe_hourly": "mall_id, day, hour, ap_mac",
    "sales_hourly": "mall_id, day, hour, shop_code",
}


def _tables() -> dict[str, str]:
    """The outputs' CREATE TABLEs as bootstrap makes them, by table."""
    return {o.name: output_table("footfall", o) for o in OUTPUTS.values() if o.table}


def test_clickhouse_schema_has_every_contract_table_with_its_columns() -> None:
    tables = _tables()
    assert set(tables) == set(CONTRACT)
    for name, columns in CONTRACT.items():
        declared = re.findall(r"^\s+(\w+) \w+", tables[name], flags=re.MULTILINE)
        assert [c for c in declared if c != "version"] == columns, name


def test_metric_tables_replace_by_version_on_their_contract_key() -> None:
    tables = _tables()
    for name, key in KEYS.items():
        assert "ENGINE = ReplacingMergeTree(version)" in tables[name]
        assert f"ORDER BY ({key})" in tables[name]
        assert re.search(r"^\s+version UInt64", tables[name], flags=re.MULTILINE)
    assert "ENGINE = MergeTree()" in tables["positions"]


def test_clickhouse_schema_avoids_what_18_16_lacks() -> None:
    text = " ".join([*render("clickhouse.sql", database="footfall", mall_min_dwell_seconds="300"),
                     *_tables().values()])
    for unsupported in ("DateTime64", " TTL ", "OVER ("):
        assert unsupported not in text


def test_postgres_schema_renders_into_the_configured_schema() -> None:
    statements = render("postgres.sql", schema="mall_dims")
    assert statements[0] == "CREATE SCHEMA IF NOT EXISTS mall_dims"
    assert [re.search(r"mall_dims\.(\w+)", s).group(1) for s in statements[1:]] == [
        "malls",
        "shops",
        "probes",
        "shop_fronts",
        "entrances",
        "staff_detected",
        "staff_overrides",
        "privacy_opt_outs",
        "privacy_consents",
        "privacy_requests",
        "malls",  # their capacities, added to tables made before
        "malls",  # their currency, likewise
        "shops",
        "alert_rules",
        "alert_rules",  # its rules' check, made anew so an older table takes new rules
        "alert_rules",
        "alerts",
        "webhooks",
        "alert_deliveries",
    ]


@pytest.mark.parametrize("bad", ["", "foot-fall", "x; DROP TABLE y", "1abc", 'a"b'])
def test_identifiers_are_checked_before_they_reach_ddl(bad: str) -> None:
    with pytest.raises(ValueError, match="FOOTFALL_X"):
        identifier(bad, "FOOTFALL_X")
