#!/usr/bin/env bash
# Create .venv (with uv inside it) and install Phi-nance with the given extras.
# Usage: scripts/bootstrap.sh [extras]   e.g. scripts/bootstrap.sh dev,ml
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
# The [ml] extra pins torch==2.13.0: pip takes that release's CPU build where it lies on disk
# (uv does not look there and an unpinned torch resolves to a multi-GB CUDA build), so pip
# installs torch first and uv then finds it satisfied.
case ",$extras," in
    *,ml,*)
        if ! .venv/bin/python -c "import importlib.metadata as m, sys; sys.exit(m.version('torch').split('+')[0] != '2.13.0')" 2>/dev/null; then
            .venv/bin/python -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
        fi
        ;;
esac
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/uv pip install --quiet --python .venv/bin/python -e "$spec"
echo "Phi-nance is installed in .venv: 'source .venv/bin/activate' puts phi and python on this shell's PATH (or call .venv/bin/phi)." >&2
