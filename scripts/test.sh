#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,ml
echo "== ruff" && .venv/bin/ruff check phi app_streamlit tests benchmarks run_backtest.py
echo "== mypy" && .venv/bin/mypy
# Two worker processes (pytest-xdist), one per core: every test has its own PHI_HOME, ports and
# servers, so they run side by side (27.8 min in one process, 12.3 min in two on a 2-core host).
echo "== pytest" && .venv/bin/python -m pytest -q -n 2 --durations=20 "$@"
