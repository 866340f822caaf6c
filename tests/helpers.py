"""Small helpers shared by tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def footfall(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the project's command as a user would, with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "footfall", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def own_mall(index: int, tag: str = ""):  # type: ignore[no-untyped-def]
    """A built-in mall under an id of its own (and probe MACs of its own, from `index`);
    `tag` makes the id unique to one run, so no earlier run's rows or keys share it."""
    import dataclasses

    from simulators.layout import default_mall

    mall = dataclasses.replace(default_mall(index), mall_id=f"mall-test-{index}{tag}")
    entrances = tuple(
        dataclasses.replace(e, sensor_id=f"{mall.mall_id}-{e.name.split()[0].lower()}") for e in mall.entrances
    )
    return dataclasses.replace(mall, entrances=entrances)


def remove_malls(postgres_settings, mall_ids) -> None:  # type: ignore[no-untyped-def]
    from footfall import clients

    with clients.postgres(postgres_settings) as conn:
        for table in ("probes", "entrances", "shops", "malls"):
            conn.execute(f"DELETE FROM footfall.{table} WHERE mall_id = ANY(%s)", (list(mall_ids),))
