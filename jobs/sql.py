"""Rendering of a job's SQL files: values from settings become quoted SQL literals.

Placeholders are `${name}`. Files are split into statements before values go in, so a
value (a password, say) can never split or change a statement; the rendered text is
handed to Flink and never logged. Only a Fragment, SQL made by the job's own code, goes
in as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


class Fragment(str):
    """SQL text the job's own code makes (never a setting's value), put in as it is: an
    output's payload expression, say."""


def literal(value: object) -> str:
    """`value` as a SQL literal: a Fragment as it is, numbers as they are, a tuple of
    numbers as an ARRAY of DOUBLE (one value for a function's tuning), everything else a
    quoted string."""
    if isinstance(value, Fragment):
        return str(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return "ARRAY[" + ", ".join(f"CAST({float(v)!r} AS DOUBLE)" for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def day_to_second(seconds: int) -> str:
    """The text of an INTERVAL ... DAY TO SECOND literal, e.g. '0 00:02:00' for 120."""
    days, rest = divmod(int(seconds), 86400)
    return f"{days} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def split(text: str) -> list[str]:
    """The statements of a SQL file; whole-line comments are dropped first."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]


def render(statement: str, values: Mapping[str, object]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"SQL placeholder ${{{name}}} has no value")
        return literal(values[name])

    return _PLACEHOLDER.sub(substitute, statement)


def numbered_files(folder: Path) -> list[Path]:
    """A job folder's numbered .sql files, in the order they run."""
    return sorted(folder.glob("[0-9][0-9]_*.sql"))


def load(folder: Path, values: Mapping[str, object], files: list[str] | None = None) -> list[str]:
    """The rendered statements of a job folder's numbered .sql files, in order."""
    paths = numbered_files(folder)
    if files is not None:
        paths = [path for path in paths if path.name in files]
    return [render(statement, values) for path in paths for statement in split(path.read_text())]
