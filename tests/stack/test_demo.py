"""The demo's plan and how `footfall demo` follows the job through the history, alone
(the whole demo runs against a real stack in tests/integration/test_lifecycle.py)."""

from __future__ import annotations

import pytest

from footfall.settings import Settings
from ops.demo import BackfillWatch, Demo, DemoPlan, simulated_time_at
from simulators.publish import write_state

DAY = 86_400.0
START = 1_700_000_000.0


def test_the_plan_checks_its_sizes_and_hands_them_to_the_simulator() -> None:
    args = DemoPlan(malls=2, days=5, visitors_per_day=80).simulator_args()
    assert args[:6] == ["--malls", "2", "--history", "5", "--as-fast-as-possible", "--seed"]
    assert args[args.index("--visitors-per-day") + 1] == "80"
    assert DemoPlan(days=0).simulator_args()[2:4] == ["--start", "now"]
    for bad in ({"malls": 0}, {"days": -1}, {"visitors_per_day": 0}):
        with pytest.raises(ValueError, match="--"):
            DemoPlan(**bad)


def test_records_read_map_to_the_simulated_time_between_marks() -> None:
    state = {"marks": [[START, 1], [START + 3600, 101]], "simulated_until": START + 7200, "records": 301}
    assert simulated_time_at(state, 0) is None
    assert simulated_time_at(state, 51) == START + 1800
    assert simulated_time_at(state, 201) == START + 5400
    assert simulated_time_at(state, 10_000) == START + 7200


class FakeRedis:
    def __init__(self) -> None:
        self.accepted = 0

    def hgetall(self, key: str) -> dict[str, str]:
        if key == "ff:ingested":
            return {"wifi-probes:accepted": str(self.accepted), "wifi-probes:late_for_windows": "7"}
        return {"wifi-probes:malformed": "10"}


def test_the_watch_reports_the_day_reached_the_rate_and_when_it_is_live(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FOOTFALL_VAR_DIR", str(tmp_path))
    demo, plan = Demo(Settings()), DemoPlan(days=2)
    demo.home.mkdir(parents=True)
    # The simulator has sent three days, 1,000 records an hour, and is live now.
    marks = [[START + h * 3600, 1 + h * 1000] for h in range(72)]
    write_state(demo.state_file, {"simulated_until": START + 3 * DAY, "records": 72_001, "marks": marks})
    redis, clock = FakeRedis(), [START + 3 * DAY]
    watch = BackfillWatch(demo, plan, redis, clock=lambda: clock[0])

    redis.accepted = 30_000 - 10  # plus 10 rejected: 30,000 read, hour 30 of 72
    first = watch.read()
    assert (first.day, first.days, first.reached, first.caught_up) == (2, 3, START + 29 * 3600 + 3600 * 0.999, False)
    clock[0] += 10
    redis.accepted += 20_000
    second = watch.read()
    assert second.rate == 2000 and second.eta == pytest.approx((72_001 - 50_000) / 2000)
    assert "day 3 of 3" in second.line() and "2,000 records/s" in second.line()
    redis.accepted = 72_001
    assert watch.read().caught_up


def test_a_dashboard_started_elsewhere_is_recognised_by_its_health_check() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from ops.demo import dashboard_answers

    class Streamlit(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = b"ok" if self.path == "/_stcore/health" else b"<html></html>"
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Streamlit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert dashboard_answers(server.server_address[1])
    finally:
        server.shutdown()
    assert not dashboard_answers(server.server_address[1])  # nothing answers there now
