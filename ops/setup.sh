#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to run Footfall, then the project itself:
#   1. Debian packages: Java 17, ClickHouse, Redis, PostgreSQL, Chromium (as root; otherwise
#      one message listing them),
#   2. a virtual environment in .venv with the project installed editable (re-done only when
#      pyproject.toml changes),
#   3. the Flink connector jars and the project's Java functions (ops.jars).
# A second run finds everything in place and changes nothing.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=.venv
PYTHON=${PYTHON:-python3}

say() { printf 'setup: %s\n' "$*"; }

# --- 1. Debian packages ---------------------------------------------------------------
missing=()
has_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ] 2>/dev/null; then
    missing+=(openjdk-17-jre-headless)
fi
# javac compiles the project's Java functions (udfs/java) against the Flink wheel's jars.
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
for pkg in clickhouse-server clickhouse-client redis-server postgresql chromium; do
    has_pkg "$pkg" || missing+=("$pkg")
done
if ! "$PYTHON" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    missing+=(python3 python3-venv)
fi

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: not root, so cannot install the Debian packages this machine lacks; run: sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    say "installing ${missing[*]}"
    # The packages must not start their own system services: they would take the ports the
    # project's own services use. policy-rc.d is Debian's switch for that.
    added_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        added_policy=yes
    fi
    trap 'if [ -n "$added_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. Python environment ------------------------------------------------------------
stamp="$VENV/.footfall-installed"
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing the project and its pinned dependencies into $VENV (a few minutes the first time)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test,bench,check]'
    echo "$want" >"$stamp"
fi

# --- 3. Flink connector jars and the project's Java functions -----------------------
"$VENV/bin/python" -m ops.jars

say "ready ($VENV, Java $(java_major), ClickHouse, Redis, PostgreSQL, Chromium)"
