"""Settings for every component, read from the environment (and an optional `.env`).

Each component has its own settings object with the prefix of its variables; every
field has a local default so that a fresh clone runs with nothing set. `.env.example`
lists every variable. Secrets are `SecretStr`, so they never show up in a repr or a log.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: The repository root: the project is installed editable, so this is the checkout.
ROOT = Path(__file__).resolve().parent.parent

Port = Annotated[int, Field(ge=1, le=65535)]


class ConfigError(ValueError):
    """A configuration value is invalid; the message is one line naming the variable."""


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", extra="ignore", frozen=True)

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets `field`."""
        return f"{cls.model_config['env_prefix']}{field}".upper()


class Topics:
    """Kafka topic names of the contracts (docs/design.md §3, §5). They are the defaults of
    `KafkaSettings`' topic names, which a test (or a shared cluster) may point elsewhere;
    the simulator labels its records with these and its sink maps them."""

    WIFI_PROBES: ClassVar[str] = "wifi-probes"
    DOOR_SENSORS: ClassVar[str] = "door-sensors"
    POS_TRANSACTIONS: ClassVar[str] = "pos-transactions"
    FAVORITE_SHOPS: ClassVar[str] = "favorite-shops"
    DEAD_LETTERS: ClassVar[str] = "dead-letters"
    ALERTS: ClassVar[str] = "alerts"
    ALL: ClassVar[tuple[str, ...]] = (WIFI_PROBES, DOOR_SENSORS, POS_TRANSACTIONS, FAVORITE_SHOPS, DEAD_LETTERS, ALERTS)
    #: The topics the metrics job reads.
    INPUTS: ClassVar[tuple[str, ...]] = (WIFI_PROBES, DOOR_SENSORS, POS_TRANSACTIONS)


class KafkaSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_KAFKA_")

    host: str = "127.0.0.1"
    port: Port = 9092
    #: A comma-separated broker list; when set it replaces host:port (e.g. a real cluster).
    bootstrap_servers: str = ""
    #: Partitions of every topic the bootstrap creates, unless `topic_partitions` names it.
    partitions: int = Field(2, ge=1)
    #: Per-topic partition counts as JSON, e.g. {"wifi-probes": 4}.
    topic_partitions: dict[str, Annotated[int, Field(ge=1)]] = {}
    replication_factor: int = Field(1, ge=1)
    wifi_probes_topic: str = Field(Topics.WIFI_PROBES, min_length=1)
    door_sensors_topic: str = Field(Topics.DOOR_SENSORS, min_length=1)
    pos_transactions_topic: str = Field(Topics.POS_TRANSACTIONS, min_length=1)
    favorite_shops_topic: str = Field(Topics.FAVORITE_SHOPS, min_length=1)
    dead_letters_topic: str = Field(Topics.DEAD_LETTERS, min_length=1)
    alerts_topic: str = Field(Topics.ALERTS, min_length=1)

    @property
    def servers(self) -> str:
        return self.bootstrap_servers or f"{self.host}:{self.port}"

    @property
    def topics(self) -> dict[str, str]:
        """Contract topic name -> the topic actually used."""
        return {
            Topics.WIFI_PROBES: self.wifi_probes_topic,
            Topics.DOOR_SENSORS: self.door_sensors_topic,
            Topics.POS_TRANSACTIONS: self.pos_transactions_topic,
            Topics.FAVORITE_SHOPS: self.favorite_shops_topic,
            Topics.DEAD_LETTERS: self.dead_letters_topic,
            Topics.ALERTS: self.alerts_topic,
        }

    @property
    def input_topics(self) -> list[str]:
        """The topics the metrics job reads, as used."""
        return [self.topics[name] for name in Topics.INPUTS]

    def partitions_of(self, topic: str) -> int:
        return self.topic_partitions.get(topic, self.partitions)

    @classmethod
    def topics_environment(cls, suffix: str) -> dict[str, str]:
        """The variables that move every contract topic to `{name}-{suffix}`: topics of a
        run's own (tests, benchmarks)."""
        return {cls.env_name(f"{name.replace('-', '_')}_topic"): f"{name}-{suffix}" for name in Topics.ALL}


class ClickHouseSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_CLICKHOUSE_")

    host: str = "127.0.0.1"
    port: Port = 9000  # native protocol, what clickhouse-driver speaks
    http_port: Port = 8123
    user: str = "default"
    password: SecretStr = SecretStr("")
    database: str = "footfall"


class RedisSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_REDIS_")

    host: str = "127.0.0.1"
    port: Port = 6379
    db: int = Field(0, ge=0)
    password: SecretStr = SecretStr("")


class PostgresSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_POSTGRES_")

    host: str = "127.0.0.1"
    port: Port = 5432
    database: str = "footfall"
    user: str = "footfall"
    password: SecretStr = SecretStr("footfall")
    schema_name: str = Field("footfall", alias="FOOTFALL_POSTGRES_SCHEMA")

    def conninfo(self, database: str | None = None) -> dict[str, Any]:
        """Keyword arguments for `psycopg.connect`."""
        return {
            "host": self.host,
            "port": self.port,
            "dbname": database or self.database,
            "user": self.user,
            "password": self.password.get_secret_value(),
            "connect_timeout": 3,
        }


def _under_root(value: object) -> object:
    """Relative paths in settings are relative to the checkout, not the current folder."""
    return ROOT / value if isinstance(value, (str, Path)) and not Path(value).is_absolute() else value


class FlinkSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_FLINK_")

    #: Where `make setup` puts the connector jars taken out of the libraries wheel.
    jars_dir: Path = ROOT / ".venv" / "flink-jars"

    _resolve = field_validator("jars_dir", mode="before")(_under_root)


class DashboardSettings(_Settings):
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_DASHBOARD_")

    port: Port = 8501


