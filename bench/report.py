"""The bench's outputs: bench.json (everything measured), summary.md (the figures and
ratios a reader needs) and chart.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server
import matplotlib.pyplot as plt

SINK_LABELS = {
    "redis_seen": "devices-seen count, Redis",
    "clickhouse_seen": "devices-seen count, ClickHouse",
    "redis_position": "position, Redis",
    "clickhouse_position": "position, ClickHouse",
}


def thread_mode(run: dict[str, Any]) -> bool:
    return bool(run.get("python_mode", "process") == "thread")


def label(run: dict[str, Any]) -> str:
    return (f"{run['variant']} {run['input']} p{run['parallelism']}"
            + (" thread" if thread_mode(run) else ""))


def is_reference(run: dict[str, Any]) -> bool:
    """The production job as configured by default: parallelism 1, Python in processes."""
    return run["variant"] == "ours" and run["parallelism"] == 1 and not thread_mode(run)


def ours_on(result: dict[str, Any], data: str) -> dict[str, Any]:
    """The production job at parallelism 1 on the input named `data`."""
    return next(r for r in result["runs"] if is_reference(r) and r["input"] == data)


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """ours/ceiling, ours/baseline, parallelism 2/1 and thread/process mode: events/s of
    ours at parallelism 1 over the other's (or the other's over ours), each on the input
    both read."""
    found = {}
    for run in result["runs"]:
        ours = ours_on(result, run["input"])["events_per_s"]
        if run["variant"] in ("ceiling", "baseline"):
            found[f"ours_over_{run['variant']}"] = ours / run["events_per_s"]
        elif run["parallelism"] == 2:
            found["parallelism_2_over_1"] = run["events_per_s"] / ours
        elif thread_mode(run):
            found["thread_over_process"] = run["events_per_s"] / ours
    return {name: round(value, 2) for name, value in found.items()}


def scaling(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The production job at parallelism 1 on each input, with time relative to the
    smallest."""
    runs = sorted((r for r in result["runs"] if is_reference(r)), key=lambda r: r["records"])
    first = runs[0]
    scaled = []
    for r in runs:
        # The extra records over the extra time: the rate once fixed costs (warming up,
        # the final flush) are paid, which a short run hides.
        extra = (
            (r["records"] - first["records"]) / (r["seconds"] - first["seconds"])
            if r["seconds"] > first["seconds"]
            else None
        )
        scaled.append(
            {
                **r,
                "time_vs_smallest": round(r["seconds"] / first["seconds"], 2),
                "marginal_events_per_s": round(extra) if extra else None,
            }
        )
    return scaled


