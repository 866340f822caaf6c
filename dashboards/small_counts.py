"""Small counts (FOOTFALL_MIN_GROUP_SIZE, docs/privacy.md): a figure about fewer people
than the minimum can single a person out, so where data leaves the product it is shown as
"< N", never the number, and a journey step walked by fewer shoppers is not shown. None
is zero: nobody is no one to single out. The minimum 0 turns it off."""

from __future__ import annotations

import pandas as pd


def suppressed(frame: pd.DataFrame, columns: list[str], minimum: int) -> pd.DataFrame:
    """`frame` with every count in `columns` from 1 to minimum - 1 shown as "< minimum"."""
    if minimum <= 1:
        return frame
    shown = frame.copy()
    for column in columns:
        values = pd.to_numeric(shown[column])
        small = (values > 0) & (values < minimum)
        shown[column] = shown[column].astype(object).where(~small, f"< {minimum}")
    return shown


def export_csv(frame: pd.DataFrame, counts: list[str], minimum: int) -> bytes:
    """The CSV a page offers for download, its small counts suppressed."""
    text: str = suppressed(frame, counts, minimum).to_csv(index=False)
    return text.encode()


def shown_steps(steps: pd.DataFrame, minimum: int) -> pd.DataFrame:
    """The journey steps walked by at least `minimum` shoppers (every step when off)."""
    return steps if minimum <= 1 else steps[steps["transitions"] >= minimum].reset_index(drop=True)
