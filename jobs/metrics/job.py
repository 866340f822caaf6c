"""Launcher of the metrics job: settings in, SQL rendered, one pipeline submitted.

Runs in the embedded mini-cluster (`python -m jobs.metrics`, what `footfall up` starts)
or on a Flink cluster (`flink run -py jobs/metrics/job.py`), unchanged.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from footfall.flink import JOB_NAME
from footfall.jars import pipeline_jars
from footfall.schema import postgres_schema
from footfall.settings import ConfigError, JobSettings, Settings
from jobs import sql
from jobs.metrics import hooks
from jobs.metrics.partitions import check_partitions
from jobs.metrics.payloads import payload_values
from jobs.metrics.plan import FOLDER, checkpoint_home, latest_checkpoint, plan_version
from jobs.metrics.sinks import BufferedSink, SinkConfig
from udfs.identity import SALT_VARIABLE
from udfs.positioning import Estimator, Tracker

NAME = JOB_NAME
log = logging.getLogger(NAME)


#: A dead letter carries at most this much of the message it rejects (a message may be
#: as long as FOOTFALL_JOB_MAX_MESSAGE_BYTES; a dead letter must stay a small message).
DEAD_LETTER_RAW_CHARS = 65536


def position_values() -> dict[str, object]:
    """The ${placeholders} of 09_positions.sql and of the shop seconds (04_presence.sql): the
    estimator's tuning (place_device: one ARRAY of its parameters, in the order of
    udfs.positioning.Estimator's fields and of FloorPlan.Estimator's constructor) and the
    smoothing's (smooth_track), each the Python twin's own, which the tests' reference
    places and smooths with too. (The Java estimator gives the zone's weighted mean, the
    Estimator's default point.)"""
    estimator, tracker = Estimator(), Tracker()
    return {
        "estimator_tuning": tuple(float(getattr(estimator, field.name))
                                  for field in dataclasses.fields(estimator) if field.name != "point"),
        "track_sigma_m": tracker.sigma_m,
        "track_accel": tracker.accel,
        "track_horizon_ms": round(tracker.horizon_s * 1000),
    }


def sql_values(settings: Settings) -> dict[str, object]:
    """Every ${placeholder} of the SQL files: from settings, and the outputs' payloads
    (jobs/metrics/payloads.py). No secret is among them."""
    job, metrics = settings.job, settings.metrics
    return {
        "watermark_delay": sql.day_to_second(job.watermark_delay_seconds),
        "position_delay": sql.day_to_second(job.position_delay_seconds),
        "allowed_lateness": sql.day_to_second(job.allowed_lateness_seconds),
        "future_tolerance_ms": job.future_tolerance_seconds * 1000,
        "max_message_chars": job.max_message_bytes,
        "dead_letter_raw_chars": DEAD_LETTER_RAW_CHARS,
        "wifi_probes_topic": settings.kafka.wifi_probes_topic,
        "door_sensors_topic": settings.kafka.door_sensors_topic,
        "pos_transactions_topic": settings.kafka.pos_transactions_topic,
        "favorite_shops_topic": settings.kafka.favorite_shops_topic,
        "dead_letters_topic": settings.kafka.dead_letters_topic,
        "bootstrap_servers": settings.kafka.servers,
        "group_id": job.group_id,
        "startup_mode": job.startup_mode,
        "mall_min_rssi": metrics.mall_min_rssi,
        "shop_min_rssi": metrics.shop_min_rssi,
        "visit_gap": sql.day_to_second(metrics.visit_gap_seconds),
        "visit_gap_ms": metrics.visit_gap_seconds * 1000,
        "mall_min_dwell_ms": metrics.mall_min_dwell_seconds * 1000,
        "shop_min_dwell_ms": metrics.shop_min_dwell_seconds * 1000,
        "history_ttl": f"{metrics.history_days}d",
        "staff_min_heard_ms": round(metrics.staff_min_hours * 3_600_000),
        "staff_min_days": metrics.staff_min_days,
        "staff_window": sql.day_to_second(metrics.staff_window_days * 86400),
        "day_state_ttl": f"{job.day_state_ttl_hours:g} hours",
        "feed_consent_required": settings.privacy.feed_consent == "required",
        **position_values(),
        **payload_values(),
    }


def worker_environment(settings: Settings) -> dict[str, str]:
    """What the Flink workers read from their environment rather than from the job graph
    (whose parameters Flink's REST API and web UI show): the salt of the device ids, and
    where the Java layout functions read the layout from (udfs/java Layout.java)."""
    pg, job = settings.postgres, settings.job
    return {
        SALT_VARIABLE: settings.metrics.salt_value(settings.stack.var_dir),
        "FOOTFALL_LAYOUT_JDBC_URL": f"jdbc:postgresql://{pg.host}:{pg.port}/{pg.database}",
        "FOOTFALL_LAYOUT_USER": pg.user,
        "FOOTFALL_LAYOUT_PASSWORD": pg.password.get_secret_value(),
        "FOOTFALL_LAYOUT_SCHEMA": postgres_schema(pg),
        "FOOTFALL_LAYOUT_RELOAD_SECONDS": str(job.lookup_cache_seconds),
        "FOOTFALL_LAYOUT_SNAPSHOT": str(job.checkpoint_dir / "layout.snapshot"),
    }


def flink_configuration(settings: Settings, restore_from: Path | None = None) -> Configuration:
    job = settings.job
    config = Configuration()
    options = {
        "pipeline.name": NAME,
        # Shown in the REST API, so `footfall job` knows which plan a running job is
        # (a savepoint restores only into the plan that wrote it). No secret goes here.
        "pipeline.global-job-parameters": f"plan_version:{plan_version()}",
        "pipeline.jars": pipeline_jars(settings.flink.jars_dir),
        "parallelism.default": str(job.parallelism),
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
        "python.fn-execution.bundle.size": "1000",
        "python.fn-execution.bundle.time": "200",
        "execution.checkpointing.interval": f"{int(job.checkpoint_interval_seconds * 1000)}ms",
        "execution.checkpointing.dir": checkpoint_home(job.checkpoint_dir).as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        "rest.port": str(job.rest_port),
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "metrics.fetcher.update-interval": str(job.metrics_interval_ms),
        # No attempt limit: an outage that outlasts the sinks' own retries (or a crash)
        # restarts the job from its checkpoint, again and again, ever more slowly (up to
        # a minute apart); it never gives up. A day of calm resets the delay.
        "restart-strategy.type": "exponential-delay",
        "restart-strategy.exponential-delay.initial-backoff": "1s",
        "restart-strategy.exponential-delay.max-backoff": "60s",
        "restart-strategy.exponential-delay.backoff-multiplier": "2.0",
        "restart-strategy.exponential-delay.reset-backoff-threshold": "1h",
        "restart-strategy.exponential-delay.jitter-factor": "0.1",
        "restart-strategy.exponential-delay.attempts-before-reset-backoff": str(2**31 - 1),
        # A sink waiting for a store holds its checkpoint barrier: such a checkpoint is
        # late or fails, and that must not fail the job.
        "execution.checkpointing.timeout": "10min",
        "execution.checkpointing.tolerable-failed-checkpoints": str(2**31 - 1),
        "table.local-time-zone": "UTC",
        # Chained operators hand records on without a defensive copy each: the SQL
        # operators never keep or change a record they emitted (1 M records: 13,900/s
        # against 10,100/s with copies).
        "pipeline.object-reuse": "true",
        "python.execution-mode": job.python_execution_mode,
        "table.exec.state.ttl": f"{int(job.day_state_ttl_hours * 3600)}s",
        "table.exec.source.idle-timeout": f"{job.idle_timeout_seconds}s",
    }
    if restore_from is not None:
        options["execution.state-recovery.path"] = str(restore_from)
    for key, value in options.items():
        config.set_string(key, value)
    return config


#: The fork of probe_ingested (see 02_ingest.sql) happens after this file.
FORK_AFTER = "02_ingest.sql"


#: The file of the input tables, which a restatement replaces (jobs/metrics/restate.py).
SOURCES = "01_sources.sql"


def build(table_env: StreamTableEnvironment, settings: Settings,
          sources: tuple[Path, Mapping[str, object]] | None = None) -> list[str]:
    """Create the job's functions, tables and views: the SQL files in order, with the
    probe stream forked after ingestion. Returns the INSERT statements, for `pipeline`.
    `sources` (a file and its own values) stands in for SOURCES: a restatement's."""
    check_partitions(settings)
    values = sql_values(settings)
    files = [path.name for path in sql.numbered_files(FOLDER)]
    split = files.index(FORK_AFTER) + 1
    inserts = []
    for name in files[:split]:
        if name == SOURCES and sources is not None:
            execute(table_env, [sql.render(s, {**values, **sources[1]}) for s in sql.split(sources[0].read_text())])
        else:
            inserts += execute(table_env, sql.load(FOLDER, values, [name]))
    job = settings.job
    hooks.fork_probe_log(table_env, job.watermark_delay_seconds - job.position_delay_seconds)
    return inserts + execute(table_env, sql.load(FOLDER, values, files[split:]))


def execute(table_env: StreamTableEnvironment, statements: list[str]) -> list[str]:
    """Run the statements but the INSERTs, which are returned: they read tables
    `pipeline` makes, and go into the job as one statement set."""
    inserts = []
    for statement in statements:
        if statement.upper().startswith("INSERT"):
            inserts.append(statement)
            continue
        try:
            hooks.run_statement(table_env, statement)
        except Exception:
            log.error("failed: %s", statement.splitlines()[0])
            raise
    return inserts


def embedded_python_path() -> None:
    """In thread mode the Python functions run in an interpreter embedded in the JVM
    (PemJa), which sees only the base interpreter's packages: give it this one's."""
    packages = [p for p in sys.path if p.endswith("site-packages")]
    os.environ["PYTHONPATH"] = os.pathsep.join([*packages, *filter(None, [os.environ.get("PYTHONPATH")])])


def mini_batch(job: JobSettings) -> dict[str, str]:
    """Mini-batch options: group aggregations and deduplications emit one update per key
    per interval instead of one per input row."""
    if not job.mini_batch_ms:
        return {"table.exec.mini-batch.enabled": "false"}
    return {
        "table.exec.mini-batch.enabled": "true",
        "table.exec.mini-batch.allow-latency": f"{job.mini_batch_ms}ms",
        "table.exec.mini-batch.size": "5000",
    }


def pipeline(
    env: StreamExecutionEnvironment, table_env: StreamTableEnvironment, settings: Settings, inserts: list[str]
) -> None:
    """Attach the outputs changelog and its sinks to `env`: the Python sinks for
    ClickHouse and Redis, and Flink's Kafka sink for `inserts` (12_kafka_outputs.sql)."""
    # Mini-batch for the metrics only, so it is set after the ingestion was translated
    # (fork_probe_log): that plan would get a processing-time batch assigner behind the
    # Kafka source, which drops the watermark, and no window would ever close. Here the
    # planner gives the windows row-time assigners, which pass it on.
    for key, value in mini_batch(settings.job).items():
        table_env.get_config().set(key, value)
    outputs = table_env.to_changelog_stream(table_env.from_path("outputs"))
    hooks.kafka_messages(table_env, outputs)
    statements = table_env.create_statement_set()
    for statement in inserts:
        statements.add_insert_sql(statement)
    statements.attach_as_datastream()
    sink = SinkConfig(
        clickhouse=settings.clickhouse,
        redis=settings.redis,
        postgres=settings.postgres,
        flush_interval_ms=settings.job.flush_interval_ms,
        position_ttl_seconds=settings.metrics.position_ttl_seconds,
        buffer_rows=settings.job.sink_buffer_rows,
        max_backoff_seconds=settings.job.sink_max_backoff_seconds,
    )
    hooks.to_stores(outputs).process(BufferedSink(sink)).name("sinks")


def run(settings: Settings, restore_from: Path | None = None) -> None:
    # Before the JVM starts (the first Configuration does it), so that the embedded
    # cluster's workers inherit it; a standalone cluster's task manager is started with it.
    os.environ.update(worker_environment(settings))
    if settings.job.python_execution_mode == "thread":
        embedded_python_path()
    env = StreamExecutionEnvironment.get_execution_environment(flink_configuration(settings, restore_from))
    table_env = StreamTableEnvironment.create(env)
    pipeline(env, table_env, settings, build(table_env, settings))
    log.info("submitting %s%s", NAME, f" from {restore_from}" if restore_from else "")
    env.execute(NAME)


def end_group(signum: int, frame: object) -> None:
    """On SIGTERM (a stop, or the supervisor's death): pass it on to the whole process
    group, the JVM and its Python workers, which would otherwise outlive this process."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.killpg(os.getpgrp(), signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.metrics", description=__doc__)
    parser.add_argument(
        "--from-checkpoint",
        metavar="PATH|latest",
        help="resume from a checkpoint folder (chk-N), or the newest under FOOTFALL_JOB_CHECKPOINT_DIR",
    )
    args = parser.parse_args(argv)
    if os.getpgrp() == os.getpid():  # leads a process group of its own (ops/supervisor.py)
        signal.signal(signal.SIGTERM, end_group)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        restore_from = None
        if args.from_checkpoint == "latest":
            restore_from = latest_checkpoint(settings.job.checkpoint_dir)
            if restore_from is None:
                log.info(
                    "no checkpoint of this job version under %s: starting from the topics", settings.job.checkpoint_dir
                )
        elif args.from_checkpoint:
            restore_from = Path(args.from_checkpoint)
            if not (restore_from / "_metadata").is_file():
                raise ConfigError(f"--from-checkpoint {restore_from}: not a checkpoint folder (no _metadata)")
        run(settings, restore_from)
    except (ConfigError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - the JVM died (killed, out of memory) or the job failed
        # End now: the Python workers' gRPC threads (in this process when the job runs
        # embedded) do not stop with the JVM, and would keep this process, and so the
        # supervisor waiting for it, alive for good instead of restarting the job.
        log.exception("the job ended with an error")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
