"""How the pages say numbers: a count with its noun, a change against last week, and
what that change compares, in one wording on every page."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with its noun, singular for one: "1 device", "1,204 devices"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def change(fraction: float | None) -> str | None:
    """A change against last week as a tile's delta ("+25% on last week"), or None without one."""
    return None if fraction is None or pd.isna(fraction) else f"{fraction:+.0%} on last week"


def compared(week_before: date, hours: int) -> str:
    """What a change compares (data.versus_last_week), for a tile's help or a caption."""
    if hours >= 24:
        return f"the day's hourly counts against those of {week_before:%A %d %B}"
    if hours == 0:
        return f"nothing yet: no hour of the day has closed to set against {week_before:%A %d %B}"
    return (f"the day so far, its hourly counts from 00:00 to {hours:02d}:00, against the same hours of "
            f"{week_before:%A %d %B}")


def day_state(state: str, at: datetime | None, close_hours: float) -> str:
    """Whether a day's numbers are final (footfall/restatement.py), for under the day picker."""
    when = f" {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
    if state == "final":
        return f"Final: restated{when} with every report in and the layout as it then was."
    if state == "restating":
        return f"Provisional: being restated since{when}."
    failed = f" The restatement of{when} did not finish; `footfall restate` runs it again." if state == "failed" else ""
    return (f"Provisional: live numbers, which reports uploaded late do not reach in full. The day is restated "
            f"{close_hours:g} h after its midnight.{failed}")
