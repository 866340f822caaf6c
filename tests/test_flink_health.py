"""Reading the job's health from a REST server that refuses a long request line as Flink's
does (404 past 4,096 characters): a chained vertex with many gauges is asked a few at a
time, and only for the gauges the health reads."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from footfall.flink import job_health

#: A vertex whose operators each register the sinks' and the layout's gauges.
OPERATORS = [f"Correlate[{n}]_operator_with_a_long_generated_name_{n}" for n in range(40)]
GAUGES = ["footfall_layout.loadedAt", "footfall_layout.failingSince", "footfall_layout.probes",
          "footfall_layout.optedOut", "footfall_layout.consenting", "footfall_sink.rowsWaiting",
          "footfall_sink.clickhouseFailingSince"]
NAMES = [f"{op}.{gauge}" for op in OPERATORS for gauge in GAUGES]


def gauge(name: str) -> int:
    """ClickHouse failing since 1700 ms, nothing else failing, three rows waiting per operator."""
    if name.endswith("clickhouseFailingSince"):
        return 1700
    return 0 if name.lower().endswith("failingsince") else 3


class FlinkLike(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if len(self.requestline) > 4096:
            self.send_error(404)
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/jobs/j/metrics":
            body: object = [{"id": "numRestarts", "value": "1"}]
        elif url.path == "/jobs/j":
            body = {"vertices": [{"id": "v", "name": "Correlate -> sinks"}]}
        else:
            asked = urllib.parse.parse_qs(url.query).get("get", [""])[0]
            if not asked:
                body = [{"id": name} for name in NAMES]
            else:
                body = [{"id": name, "max": gauge(name), "sum": gauge(name)} for name in asked.split(",")]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_a_vertex_with_many_gauges_is_read_a_few_at_a_time() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlinkLike)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        health = job_health(f"http://127.0.0.1:{server.server_address[1]}", "j")
    finally:
        server.shutdown()
    assert health.restarts == 1
    assert health.rows_waiting == 3 * len(OPERATORS)  # every operator's rowsWaiting, none dropped
    assert health.failing == {"clickhouse": 1700}
