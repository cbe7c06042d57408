#!/usr/bin/env bash
# Install Phi-nance and start the workbench (http://localhost:8501) with the offline demo
# dataset preselected. Extra arguments go to `phi workbench` (e.g. --port 8600 --no-browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/phi workbench "$@"
