"""A whole second stack, on other ports and in its own folder, through its life as a new
user meets it: `footfall demo` (first start: history through the real pipeline, then
live on the wall clock) -> the numbers in ClickHouse, Redis and on the portfolio page ->
status -> up again (starts nothing) -> demo again (starts only what is not running) ->
reset (nothing stored is left) -> down (no process left)."""

from __future__ import annotations

import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from dashboards import data
from footfall import clients
from footfall.settings import Settings
from ops.demo import Demo
from ops.processes import running
from simulators.layout import default_layout
from tests.helpers import footfall, second_stack_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MALLS, DAYS = 2, 8


@pytest.fixture
def second_stack(settings: Settings, unique: str, monkeypatch):  # type: ignore[no-untyped-def]
    home = settings.stack.var_dir / "tests" / unique
    env = second_stack_environment(home)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield home, env
    footfall("down", env=env)
    shutil.rmtree(home, ignore_errors=True)


def _pids(home: Path) -> dict[str, int]:
    return {
        name: int((home / name / f"{name}.pid").read_text()) for name in ("kafka", "clickhouse", "redis", "postgres")
    }


def test_demo_history_live_portfolio_then_up_again_demo_again_reset_and_down(second_stack) -> None:
    home, env = second_stack

    demo = footfall(
        "demo", "--malls", str(MALLS), "--days", str(DAYS), "--visitors-per-day", "40", env=env, timeout=900
    )
    assert demo.returncode == 0, demo.stderr
    assert f"demo malls loaded into PostgreSQL: {MALLS} malls" in demo.stdout
    assert "metrics job running" in demo.stdout and "streaming shoppers" in demo.stdout
    assert f"history  day {DAYS + 1} of {DAYS + 1}" in demo.stdout and "the job has reached now" in demo.stdout
    settings = Settings()
    started = _pids(home)
    started["metrics job"] = int((home / "job" / "metrics.pid").read_text())
    started["simulator"] = int((home / "demo" / "simulator.pid").read_text())
    started["dashboard"] = int((home / "dashboard" / "dashboard.pid").read_text())

    check_history_and_live_today(settings)
    Demo(settings).simulator().stop()  # the numbers hold still while the page is compared
    check_portfolio_page(settings)

    status = footfall("status", env=env)
    assert status.returncode == 0, status.stdout
    for name, port_var in (("kafka", "FOOTFALL_KAFKA_PORT"), ("redis", "FOOTFALL_REDIS_PORT")):
        line = next(line for line in status.stdout.splitlines() if line.startswith(name))
        assert "running" in line and env[port_var] in line

    again = footfall("up", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already running") == 5  # four services and the job
    assert {**_pids(home), "metrics job": int((home / "job" / "metrics.pid").read_text())} == {
        k: v for k, v in started.items() if k not in ("simulator", "dashboard")
    }

    # The demo once more: what runs stays, the stopped simulator goes on where it stopped.
    demo_again = footfall("demo", "--no-wait", env=env)
    assert demo_again.returncode == 0, demo_again.stderr
    assert "metrics job already running" in demo_again.stdout.replace("  ", " ")
    assert "dashboard   already running" in demo_again.stdout and "resuming from" in demo_again.stdout
    started["simulator"] = int((home / "demo" / "simulator.pid").read_text())

    refused = footfall("reset", env=env)  # not a terminal: no silent yes
    assert refused.returncode == 1 and "confirm with --yes" in refused.stderr
    reset = footfall("reset", "--yes", env=env)
    assert reset.returncode == 0, reset.stderr
    assert not running(started.pop("simulator")) and not running(started.pop("metrics job"))
    check_nothing_stored(settings)

    down = footfall("down", env=env)
    assert down.returncode == 0
    for name, pid in started.items():
        assert not running(pid), f"{name} (pid {pid}) still runs"
    assert footfall("status", env=env).returncode == 1  # everything reported stopped


def check_history_and_live_today(settings: Settings) -> None:
    clickhouse, redis = clients.clickhouse(settings.clickhouse), clients.redis_client(settings.redis)
    for mall in default_layout(MALLS).malls:
        days = clickhouse.execute(
            "SELECT day, visitors, returning_visitors FROM mall_daily FINAL WHERE mall_id = %(m)s ORDER BY day",
            {"m": mall.mall_id},
        )
        today = datetime.now(mall.zone).date()
        assert len(days) >= DAYS + 1 and days[-1][0] == today, days
        # Day one has only new visitors; from then on some come back.
        assert days[0][2] == 0 and sum(1 for _, visitors, back in days[1:-1] if back > 0) >= DAYS - 2, days
        yesterday = data.hourly(clickhouse, mall.mall_id, today - timedelta(days=1))
        assert yesterday["visitors"].sum() > 0 and yesterday["last_week_visitors"].sum() > 0
        # Live: the mall's own local date, written within the last minute (door counters
        # report every minute, so a fresh write comes at least that often).
        deadline, live = time.monotonic() + 90, {}
        while time.monotonic() < deadline:
            live = redis.hgetall(f"ff:{mall.mall_id}:today")
            age = time.time() - datetime.fromisoformat(live["updated_at"].replace("Z", "+00:00")).timestamp()
            if age <= 60:
                break
            time.sleep(2)
        assert date.fromisoformat(live["day"]) == today
        assert age <= 60, live


def settled_today(settings: Settings, mall_id: str) -> dict[str, str]:
    """The live hash once the job has written the last of the stopped simulator's records."""
    redis = clients.redis_client(settings.redis)
    previous, deadline = None, time.monotonic() + 120
    while time.monotonic() < deadline:
        current = redis.hgetall(f"ff:{mall_id}:today")
        current.pop("occupancy_at", None)
        if current == previous:
            return current
        previous = current
        time.sleep(6)
    raise AssertionError(f"the live hash of {mall_id} did not settle: {previous}")


def check_portfolio_page(settings: Settings) -> None:
    from playwright.sync_api import sync_playwright

    from dashboards.screenshots import BROWSER_ARGS, CHROMIUM
    from tests.dashboards.conftest import ARTIFACTS, app_ran

    clickhouse, redis = clients.clickhouse(settings.clickhouse), clients.redis_client(settings.redis)
    malls = default_layout(MALLS).malls
    live = {mall.mall_id: settled_today(settings, mall.mall_id) for mall in malls}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(f"http://127.0.0.1:{settings.dashboard.port}/")
        page.get_by_text("Occupancy now").first.wait_for(timeout=60_000)
        app_ran(page)
        page.screenshot(path=str(ARTIFACTS / "portfolio.png"), full_page=True)
        assert "Traceback" not in page.inner_text("body")
        for mall in malls:
            card = page.locator(f".st-key-mall-{mall.mall_id}")
            shown = {
                tile.locator('[data-testid="stMetricLabel"]').inner_text().strip(): tile.locator(
                    '[data-testid="stMetricValue"]'
                )
                .inner_text()
                .strip()
                for tile in card.locator('[data-testid="stMetric"]').all()
            }
            today, m = live[mall.mall_id], mall.mall_id
            occupancy = int(today["occupancy"]) if redis.exists(f"ff:{m}:positions") else 0
            assert shown == {
                "Visitors today": f"{int(today['visitors']):,}",
                "Occupancy now": f"{occupancy:,}",
                "Capture rate": f"{float(today['capture_rate']):.1%}" if today.get("capture_rate") else "—",
            }, mall.mall_id
            top = clickhouse.execute(
                "SELECT shop_name, visitors FROM top_shops_daily FINAL WHERE mall_id = %(m)s AND day = %(d)s "
                "AND rank = 1",
                {"m": m, "d": date.fromisoformat(today["day"])},
            )
            text = card.inner_text()
            # One visitor is "1 visitor" (early in a mall's day the top shop may have one).
            visitors = f"{top[0][1]:,} visitor{'' if top[0][1] == 1 else 's'}" if top else ""
            assert (f"Top shop {top[0][0]} ({visitors})" if top else "Top shop —") in text
            link = card.get_by_role("link", name="Overview")
            assert f"mall={m}" in (link.get_attribute("href") or "")
        browser.close()


def check_nothing_stored(settings: Settings) -> None:
    clickhouse, redis = clients.clickhouse(settings.clickhouse), clients.redis_client(settings.redis)
    assert clickhouse.execute("SELECT count() FROM mall_daily")[0][0] == 0
    assert clickhouse.execute("SELECT count() FROM positions")[0][0] == 0
    assert list(redis.scan_iter("ff:*")) == []
    with clients.postgres(settings.postgres) as conn:
        assert conn.execute(f"SELECT count(*) FROM {settings.postgres.schema_name}.malls").fetchone()[0] == 0
    assert not (settings.stack.var_dir / "demo").exists()
    assert not list(settings.job.checkpoint_dir.glob("*/chk-*"))
    ends = clients.kafka_consumer(settings.kafka)
    try:
        from kafka import TopicPartition

        topic = settings.kafka.wifi_probes_topic
        partitions = [TopicPartition(topic, p) for p in ends.partitions_for_topic(topic) or []]
        assert partitions and sum(ends.end_offsets(partitions).values()) == 0
    finally:
        ends.close()
