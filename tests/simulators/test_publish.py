import io

from simulators.publish import Pacer, Progress, publish
from simulators.records import Record


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _record(t: float) -> Record:
    return Record("wifi-probes", None, b"{}", t, "probe")


def test_the_pacer_runs_simulated_time_at_the_speedup() -> None:
    clock = FakeClock()
    pacer = Pacer(sim_start=1000.0, speedup=60.0, clock=clock, sleep=clock.sleep)
    pacer.wait(_record(1000.0))
    assert clock.now == 100.0
    pacer.wait(_record(1000.0 + 3600))  # an hour of simulated time
    assert clock.now == 160.0  # takes a minute at 60x


def test_a_sped_up_run_never_sends_a_record_before_its_time_on_the_wall_clock() -> None:
    clock = FakeClock()
    epoch = {"now": 1000.0 + 600}  # the wall clock: ten simulated minutes after the start

    def wall() -> float:
        return epoch["now"] + (clock.now - 100.0)

    pacer = Pacer(sim_start=1000.0, speedup=60.0, clock=clock, sleep=clock.sleep, wall=wall)
    pacer.wait(_record(1000.0 + 600))  # at 60x: ten seconds, and by then it is due
    assert clock.now == 110.0
    pacer.wait(_record(1000.0 + 1200))  # 60x would send it at 120; the wall clock says 700
    assert abs(clock.now - 700.0) < 1e-6
    assert wall() >= 1000.0 + 1200


def test_the_rate_cap_spaces_records_out() -> None:
    clock = FakeClock()
    pacer = Pacer(sim_start=0.0, speedup=None, rate=100.0, clock=clock, sleep=clock.sleep)
    for _ in range(201):
        pacer.wait(_record(0.0))
    assert abs(clock.now - 102.0) < 1e-6  # 200 gaps of 10 ms


class ListSink:
    def __init__(self) -> None:
        self.sent: list[Record] = []
        self.closed = False

    def send(self, record: Record) -> None:
        self.sent.append(record)

    def close(self) -> None:
        self.closed = True


def test_publish_stops_at_max_events_and_closes_the_sink_and_the_source() -> None:
    closed = []

    def source():
        try:
            for i in range(100):
                yield _record(float(i))
        finally:
            closed.append(True)

    sink = ListSink()
    outcome = publish(source(), sink, max_events=10)
    assert outcome.events == 10 and len(sink.sent) == 10
    assert sink.closed and closed == [True]


def test_progress_reports_totals_rate_and_eta() -> None:
    clock = FakeClock()
    out = io.StringIO()
    progress = Progress(total=1000, every=1.0, out=out, clock=clock)
    clock.now += 2.0
    progress.tick(_record(0.0), n=500)
    assert out.getvalue().startswith("500 events  250/s")
    assert "ETA 2s" in out.getvalue()