class MetricSettings(_Settings):
    """The knobs of docs/design.md §4: who counts as a visitor, and how device ids are salted."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_")
    #: Secret mixed into every device id. Unset or empty: a random one is made once and kept in
    #: FOOTFALL_VAR_DIR/salt, so ids stay stable across restarts of the local stack.
    salt: SecretStr | None = None
    #: An event qualifies for the mall / a shop from this signal strength (dBm) up.
    mall_min_rssi: int = Field(-85, ge=-120, le=0)
    shop_min_rssi: int = Field(-70, ge=-120, le=0)
    #: Longest gap between events of one visit (to the mall or to a shop).
    visit_gap_seconds: int = Field(300, ge=1)
    #: A device is a mall visitor, not a passer-by, once a mall visit has lasted this long.
    mall_min_dwell_seconds: int = Field(300, ge=0)
    #: … and a shop's visitor, not a walk-by, once a visit to it has lasted this long.
    shop_min_dwell_seconds: int = Field(120, ge=0)
    #: How long a device is remembered for new / returning visitors.
    history_days: int = Field(180, ge=1)
    #: A device keeps its last live position this long after its last report.
    position_ttl_seconds: int = Field(300, ge=1)
    #: Staff and fixed devices (docs/design.md §4 item 14): a device heard in a mall for
    #: more than staff_min_hours on a day (its mall visits' total dwell), on staff_min_days
    #: of staff_window_days days in a row, is staff from the next day on.
    staff_min_hours: float = Field(4.0, gt=0, le=24)
    staff_min_days: int = Field(3, ge=1)
    staff_window_days: int = Field(7, ge=1)

    @model_validator(mode="after")
    def _staff_rule(self) -> MetricSettings:
        if self.staff_min_days > self.staff_window_days:
            raise ValueError(
                f"FOOTFALL_STAFF_MIN_DAYS ({self.staff_min_days}) is more than FOOTFALL_STAFF_WINDOW_DAYS "
                f"({self.staff_window_days})")
        return self

    def salt_value(self, var_dir: Path) -> str:
        if self.salt is not None and self.salt.get_secret_value():
            return self.salt.get_secret_value()
        path = var_dir / "salt"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(16))
        return path.read_text().strip()


class JobSettings(_Settings):
    """How the metrics job runs: parallelism, checkpoints, watermarks, state and sinks."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_JOB_")
    parallelism: int = Field(1, ge=1)
    checkpoint_interval_seconds: float = Field(10.0, gt=0)
    #: Checkpoints are kept here (one folder per job run) so a restart can resume.
    checkpoint_dir: Path = ROOT / "var" / "flink" / "checkpoints"
    #: Savepoints `footfall job savepoint|stop --savepoint|upgrade` take, one folder per
    #: plan version (a savepoint restores only into the plan that wrote it).
    savepoint_dir: Path = ROOT / "var" / "flink" / "savepoints"
    #: Bounded out-of-orderness of the event-time windows (visits): an event this far
    #: behind the newest of its partition still counts, but misses visits and positions.
    watermark_delay_seconds: int = Field(120, ge=0)
    #: An event this far behind the newest of its partition is rejected as `late`; less
    #: late (a probe uploading what it buffered while offline) it still counts for
    #: visitors, hourly and shop visitors and door entries.
    allowed_lateness_seconds: int = Field(3600, ge=0)
    #: A report stamped more than this ahead of the job's clock is rejected as `future`.
    future_tolerance_seconds: int = Field(300, ge=0)
    #: A message longer than this (characters) is rejected as `too_large` unparsed.
    max_message_bytes: int = Field(262144, ge=1024)
    #: A sink holds at most this many rows per output while its store is down; then it
    #: waits for the store, and back-pressure slows the job's reading.
    sink_buffer_rows: int = Field(200_000, ge=100)
    #: Longest wait between two tries of a store that does not answer.
    sink_max_backoff_seconds: float = Field(30.0, gt=0)
    #: The short out-of-orderness of live positions: a second of positions is final this
    #: long after it ends, and reports later than that are left out of the map.
    position_delay_seconds: int = Field(2, ge=0)
    #: A partition silent this long stops holding the watermark back; 0 (the default)
    #: never: while the job catches up on a backlog a partition can look idle and let the
    #: watermark run ahead of it, turning its events late.
    idle_timeout_seconds: int = Field(0, ge=0)
    #: Per-day state (device-day sets, daily counts) is dropped this long after its
    #: last update; the day is closed by the watermark long before.
    day_state_ttl_hours: float = Field(36.0, gt=0)
    #: Group aggregations and deduplications collect their input this long and emit one
    #: update per key, not one per event: far fewer rows reach the sinks. 0 turns it off.
    mini_batch_ms: int = Field(500, ge=0)
    #: Sinks write what they buffered at least this often.
    flush_interval_ms: int = Field(1000, ge=10)
    #: How Flink runs the Python functions (the sinks, the zone of a position): in a
    #: worker process of their own, or in the JVM's threads (PemJa). The bench measures
    #: both; process is the default as thread mode gained nothing measurable here.
    python_execution_mode: Literal["process", "thread"] = "process"
    #: A probe, shop or mall added to PostgreSQL is seen within this many seconds.
    lookup_cache_seconds: int = Field(60, ge=1)
    #: Where a job without a checkpoint starts reading: earliest-offset or latest-offset.
    startup_mode: Literal["earliest-offset", "latest-offset", "group-offsets"] = "earliest-offset"
    group_id: str = "footfall-metrics"
    #: The embedded mini-cluster's REST API (job state, checkpoints); 0 picks a free port.
    rest_port: int = Field(8081, ge=0, le=65535)
    #: How old the REST API's metrics may be (read offsets, record counts); Flink's own
    #: default is 10 s.
    metrics_interval_ms: int = Field(2000, ge=100)

    _resolve = field_validator("checkpoint_dir", "savepoint_dir", mode="before")(_under_root)

    @field_validator("position_delay_seconds")
    @classmethod
    def _within_watermark_delay(cls, value: int, info: ValidationInfo) -> int:
        # The metrics' watermark is the positions' one shifted by the difference.
        limit = info.data.get("watermark_delay_seconds")
        if limit is not None and value > limit:
            raise ValueError(f"must not exceed FOOTFALL_JOB_WATERMARK_DELAY_SECONDS ({limit})")
        return value

    @field_validator("allowed_lateness_seconds")
    @classmethod
    def _at_least_watermark_delay(cls, value: int, info: ValidationInfo) -> int:
        # What the windows still take must also count.
        limit = info.data.get("watermark_delay_seconds")
        if limit is not None and value < limit:
            raise ValueError(f"must be at least FOOTFALL_JOB_WATERMARK_DELAY_SECONDS ({limit})")
        return value


