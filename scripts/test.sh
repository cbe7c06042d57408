#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,ml
echo "== ruff" && .venv/bin/ruff check phi app_streamlit tests benchmarks run_backtest.py
echo "== mypy" && .venv/bin/mypy
# Two worker processes (pytest-xdist), one per core of the 2-core machines we test on: every
# test has its own PHI_HOME, ports and servers, and the workbench tests compile the kernels in
# each worker's main thread first (tests/conftest.py: warm_kernels). PHI_TEST_WORKERS=0: one process.
echo "== pytest" && .venv/bin/python -m pytest -q -n "${PHI_TEST_WORKERS:-2}" --durations=20 "$@"
