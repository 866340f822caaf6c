"""One device's data in every store the product writes (docs/privacy.md): what is held
about it (the right of access: `holdings`) and its removal (the right to erasure:
`erase`). Device-level data is every ClickHouse table with a device_id, the device's
favourite and live position in Redis, its staff rows in PostgreSQL and its key on the
favourite-shop feed; aggregates (counts) hold no person and stay."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from footfall import clients
from footfall.outputs import FAVORITE, OUTPUTS, POSITIONS, POSITIONS_SEEN, TODAY, ZONES
from footfall.schema import STAFF_TABLES, postgres_schema
from footfall.settings import Settings

#: ClickHouse tables that hold rows about one device.
DEVICE_TABLES = tuple(o.name for o in OUTPUTS.values() if o.table and "device_id" in o.columns)
#: A device's live position leaves the mall's hash, its expiry set and its zone's count,
#: and the occupancy follows, in one step (the same bookkeeping as the job's writes).
_FORGET_POSITION = (Path(__file__).with_name("forget_position.lua")).read_text()
#: How long an erasure waits for ClickHouse to finish rewriting the parts it touched.
MUTATION_TIMEOUT_S = 120.0


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def holdings(settings: Settings, device_id: str) -> dict[str, list[dict[str, Any]]]:
    """Everything held about the device, by table or key: rows as JSON-ready dicts."""
    held: dict[str, list[dict[str, Any]]] = {}
    ch = clients.clickhouse(settings.clickhouse)
    for table in DEVICE_TABLES:
        columns = OUTPUTS[table].columns
        rows = ch.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE device_id = %(d)s", {"d": device_id})
        held[f"clickhouse.{table}"] = [dict(zip(columns, map(_plain, row), strict=True)) for row in rows]
    ch.disconnect()
    redis = clients.redis_client(settings.redis)
    for key in sorted(redis.scan_iter(match=FAVORITE.format(mall_id="*", device_id=device_id), count=1000)):
        held[f"redis.{key}"] = [redis.hgetall(key)]
    for key in sorted(redis.scan_iter(match=POSITIONS.format(mall_id="*"), count=1000)):
        entry = redis.hget(key, device_id)
        if entry is not None:
            held[f"redis.{key}"] = [{"device_id": device_id, "position": entry}]
    redis.close()
    schema = postgres_schema(settings.postgres)
    with clients.postgres(settings.postgres) as conn:
        for table in STAFF_TABLES:
            cursor = conn.execute(f"SELECT * FROM {schema}.{table} WHERE device_id = %s", (device_id,))
            names = [c.name for c in cursor.description or ()]
            held[f"postgres.{table}"] = [dict(zip(names, map(_plain, row), strict=True)) for row in cursor]
    return {where: rows for where, rows in held.items() if rows}


def erase(settings: Settings, device_id: str) -> dict[str, int]:
    """Remove every device-level row and key of the device; returns what went, by table or
    key. ClickHouse deletes by mutation and is waited for, so a read right after finds nothing."""
    removed: dict[str, int] = {}
    ch = clients.clickhouse(settings.clickhouse)
    for table in DEVICE_TABLES:
        count = ch.execute(f"SELECT count() FROM {table} WHERE device_id = %(d)s", {"d": device_id})[0][0]
        if count:
            ch.execute(f"ALTER TABLE {table} DELETE WHERE device_id = %(d)s", {"d": device_id})
            removed[f"clickhouse.{table}"] = int(count)
    await_mutations(ch, settings.clickhouse.database, [t.split(".", 1)[1] for t in removed])
    ch.disconnect()
    redis = clients.redis_client(settings.redis)
    for key in list(redis.scan_iter(match=FAVORITE.format(mall_id="*", device_id=device_id), count=1000)):
        removed[f"redis.{key}"] = int(redis.delete(key))
    forget = redis.register_script(_FORGET_POSITION)
    for key in list(redis.scan_iter(match=POSITIONS.format(mall_id="*"), count=1000)):
        mall_id = key.split(":")[1]
        keys = [key, POSITIONS_SEEN.format(mall_id=mall_id), ZONES.format(mall_id=mall_id),
                TODAY.format(mall_id=mall_id)]
        if forget(keys=keys, args=[device_id]):
            removed[f"redis.{key}"] = 1
    redis.close()
    schema = postgres_schema(settings.postgres)
    with clients.postgres(settings.postgres) as conn:
        for table in STAFF_TABLES:
            count = conn.execute(f"DELETE FROM {schema}.{table} WHERE device_id = %s", (device_id,)).rowcount
            if count:
                removed[f"postgres.{table}"] = count
    # The feed is read as the latest message per device: a tombstone is its erasure (and
    # lets a compacted topic drop the older messages).
    producer = clients.kafka_producer(settings.kafka)
    producer.send(settings.kafka.favorite_shops_topic, key=device_id.encode(), value=None).get(30)
    producer.close()
    removed[f"kafka.{settings.kafka.favorite_shops_topic}"] = 1
    return removed


def await_mutations(ch: Any, database: str, tables: list[str]) -> None:
    """Until ClickHouse has finished every mutation of these tables (a read then sees its effect)."""
    deadline = time.monotonic() + MUTATION_TIMEOUT_S
    while tables:
        pending = ch.execute(
            "SELECT count() FROM system.mutations WHERE database = %(db)s AND table IN %(t)s AND is_done = 0",
            {"db": database, "t": tuple(tables)},
        )[0][0]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"ClickHouse has not finished deleting from {', '.join(tables)} "
                               f"in {MUTATION_TIMEOUT_S:.0f} s: see system.mutations")
        time.sleep(0.2)