def measured(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The live phases that ran."""
    return [p for p in result["latency"] if "skipped" not in p]


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def markdown(result: dict[str, Any]) -> str:
    m, r = result["machine"], ratios(result)
    on = {run["variant"]: run["input"] for run in result["runs"]}
    lines = [
        f"# Footfall benchmark, {result['when']}",
        "",
        (
            f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}, Python {m['python']}. "
            "The broker, ClickHouse, Redis, PostgreSQL, the Flink job and the load generator all share it. "
            f"Whole bench: {result['bench_seconds']} s."
        ),
        "",
        (
            f"**ours/ceiling = {r['ours_over_ceiling']}** ({on['ceiling']} input), "
            f"**ours/baseline = {r['ours_over_baseline']}** ({on['baseline']} input)"
            + (f", parallelism 2/1 = {r['parallelism_2_over_1']}" if "parallelism_2_over_1" in r else "")
            + (f", thread/process mode = {r['thread_over_process']}" if "thread_over_process" in r else "")
            + ": events/s of the production job at parallelism 1 over the other's, on the same events."
        ),
        "",
        "## Throughput",
        "",
        "| variant | input | records | parallelism | Python | events/s | seconds read | start-up s | ours / this |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for run in result["runs"]:
        ours = ours_on(result, run["input"])
        lines.append(
            f"| {run['variant']} | {run['input']} | {run['records']:,} | {run['parallelism']} | "
            f"{run.get('python_mode', 'process')} | {run['events_per_s']:,.0f} | {run['seconds']:.1f} | "
            f"{run['startup_s']:.1f} | {ours['events_per_s'] / run['events_per_s']:.2f} |"
        )
    lines += [
        "",
        "## Scaling: the production job, parallelism 1",
        "",
        "| input | records | seconds | events/s | time vs smallest | extra records / extra seconds vs smallest |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in scaling(result):
        marginal = "–" if run["marginal_events_per_s"] is None else f"{run['marginal_events_per_s']:,}"
        lines.append(
            f"| {run['input']} | {run['records']:,} | {run['seconds']:.1f} | {run['events_per_s']:,.0f} | "
            f"{run['time_vs_smallest']:.2f} | {marginal} |"
        )
    lines += [
        "",
        "## Live latency: event time to visible (production job, seconds p50 / p95 / p99)",
        "",
        "| load records/s | sent/s | " + " | ".join(SINK_LABELS.values()) + " | markers not seen | kept up |",
        "| ---: | ---: | " + " | ".join("---" for _ in SINK_LABELS) + " | ---: | --- |",
    ]
    for phase in result["latency"]:
        if "skipped" in phase:
            lines.append(f"| {phase['rate']:,} | not run: {phase['skipped']} |" + " |" * (len(SINK_LABELS) + 2))
            continue
        cells = [
            " / ".join(_seconds(phase["delays"][sink][q]) for q in ("p50_s", "p95_s", "p99_s")) for sink in SINK_LABELS
        ]
        missing = max(phase["delays"][sink]["not_seen"] for sink in SINK_LABELS)
        markers = phase["delays"]["redis_seen"]["markers"]
        lines.append(
            f"| {phase['rate']:,} | {phase['rate_sent']:,} | "
            + " | ".join(cells)
            + f" | {missing} of {markers} | {'yes' if phase['kept_up'] else 'no'} |"
        )
    lines += ["", "## CPU (cores) and peak memory (MiB) per component", ""]
    phases = [(label(run), run["resources"]) for run in result["runs"]]
    phases += [(f"live {p['rate']:,}/s", p["resources"]) for p in measured(result)]
    components = sorted({c for _, used in phases for c in used})
    lines += ["| phase | " + " | ".join(components) + " |", "| --- | " + " | ".join("---:" for _ in components) + " |"]
    for name, used in phases:
        cells = [f"{used[c]['cpu_cores']:.2f} / {used[c]['rss_mib']:,}" if c in used else "–" for c in components]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    checks = result["checks"]
    lines += ["", "## Checks", ""]
    if checks["identical"]:
        rows = ", ".join(f"{table} {n:,}" for table, n in checks["metric_rows"].items())
        lines.append(
            f"Identical: {'; '.join(checks['compared'])}: the same values "
            f"(ours-1x-p1: {rows} rows). The ceiling read every record."
        )
    else:
        lines += ["**Values differ:**", ""] + [f"- {p}" for p in checks["problems"]]
    return "\n".join(lines) + "\n"


def chart(result: dict[str, Any], path: Path) -> None:
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.5))
    shown = result["runs"]
    left.bar(
        [label(r).replace(" p", "\np", 1) for r in shown],
        [r["events_per_s"] for r in shown],
        color=[
            "#9e9e9e" if r["variant"] == "ceiling" else "#e07b39" if r["variant"] == "baseline" else "#2f6db5"
            for r in shown
        ],
    )
    left.set_yscale("log")
    left.set_title("Throughput")
    left.set_ylabel("events/s")
    runs = scaling(result)
    middle.plot([r["records"] for r in runs], [r["seconds"] for r in runs], marker="o", color="#2f6db5")
    for r in runs:
        middle.annotate(r["input"], (r["records"], r["seconds"]), textcoords="offset points", xytext=(4, -12))
    middle.set_title("Scaling: production job, parallelism 1")
    middle.set_xlabel("records")
    middle.set_ylabel("seconds")
    middle.set_xlim(left=0)
    middle.set_ylim(bottom=0)
    phases = measured(result)
    rates = [p["rate"] for p in phases]
    for sink, colour in zip(SINK_LABELS, ("#2f6db5", "#6fa8dc", "#e07b39", "#f6b26b"), strict=True):
        p50 = [p["delays"][sink]["p50_s"] for p in phases]
        p99 = [p["delays"][sink]["p99_s"] for p in phases]
        right.plot(rates, p50, marker="o", color=colour, label=f"{SINK_LABELS[sink]} p50")
        right.plot(rates, p99, marker="x", linestyle="--", color=colour, label="p99")
    right.set_title("Live latency, event time to visible")
    right.set_xlabel("load, records/s")
    right.set_ylabel("seconds")
    right.legend(fontsize=7, ncol=2)
    figure.suptitle(f"Footfall benchmark {result['when']} ({result['machine']['cpus']} CPUs)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(result: dict[str, Any], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "bench.json", "summary": folder / "summary.md", "chart": folder / "chart.png"}
    result = {**result, "ratios": ratios(result)}
    paths["json"].write_text(json.dumps(result, indent=2) + "\n")
    paths["summary"].write_text(markdown(result))
    chart(result, paths["chart"])
    return paths
