#!/usr/bin/env bash
# Install Phi-nance and run the main job on the built-in offline demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/phi demo "$@"
