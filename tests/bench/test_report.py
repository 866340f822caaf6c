"""The bench's pure parts: comparing runs' values, latency percentiles, ratios, the
summary and chart, and its command line."""

from __future__ import annotations

import pytest

from bench import report
from bench.flinkwatch import JobWatch
from bench.latency import Marker, summarise
from bench.results import differences
from bench.run import main


def test_identical_values_have_no_differences() -> None:
    values = {"mall_daily": {("2030-06-03",): (10, 4, 6, 2, 30)}, "dead_letter_counts": {("wifi-probes", "late"): (3,)}}
    assert differences(values, {k: dict(v) for k, v in values.items()}) == []


def test_a_changed_value_and_a_missing_key_are_reported_per_table() -> None:
    ours = {"mall_daily": {("2030-06-03",): (10, 4, 6, 2, 30), ("2030-06-04",): (1, 1, 0, 0, 0)},
            "shop_daily": {("2030-06-03", "S01"): ("Shoes", 5)}}
    theirs = {"mall_daily": {("2030-06-03",): (10, 5, 5, 2, 30)}, "shop_daily": {("2030-06-03", "S01"): ("Shoes", 5)}}
    found = differences(ours, theirs)
    assert len(found) == 1
    assert found[0].startswith("mall_daily: 2 of 2 keys differ")
    assert "(10, 4, 6, 2, 30) != (10, 5, 5, 2, 30)" in found[0] and "(1, 1, 0, 0, 0) != None" in found[0]


def test_latency_summary_counts_markers_never_seen() -> None:
    markers = [Marker(n, f"d{n}", 0.0, {"redis_seen": n / 10, "clickhouse_seen": 1.0}) for n in range(1, 101)]
    markers.append(Marker(101, "d101", 0.0))
    summary = summarise(markers)
    assert summary["redis_seen"] == {
        "markers": 101,
        "not_seen": 1,
        "p50_s": 5.1,
        "p95_s": 9.6,
        "p99_s": 10.0,
        "max_s": 10.0,
    }
    assert summary["redis_position"]["not_seen"] == 101 and summary["redis_position"]["p50_s"] is None


def test_a_source_has_read_all_only_when_every_partition_of_its_topic_reached_its_end() -> None:
    ends = {("probes", 0): 99, ("probes", 1): 50, ("doors", 0): 7}
    assert JobWatch.read_all({("probes", 0): 99, ("probes", 1): 50}, ends)
    assert not JobWatch.read_all({("probes", 0): 99, ("probes", 1): 49}, ends)
    assert not JobWatch.read_all({("probes", 0): 99}, ends)  # a partition it has not reported yet
    assert JobWatch.read_all({("doors", 0): 7}, ends)


def result() -> dict:
    def run(variant: str, scale: int, parallelism: int, rate: int, python_mode: str = "process") -> dict:
        records = 20_000 * scale
        return {
            "variant": variant,
            "input": f"{scale}x",
            "parallelism": parallelism,
            "records": records,
            "python_mode": python_mode,
            "startup_s": 15.0,
            "seconds": records / rate,
            "events_per_s": rate,
            "positions": None,
            "metric_rows": {},
            "resources": {"flink job": {"cpu_cores": 1.5, "rss_mib": 900}},
        }

    delays = {
        sink: {"markers": 40, "not_seen": 0, "p50_s": 2.0, "p95_s": 3.0, "p99_s": 4.0, "max_s": 4.0}
        for sink in report.SINK_LABELS
    }
    return {
        "when": "2026-11-21T16:00:00+00:00",
        "machine": {"cpus": 2, "cpu": "x86_64", "memory_gib": 23.5, "os": "Linux", "python": "3.11.7"},
        "bench_seconds": 300,
        "inputs": {"1x": {"events": 20_000, "records": 20_000, "fill_seconds": 2.0}},
        "runs": [
            run("ceiling", 4, 1, 40_000),
            run("baseline", 1, 1, 200),
            run("ours", 1, 1, 5_000),
            run("ours", 1, 2, 4_000),
            run("ours", 1, 1, 5_500, "thread"),
            run("ours", 2, 1, 5_000),
            run("ours", 4, 1, 4_000),
        ],
        "latency": [
            {
                "rate": 2000,
                "rate_sent": 1990,
                "kept_up": True,
                "delays": delays,
                "resources": {"kafka": {"cpu_cores": 0.2, "rss_mib": 300}},
            },
            {
                "rate": 10000,
                "rate_sent": 9900,
                "kept_up": False,
                "delays": delays,
                "resources": {"kafka": {"cpu_cores": 0.3, "rss_mib": 300}},
            },
            {"rate": 20000, "skipped": "the job fell behind 10,000/s"},
        ],
        "checks": {
            "identical": True,
            "problems": [],
            "compared": ["baseline-1x-p1", "ours-1x-p2"],
            "metric_rows": {"mall_daily": 2},
        },
    }


def test_ratios_are_events_per_second_on_the_same_input() -> None:
    # The ceiling ran on 4x: it is compared with ours on 4x (4,000/s), not on 1x (5,000/s).
    assert report.ratios(result()) == {
        "ours_over_ceiling": 0.1,
        "ours_over_baseline": 25.0,
        "parallelism_2_over_1": 0.8,
        "thread_over_process": 1.1,
    }
    # Thread mode and parallelism 2 are not part of the scaling.
    assert [r["time_vs_smallest"] for r in report.scaling(result())] == [1.0, 2.0, 5.0]


def test_summary_chart_and_json_are_written(tmp_path) -> None:
    paths = report.write(result(), tmp_path)
    summary = paths["summary"].read_text()
    assert (
        "**ours/ceiling = 0.1** (4x input), **ours/baseline = 25.0** (1x input), parallelism 2/1 = 0.8, "
        "thread/process mode = 1.1"
    ) in summary
    assert "| baseline | 1x | 20,000 | 1 | process | 200 | 100.0 | 15.0 | 25.00 |" in summary
    assert "| ceiling | 4x | 80,000 | 1 | process | 40,000 | 2.0 | 15.0 | 0.10 |" in summary
    assert "| ours | 1x | 20,000 | 1 | thread | 5,500 |" in summary
    assert "| 2,000 | 1,990 | 2.0 / 3.0 / 4.0 |" in summary and "| 0 of 40 | yes |" in summary
    assert "| 10,000 | 9,900 | 2.0 / 3.0 / 4.0 |" in summary and "| 0 of 40 | no |" in summary
    assert "| 20,000 | not run: the job fell behind 10,000/s |" in summary
    assert "live 10,000/s" in summary and "live 20,000/s" not in summary
    assert "Identical: baseline-1x-p1; ours-1x-p2: the same values (ours-1x-p1: mall_daily 2 rows)" in summary
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert '"ours_over_baseline": 25.0' in paths["json"].read_text()


def test_differing_values_are_listed_in_the_summary(tmp_path) -> None:
    failed = result()
    failed["checks"] = {**failed["checks"], "identical": False, "problems": ["baseline-1x differs: mall_daily: ..."]}
    assert "- baseline-1x differs: mall_daily: ..." in report.markdown(failed)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--events", "10"], "--events and --baseline-events must be at least 1000"),
        (["--baseline-events", "10"], "--events and --baseline-events must be at least 1000"),
        (["--rates", "2000,x"], "'2000,x' is not a comma-separated list of whole numbers"),
        (["--scales", "2,4"], "--scales must include 1"),
    ],
)
def test_a_bad_argument_is_one_line_naming_it(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
