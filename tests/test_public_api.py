"""The names ``phi`` exports resolve, and importing ``phi`` loads nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import phi


def test_every_exported_name_resolves():
    for name in phi.__all__:
        assert getattr(phi, name) is not None, name


def test_import_phi_is_cheap():
    code = "import sys, phi; print(any(m in sys.modules for m in ('numba', 'pandas', 'pyarrow', 'requests')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