SERVICE_NAMES = ("kafka", "clickhouse", "redis", "postgres")


class StackSettings(_Settings):
    """The local services the project runs itself (docs/design.md §6 local defaults)."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_")

    #: Data, config, logs and pids of every local service live under this folder.
    var_dir: Path = ROOT / "var"
    #: Which services `footfall up` runs locally; the others are used where configured.
    local_services: Annotated[tuple[str, ...], NoDecode] = SERVICE_NAMES
    #: Seconds `footfall up` waits for a service to answer.
    start_timeout: float = Field(90.0, gt=0)

    _resolve = field_validator("var_dir", mode="before")(_under_root)

    @field_validator("local_services", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(name.strip() for name in value.split(",") if name.strip())
        unknown = set(cast(Iterable[str], value)) - set(SERVICE_NAMES)
        if unknown:
            raise ValueError(f"unknown service {sorted(unknown)}, choose from {','.join(SERVICE_NAMES)}")
        return value


class PrivacySettings(_Settings):
    """What the product keeps about a device, for how long, and whom the feed may name
    (docs/privacy.md)."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_")

    #: Who appears on the favourite-shop feed: `none` asks for no consent (every visitor,
    #: the local demo's default); `required` only devices in the consent registry
    #: (`footfall privacy consent`). Devices without consent still count in every aggregate.
    feed_consent: Literal["none", "required"] = "none"
    #: Days of device-level history kept (visits, favourite and repeat shops, staff found):
    #: 180 covers the loyalty classes' look-back (occasional: before 30 days).
    retention_device_days: int = Field(180, ge=1)
    #: Days of position history kept (the live map's replay).
    retention_positions_days: int = Field(7, ge=1)
    #: Days the dead letters and the input topics (raw MACs by nature) are kept, as the
    #: topics' retention.ms where the broker enforces it.
    retention_topics_days: int = Field(7, ge=1)
    #: Figures about fewer people than this are suppressed where data leaves the product:
    #: exported files show "< N" instead, and journeys with fewer shoppers are not shown.
    #: 0 (the local default) turns it off; 5 is the recommendation (docs/privacy.md).
    min_group_size: int = Field(0, ge=0)
    #: Port of the public privacy page (`footfall privacy serve`): the form a mall's signs
    #: and WiFi portal link to, and its HTTP equivalent.
    privacy_port: Port = 8502
    #: Hours between two automatic enforcements of the retention by the job's supervisor
    #: (the first once the job runs); 0: never (`footfall privacy enforce` only).
    retention_every_hours: float = Field(24.0, ge=0)


