#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev,ml
echo "== ruff" && .venv/bin/ruff check phi app_streamlit tests benchmarks run_backtest.py
echo "== mypy" && .venv/bin/mypy
echo "== pytest" && .venv/bin/python -m pytest -q --durations=20 "$@"
