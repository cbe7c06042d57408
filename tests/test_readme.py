"""The README's Python examples run, and what they print is what the README says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*\n(?:prints|gives)\s*\n+```text\n(.*?)```)?", re.S)


def _examples() -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("code, expected", _examples(), ids=lambda v: (v or "")[:40])
def test_readme_example(code, expected):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    if expected is not None:
        assert out.getvalue().strip() == expected.strip()
