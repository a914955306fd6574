#!/usr/bin/env bash
# The whole test suite on a fresh machine: makes .venv, installs the project
# with its test extra (one pip resolve, see pyproject.toml), lints and type-checks,
# runs pytest.
# Extra arguments go to pytest, e.g.  bash tests/run.sh -k config
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
.venv/bin/ruff check .
.venv/bin/mypy  # files and settings: [tool.mypy] in pyproject.toml
exec .venv/bin/python -m pytest "$@"
