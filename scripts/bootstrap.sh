#!/usr/bin/env bash
# Create .venv (with uv inside it) and install Phi-nance with the given extras.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/uv pip install --quiet --python .venv/bin/python -e "$spec"
echo "Phi-nance is installed in .venv: 'source .venv/bin/activate' puts phi and python on this shell's PATH (or call .venv/bin/phi)." >&2
