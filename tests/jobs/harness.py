"""Running the metrics SQL on bounded rows, and reading results into the reference's shape."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from footfall.geometry import Point
from footfall.outputs import COLUMNS, DATES, EPOCH_SECONDS, OUTPUTS
from jobs.metrics.sinks import output_of
from tests.jobs.reference import DEFAULTS, LOYALTY, DoorEvent, ProbeEvent, SaleEvent, Thresholds, local

PROBE_EVENTS = """
CREATE TEMPORARY TABLE probe_events (
    event_id STRING, ap_mac STRING, x DOUBLE, y DOUBLE, mall_id STRING, shop_code STRING, shop_name STRING,
    tz STRING, rssi INT, occur_ms BIGINT, `day` DATE, `hour` INT, device_id STRING, randomized BOOLEAN,
    on_time BOOLEAN, staff BOOLEAN,
    event_time AS TO_TIMESTAMP_LTZ(occur_ms, 3), visit_time AS TO_TIMESTAMP_LTZ(occur_ms, 3),
    proc_time AS PROCTIME(),
    WATERMARK FOR visit_time AS visit_time - INTERVAL '{days}' DAY
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
DOOR_EVENTS = """
CREATE TEMPORARY TABLE door_events (
    mall_id STRING, tz STRING, in_count INT, occur_ms BIGINT, sensor_id STRING,
    event_time AS TO_TIMESTAMP_LTZ(occur_ms, 3),
    WATERMARK FOR event_time AS event_time - INTERVAL '{days}' DAY
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
POS_EVENTS = """
CREATE TEMPORARY TABLE pos_events (
    transaction_id STRING, mall_id STRING, shop_code STRING, shop_name STRING, tz STRING, occur_ms BIGINT,
    amount_minor BIGINT, currency STRING, items INT, `day` DATE, `hour` INT, proc_time AS PROCTIME()
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
POSITION_REPORTS = """
CREATE TEMPORARY TABLE position_reports (
    mall_id STRING, device_id STRING, ap_mac STRING, x DOUBLE, y DOUBLE, rssi INT, occur_ms BIGINT,
    event_time AS TO_TIMESTAMP_LTZ(occur_ms, 3),
    WATERMARK FOR event_time AS event_time - {delay}
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
REJECTS = """
CREATE TEMPORARY TABLE rejects (
    source_topic STRING, kafka_partition INT, kafka_offset BIGINT, body STRING, macs_replaced INT, reason STRING,
    proc_time AS PROCTIME()
) WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
VISITOR_HISTORY = """
CREATE TEMPORARY TABLE visitor_history (mall_id STRING, device_id STRING, `day` DATE)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""
OPTED_OUT = """
CREATE TEMPORARY TABLE opted_out_reports (source_topic STRING)
WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')
"""


def write_jsonl(path: Path, rows: Iterable[object], probe_xy: Mapping[str, Point] | None = None) -> Path:
    path.write_text("".join(json.dumps(_json_row(r, probe_xy or {})) + "\n" for r in rows))
    return path


def _json_row(row: object, probe_xy: Mapping[str, Point]) -> dict:
    fields = dataclasses.asdict(row)  # type: ignore[call-overload]
    if isinstance(row, ProbeEvent):
        fields.pop("fronts")  # the layout's, asked by ap_mac: register_fronts
        # The local day and hour, as the ingestion gives them (local_clock), and the
        # probe's place, as the ingestion joins it from the layout.
        fields["day"], fields["hour"] = local(row.occur_ms, row.tz)
        fields["x"], fields["y"] = probe_xy.get(row.ap_mac or "", (None, None))
    if isinstance(row, SaleEvent):
        fields["day"], fields["hour"] = local(row.occur_ms, row.tz)
    return fields


def register_fronts(table_env, probes: list[ProbeEvent]) -> None:  # type: ignore[no-untyped-def]
    """probe_fronts (udfs/java ProbeFronts.java reads the layout from PostgreSQL) answered
    from the events' own `fronts`, by ap_mac."""
    from pyflink.table import DataTypes
    from pyflink.table.udf import udtf

    fronts: dict[str, tuple[tuple[str, str], ...]] = {}
    for e in probes:
        if e.fronts:
            assert e.ap_mac is not None, f"{e.event_id}: a probe facing shop fronts needs its ap_mac"
            fronts[e.ap_mac] = e.fronts

    @udtf(result_types=[DataTypes.STRING(), DataTypes.STRING()])
    def probe_fronts(ap_mac: str | None) -> Iterator[tuple[str, str]]:
        yield from fronts.get(ap_mac or "", ())

    table_env.execute_sql("DROP TEMPORARY FUNCTION IF EXISTS probe_fronts")
    table_env.create_temporary_function("probe_fronts", probe_fronts)


def position_reports(probes: list[ProbeEvent], probe_xy: dict[str, tuple[float, float]],
                     thresholds: Thresholds = DEFAULTS) -> list[dict]:
    """The rows 03_events.sql makes position_reports of."""
    return [
        {"mall_id": e.mall_id, "device_id": e.device_id, "ap_mac": e.ap_mac, "x": probe_xy[e.ap_mac][0],
         "y": probe_xy[e.ap_mac][1], "rssi": e.rssi, "occur_ms": e.occur_ms}
        for e in probes if not e.randomized and not e.staff and e.rssi >= thresholds.mall_min_rssi
    ]


def clear(table_env) -> None:  # type: ignore[no-untyped-def]
    """Drop every temporary table and view: a module's environment serves many plans."""
    for view in table_env.list_temporary_views():
        table_env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS `{view}`")
    for table in table_env.list_temporary_tables():
        table_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS `{table}`")


def run_metrics(table_env, folder: Path, probes: list[ProbeEvent], doors: list[DoorEvent],  # type: ignore[no-untyped-def]
                thresholds: Thresholds = DEFAULTS, reports: list[dict] = (),  # type: ignore[assignment]
                probe_xy: Mapping[str, Point] | None = None, disorder_days: int = 1,
                rejects: Sequence[dict] = (), sales: Sequence[SaleEvent] = (),
                history: Sequence[dict] = ()) -> dict[str, dict]:
    """The job's metric and position SQL over bounded rows, the probes at `probe_xy`
    (ap_mac -> x, y; the Java layout's places for them); outputs in the reference's shape,
    positions as {(mall_id, ts, device_id): (x, y, zone)}. The input tables' watermarks
    trail by `disorder_days` (positions by two seconds unless more than one day): rows
    later than that would miss the windows. `history`: visitor_history's rows."""
    from jobs import sql
    from jobs.metrics.job import position_values
    from jobs.metrics.payloads import payload_values
    from jobs.metrics.plan import FOLDER

    clear(table_env)
    (folder / "reports.json").write_text("".join(json.dumps(r) + "\n" for r in reports))
    position_delay = "INTERVAL '2' SECOND" if disorder_days <= 1 else f"INTERVAL '{disorder_days}' DAY"
    table_env.execute_sql(POSITION_REPORTS.format(path=folder / "reports.json", delay=position_delay))
    table_env.execute_sql(PROBE_EVENTS.format(path=write_jsonl(folder / "probes.json", probes, probe_xy),
                                              days=disorder_days))
    register_fronts(table_env, probes)
    table_env.execute_sql(DOOR_EVENTS.format(path=write_jsonl(folder / "doors.json", doors), days=disorder_days))
    table_env.execute_sql(POS_EVENTS.format(path=write_jsonl(folder / "sales.json", sales)))
    (folder / "rejects.json").write_text("".join(json.dumps(r) + "\n" for r in rejects))
    table_env.execute_sql(REJECTS.format(path=folder / "rejects.json"))
    (folder / "opted_out.json").write_text("")
    (folder / "history.json").write_text("".join(json.dumps(h) + "\n" for h in history))
    table_env.execute_sql(VISITOR_HISTORY.format(path=folder / "history.json"))
    table_env.execute_sql(OPTED_OUT.format(path=folder / "opted_out.json"))
    values = {
        "mall_min_rssi": thresholds.mall_min_rssi,
        "shop_min_rssi": thresholds.shop_min_rssi,
        "visit_gap": sql.day_to_second(thresholds.visit_gap_ms // 1000),
        "visit_gap_ms": thresholds.visit_gap_ms,
        "mall_min_dwell_ms": thresholds.mall_min_dwell_ms,
        "shop_min_dwell_ms": thresholds.shop_min_dwell_ms,
        "staff_min_heard_ms": thresholds.staff_min_heard_ms,
        "staff_min_days": thresholds.staff_min_days,
        "staff_window": sql.day_to_second(thresholds.staff_window_days * 86400),
        "history_ttl": "180d",
        "day_state_ttl": "36 hours",
        "wifi_probes_topic": "wifi-probes",
        "door_sensors_topic": "door-sensors",
        "pos_transactions_topic": "pos-transactions",
        **position_values(),
        **payload_values(),
    }
    # Every file that is a function of the tables above: from the metrics to the outputs.
    files = [path.name for path in sql.numbered_files(FOLDER) if "04" <= path.name[:2] <= "11"]
    for statement in sql.load(FOLDER, values, files):
        table_env.execute_sql(statement)
    with table_env.from_path("outputs").execute().collect() as rows:
        return from_changelog((row.get_row_kind().name, output_of(row[0]), json.loads(row[2])) for row in rows)


#: How many cases of a module share one plan at most: the Java layout knows every test
#: mall and its probes under this many aliases as well (tests/jobs/conftest.py).
ALIASES = 24


def alias(name: str, n: int) -> str:
    """Case `n`'s own name for a mall, probe or event of the tests."""
    return f"{name}~{n}"


@dataclass(frozen=True)
class Case:
    """The bounded rows of one test: probe events, door events and position reports."""

    probes: Sequence[ProbeEvent] = ()
    doors: Sequence[DoorEvent] = ()
    reports: Sequence[dict] = ()
    #: Messages turned away (the `rejects` view's rows: source_topic, body, reason...).
    rejects: Sequence[dict] = ()
    #: Valid till transactions, duplicates included.
    sales: Sequence[SaleEvent] = ()
    #: visitor_history's rows (mall_id, device_id, day): earlier visitor days, as a
    #: restatement is given them.
    history: Sequence[dict] = ()


def run_cases(table_env, folder: Path, cases: Mapping[str, Case],  # type: ignore[no-untyped-def]
              thresholds: Thresholds = DEFAULTS, probe_xy: Mapping[str, Point] | None = None) -> dict[str, dict]:
    """Every case through one plan of the metric and position SQL (run_metrics): a plan a
    module, not a test. Each case runs under names of its own (its malls, probes and event
    ids as `alias`es), so that no case meets another's rows: every metric is of one mall.
    The watermarks trail by 99 days (the most an interval literal takes), more than the
    cases' days span, so a case's rows are never late behind another's.
    Returns each case's outputs, under the case's own names."""
    probes: list[ProbeEvent] = []
    doors: list[DoorEvent] = []
    reports: list[dict] = []
    rejects: list[dict] = []
    sales: list[SaleEvent] = []
    history: list[dict] = []
    xy: dict[str, Point] = {}
    names: list[dict[str, str]] = []
    assert len(cases) <= ALIASES, f"more cases than the Java layout's {ALIASES} aliases"
    for n, case in enumerate(cases.values()):
        own: dict[str, str] = {}

        def rename(name: str, n: int = n, own: dict[str, str] = own) -> str:
            own[alias(name, n)] = name
            return alias(name, n)

        probes += [dataclasses.replace(e, mall_id=rename(e.mall_id), event_id=alias(e.event_id, n),
                                       ap_mac=rename(e.ap_mac) if e.ap_mac else None) for e in case.probes]
        doors += [dataclasses.replace(d, mall_id=rename(d.mall_id)) for d in case.doors]
        sales += [dataclasses.replace(e, mall_id=rename(e.mall_id)) for e in case.sales]
        history += [{**h, "mall_id": rename(h["mall_id"])} for h in case.history]
        reports += [{**r, "mall_id": rename(r["mall_id"]), "ap_mac": rename(r["ap_mac"])} for r in case.reports]
        # An unknown probe's output is keyed by its ap_mac alone: the case's own name for it.
        rejects += [{**r, "body": _renamed_ap(r["body"], rename)} for r in case.rejects]
        xy.update({alias(ap, n): place for ap, place in (probe_xy or {}).items()})
        names.append(own)
    got = run_metrics(table_env, folder, probes, doors, thresholds, reports, xy, disorder_days=99, rejects=rejects,
                      sales=sales, history=history)
    return {name: renamed({output: {k: v for k, v in rows.items() if k[0] in own} for output, rows in got.items()},
                          own) for name, own in zip(cases, names)}


def _renamed_ap(body: str, rename: Callable[[str], str]) -> str:
    """A rejected message's text with its ap_mac (normalised as the job does) renamed."""
    try:
        message = json.loads(body)
    except ValueError:
        return body
    if not isinstance(message, dict) or not isinstance(message.get("ap_mac"), str):
        return body
    written = message["ap_mac"]
    alias = rename(written.lower().replace("-", ":"))
    # Written as it came (in capitals, with '-'), so the job's normalising is tested too.
    return json.dumps({**message, "ap_mac": alias if written == written.lower() else alias.upper().replace(":", "-")})


def renamed(value, names: Mapping[str, str]):  # type: ignore[no-untyped-def]
    """`value` (outputs, keys, positions) with every string that is a key of `names` replaced."""
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, tuple):
        return tuple(renamed(v, names) for v in value)
    if isinstance(value, list):
        return [renamed(v, names) for v in value]
    if isinstance(value, set):
        return {renamed(v, names) for v in value}
    if isinstance(value, dict):
        return {renamed(k, names): renamed(v, names) for k, v in value.items()}
    return value


def from_changelog(changes: Iterable[tuple[str, str, dict]]) -> dict[str, dict]:
    """Apply (kind, output, payload) changes as the sinks do: the last state of each key."""
    state: dict[str, dict] = {name: {} for name in COLUMNS}
    state["positions"], state["probe_heard"], state["door_heard"], state["unknown_probes"] = {}, {}, {}, {}
    state["sales_daily"] = {}
    for kind, output, payload in changes:
        if output == "sales_daily" and kind != "UPDATE_BEFORE":  # Redis only: the live day
            key = tuple(payload[c] for c in OUTPUTS[output].key)
            state[output][key] = tuple(payload[c] for c in OUTPUTS[output].payload if c not in OUTPUTS[output].key)
            continue
        if output == "unknown_probes" and kind != "UPDATE_BEFORE":  # Redis only
            state[output][(payload["ap_mac"],)] = (payload["heard_at"], payload["reports"])
            continue
        if output in ("probe_heard", "door_heard") and kind != "UPDATE_BEFORE":  # Redis only: newest report
            subject = payload["ap_mac"] if output == "probe_heard" else payload["sensor_id"]
            state[output][(payload["mall_id"], subject)] = payload["heard_at"]
            continue
        if output == "positions":
            state[output][(payload["mall_id"], payload["ts"], payload["device_id"])] = (
                payload["x"], payload["y"], payload["zone"])
            continue
        if output not in COLUMNS or kind == "UPDATE_BEFORE":
            continue
        key, values = split_row(output, payload)
        if kind == "DELETE":
            state[output].pop(key, None)
        else:
            state[output][key] = values
    return state


def split_row(output: str, row: dict) -> tuple[tuple, tuple]:
    key_columns = OUTPUTS[output].key
    key = tuple(str(row[c]) if c in DATES else row[c] for c in key_columns)
    values = tuple(str(row[c]) if c in DATES else row[c] for c in COLUMNS[output] if c not in key_columns)
    return key, values


def from_clickhouse(client, mall_ids: set[str]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """Every output table's rows of `mall_ids`, read with FINAL, in the reference's shape."""
    state: dict[str, dict] = {}
    for table, columns in COLUMNS.items():
        # DateTime columns as the epoch seconds the job writes.
        selected = [f"toUnixTimestamp({c})" if c in EPOCH_SECONDS else c for c in columns]
        rows = client.execute(f"SELECT {', '.join(selected)} FROM {table} FINAL WHERE mall_id IN %(malls)s",
                              {"malls": tuple(mall_ids)})
        state[table] = dict(split_row(table, dict(zip(columns, row))) for row in rows)
    return state


#: ClickHouse's views over `visits` (clickhouse.sql): key columns, then value columns.
VISIT_VIEWS = {
    "dwell_daily": (("mall_id", "day", "shop_code"), ("visits", "median_dwell_seconds")),
    "shop_journeys_daily": (("mall_id", "day", "from_shop", "to_shop"), ("transitions",)),
    "shoppers_daily": (("mall_id", "day"), ("shoppers", "multi_shop_visitors")),
    "loyalty_daily": (("mall_id", "day"), ("visitors", *LOYALTY)),
}


def visit_views_from_clickhouse(client, mall_ids: set[str]) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """The views over `visits` for `mall_ids`, in the reference's shape (visit_views)."""
    found: dict[str, dict] = {}
    for view, (key, values) in VISIT_VIEWS.items():
        rows = client.execute(f"SELECT {', '.join(key + values)} FROM {view} WHERE mall_id IN %(malls)s",
                              {"malls": tuple(mall_ids)})
        found[view] = {
            tuple(str(v) if c == "day" else v for c, v in zip(key, row)): row[len(key)] if len(values) == 1
            else tuple(row[len(key):])
            for row in rows
        }
    return found
