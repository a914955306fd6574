#!/usr/bin/env bash
# The whole test suite on a fresh machine: makes .venv, installs the project
# with its test extra (one pip resolve, see pyproject.toml), installs PostgreSQL's
# server binaries where missing (the tests make their own throwaway cluster with them),
# lints and type-checks, runs pytest.
# The sign-on pages are tested in Debian's Chromium, installed here where it is missing
# (Playwright's own browser download cannot work offline and is never attempted).
# Extra arguments go to pytest, e.g.  bash tests/run.sh -k config
# CAUCUS_TEST_DATABASES=sqlite runs the database tests on SQLite only.
# The suite runs in two processes (pytest-xdist; most of its time is spent waiting on
# Synapse, PostgreSQL and the bot's own processes): CAUCUS_TEST_WORKERS=0 runs it in one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${CAUCUS_TEST_DATABASES:-sqlite,postgresql}" == *postgresql* && -z "${CAUCUS_PG_BIN:-}" ]] \
        && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    echo "tests/run.sh: installing Debian's postgresql package (server binaries for the tests)"
    $SUDO apt-get install -y -qq postgresql > /dev/null \
        || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql > /dev/null; }
fi
PYTHON=${PYTHON:-python3}
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "tests/run.sh: installing Debian's chromium for the browser tests" >&2
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        chromium >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
.venv/bin/mypy  # files and settings: [tool.mypy] in pyproject.toml
exec .venv/bin/python -m pytest -n "${CAUCUS_TEST_WORKERS:-2}" "$@"
