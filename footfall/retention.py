"""How long the product keeps device-level data, per class (docs/privacy.md), and its
enforcement: the job's supervisor runs `enforce` every FOOTFALL_RETENTION_EVERY_HOURS,
`footfall privacy enforce` on demand. Aggregates (counts per mall, shop, day and hour)
hold no person and are kept.

ClickHouse 18.16 has no table TTL: the position history, partitioned by day, loses whole
days (DROP PARTITION, cheap); the other device tables lose their old rows by a mutation
(ALTER TABLE … DELETE), waited for. The topics (the inputs hold raw MACs by nature, the
dead letters device ids) are kept for retention.ms, set by the bootstrap where the broker
honours it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from footfall import clients
from footfall.erasure import await_mutations
from footfall.settings import Settings


@dataclass(frozen=True)
class RetentionClass:
    name: str
    #: The PrivacySettings field that says how many days the class is kept.
    setting: str
    #: ClickHouse tables of the class, with the column that dates a row.
    tables: tuple[tuple[str, str], ...]

    def days(self, settings: Settings) -> int:
        return int(getattr(settings.privacy, self.setting))


#: Device-level history: what new/returning and loyalty look back over, so kept for as long
#: as they need (180 days by default). Staff rows are not in it: they keep staff phones and
#: fixed equipment out of the counts for as long as those are heard (erased on request).
DEVICE = RetentionClass("device history", "retention_device_days",
                        (("visits", "day"), ("favorite_shop_daily", "day"), ("repeat_shops_daily", "day")))
POSITIONS = RetentionClass("positions", "retention_positions_days", (("positions", "toDate(ts)"),))
CLASSES = (DEVICE, POSITIONS)


def cutoff(settings: Settings, retention: RetentionClass, today: date) -> date:
    """The first day kept: rows of earlier days go."""
    return today - timedelta(days=retention.days(settings))


def enforce(settings: Settings, today: date | None = None) -> dict[str, int]:
    """Remove what is older than its class allows; returns the rows removed per table."""
    today = today or date.today()
    ch = clients.clickhouse(settings.clickhouse)
    removed: dict[str, int] = {}
    try:
        for retention in CLASSES:
            first_kept = cutoff(settings, retention, today)
            for table, dated in retention.tables:
                count = int(ch.execute(f"SELECT count() FROM {table} WHERE {dated} < %(c)s", {"c": first_kept})[0][0])
                if not count:
                    continue
                if table == "positions":
                    # Partitioned by toYYYYMMDD(ts): a partition is a day, named by its number.
                    partitions = ch.execute(
                        "SELECT DISTINCT partition FROM system.parts WHERE database = %(db)s AND table = 'positions' "
                        "AND active", {"db": settings.clickhouse.database})
                    for (partition,) in partitions:
                        if int(partition) < int(first_kept.strftime("%Y%m%d")):
                            ch.execute(f"ALTER TABLE positions DROP PARTITION {int(partition)}")
                else:
                    ch.execute(f"ALTER TABLE {table} DELETE WHERE {dated} < %(c)s", {"c": first_kept})
                removed[table] = count
        await_mutations(ch, settings.clickhouse.database, list(removed))
    finally:
        ch.disconnect()
    return removed


def oldest_days(settings: Settings) -> list[tuple[str, int, date | None]]:
    """Per class: its name, the days it keeps, and the oldest day it holds now (None: nothing)."""
    ch = clients.clickhouse(settings.clickhouse)
    try:
        rows = []
        for retention in CLASSES:
            oldest = []
            for table, dated in retention.tables:
                count, first = ch.execute(f"SELECT count(), min({dated}) FROM {table}")[0]
                if count:
                    oldest.append(first)
            rows.append((retention.name, retention.days(settings), min(oldest) if oldest else None))
        return rows
    finally:
        ch.disconnect()