class ExpectedSettings(_Settings):
    """Expected footfall (footfall/expected.py): what each hour usually brings."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_EXPECTED_")

    #: Past weeks of the same weekday an hour's expectation rests on (the median of them):
    #: three or more make it robust to one odd day.
    weeks: int = Field(4, ge=1, le=12)
    #: Days after today that get an expectation too.
    days_ahead: int = Field(7, ge=0, le=14)
    #: Minutes between two refreshes by the job's supervisor (today's scaling moves as its
    #: hours close); 0: only `footfall expected refresh`.
    every_minutes: float = Field(15.0, ge=0)


class AlertSettings(_Settings):
    """How the product evaluates its alert rules and delivers the alerts (footfall/alerts.py)."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_ALERTS_")

    #: Seconds between two evaluations by the job's supervisor; 0: only
    #: `footfall alerts evaluate`.
    every_seconds: float = Field(30.0, ge=0)
    #: Tries of a webhook delivery before it is given up (each logged).
    webhook_attempts: int = Field(5, ge=1)
    #: Seconds before the second try; each further wait doubles.
    webhook_backoff_seconds: float = Field(2.0, ge=0)
    #: Seconds a webhook receiver has to answer.
    webhook_timeout_seconds: float = Field(5.0, gt=0)


class RestateSettings(_Settings):
    """When a day's numbers become final (docs/metrics-job.md "Restatement"): the job's SQL
    run again, bounded, over the day's reports in the input topics (jobs/metrics/restate.py)."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_RESTATE_")

    #: Hours after a mall's local midnight at which its day is closed and may be restated:
    #: more than the allowed lateness, so every report the job could still take is in.
    close_hours: float = Field(3.0, gt=0, le=48)
    #: Closed days of the last this many days that the job's supervisor restates on its
    #: own (older ones only on demand, `footfall restate`); 0: never on its own.
    auto_days: int = Field(2, ge=0)
    #: Minutes between two looks for closed days not yet final by the job's supervisor.
    every_minutes: float = Field(10.0, ge=0)


S = TypeVar("S", bound=_Settings)


def load(cls: type[S]) -> S:
    """Build a settings object; an invalid value raises a one-line `ConfigError`."""
    try:
        return cls()
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        alias = cls.model_fields[field].alias if field in cls.model_fields else None
        name = (alias or cls.env_name(field)) if field else cls.__name__
        raise ConfigError(f"{name}={first.get('input')!r}: {first['msg']}") from None


class Settings:
    """All components' settings, each loaded on first use."""

    PARTS: ClassVar[tuple[str, ...]] = (
        "kafka", "clickhouse", "redis", "postgres", "flink", "dashboard", "metrics", "job", "stack", "privacy",
        "expected", "alerts", "restate")

    @classmethod
    def of(cls, environment: Mapping[str, str]) -> Settings:
        """The settings a process started with `environment` (on top of ours) sees. Every
        part is loaded at once: on first use it would read our own environment instead."""
        saved = dict(os.environ)
        os.environ.update(environment)
        try:
            settings = cls()
            for part in cls.PARTS:
                getattr(settings, part)
            return settings
        finally:
            os.environ.clear()
            os.environ.update(saved)

    @cached_property
    def kafka(self) -> KafkaSettings:
        return load(KafkaSettings)

    @cached_property
    def clickhouse(self) -> ClickHouseSettings:
        return load(ClickHouseSettings)

    @cached_property
    def redis(self) -> RedisSettings:
        return load(RedisSettings)

    @cached_property
    def postgres(self) -> PostgresSettings:
        return load(PostgresSettings)

    @cached_property
    def flink(self) -> FlinkSettings:
        return load(FlinkSettings)

    @cached_property
    def dashboard(self) -> DashboardSettings:
        return load(DashboardSettings)

    @cached_property
    def metrics(self) -> MetricSettings:
        return load(MetricSettings)

    @cached_property
    def job(self) -> JobSettings:
        return load(JobSettings)

    @cached_property
    def stack(self) -> StackSettings:
        return load(StackSettings)

    @cached_property
    def privacy(self) -> PrivacySettings:
        return load(PrivacySettings)

    @cached_property
    def expected(self) -> ExpectedSettings:
        return load(ExpectedSettings)

    @cached_property
    def alerts(self) -> AlertSettings:
        return load(AlertSettings)

    @cached_property
    def restate(self) -> RestateSettings:
        return load(RestateSettings)
