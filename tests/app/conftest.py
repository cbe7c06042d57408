"""AppTest helpers: start the workbench headless, read what the page shows, decode figure JSON."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

ENTRY = Path(__file__).resolve().parents[2] / "app_streamlit" / "live_workbench.py"
TIMEOUT = 120


@pytest.fixture(autouse=True)
def _warm(warm_kernels: None) -> None:
    """Every workbench test runs with the kernels compiled in the main thread (tests/conftest.py)."""


def start(**state: Any) -> AppTest:
    """The workbench after its first script run (the demo dataset loads by itself)."""
    at = AppTest.from_file(str(ENTRY), default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


@pytest.fixture
def app() -> AppTest:
    at = start()
    assert_clean(at)
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def warnings_(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def assert_clean(at: AppTest) -> None:
    """No exception, no error box, nothing 'unexpected'."""
    assert not at.exception, [e.value for e in at.exception]
    assert not errors(at), errors(at)


def html_text(at: AppTest) -> str:
    """All st.html / markdown text of the page (ribbons, labels)."""
    parts = [str(getattr(el.proto, "body", "")) for el in at.get("html")]
    parts += [m.value for m in at.markdown]
    parts += [c.value for c in at.caption]
    return "\n".join(parts)


def _decode(obj: Any) -> Any:
    """Plotly's typed-array encoding ({"dtype", "bdata"}) back to lists."""
    if isinstance(obj, dict):
        if set(obj) >= {"dtype", "bdata"}:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                arr = arr.reshape([int(s) for s in str(obj["shape"]).split(",")])
            return arr.tolist()
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def figures(at: AppTest) -> dict[str, dict[str, Any]]:
    """Every plotly chart on the page by its widget key (the figure JSON Streamlit sends)."""
    out = {}
    for i, chart in enumerate(at.get("plotly_chart")):
        ident = str(chart.proto.id)
        key = ident.split("-", 2)[2] if ident.startswith("$$ID-") and ident.count("-") >= 2 else str(i)
        out[key] = _decode(json.loads(chart.proto.spec))
    return out


def figure(at: AppTest, key: str) -> dict[str, Any]:
    figs = figures(at)
    assert key in figs, f"no chart {key!r}; charts: {list(figs)}"
    return figs[key]


def n_points(spec: dict[str, Any]) -> int:
    """Largest number of x values any trace of a figure sends."""
    return max((len(t.get("x") or []) for t in spec["data"]), default=0)


def run_backtest(at: AppTest) -> AppTest:
    at.button(key="run:go").click().run()
    return at


def tables(at: AppTest, *columns: str) -> list[Any]:
    """Every st.dataframe on the page (as pandas) that has all of ``columns``."""
    return [d.value for d in at.dataframe if set(columns) <= set(map(str, d.value.columns))]


def open_tab(at: AppTest, label: str, prefix: str = "res") -> AppTest:
    """Select a results tab (only the open tab is computed) and re-run the page."""
    at.session_state[f"{prefix}:tabs"] = label
    return at.run()
