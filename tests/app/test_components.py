"""Units of the workbench: display downsampling, background runs with cancel, theme, launch."""

from __future__ import annotations

import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app_streamlit import charts, serve, styles
from app_streamlit.jobs import RunJob
from phi.backtest.run_config import BlendConfig, DatasetSpec, RunConfig
from phi.backtest.run_history import list_runs
from tests.app.conftest import _decode
from tests.conftest import make_ohlcv

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------- downsampling


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=0, max_size=3000),
    cap=st.integers(4, 500),
)
def test_minmax_keeps_extremes_endpoints_and_the_cap(values, cap):
    y = np.asarray(values, dtype=float)
    idx = charts.minmax_indices(y, cap)
    assert (np.diff(idx) > 0).all()
    if len(y) <= cap:
        assert idx.tolist() == list(range(len(y)))
        return
    assert len(idx) <= cap and idx[0] == 0 and idx[-1] == len(y) - 1
    finite = ~np.isnan(y)
    if finite.any():
        assert np.nanmax(y[idx]) == np.nanmax(y) and np.nanmin(y[idx]) == np.nanmin(y)


def test_ohlc_buckets_merge_bars_exactly():
    df = make_ohlcv(1003, seed=3)
    candles, k = charts.ohlc_buckets(df, 100)
    assert k == 11 and len(candles) == 92
    for i in (0, 45, 91):
        part = df.iloc[i * k : (i + 1) * k]
        row = candles.iloc[i]
        assert candles.index[i] == part.index[0]
        assert (row["open"], row["high"], row["low"], row["close"]) == (
            part["open"].iloc[0], part["high"].max(), part["low"].min(), part["close"].iloc[-1],
        )  # fmt: skip


def test_a_million_bars_send_at_most_ten_thousand_points_per_trace():
    n = 1_000_000
    idx = pd.date_range("2000-01-03", periods=n, freq="min", tz="UTC")
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1e-4, n)))
    frame = pd.DataFrame({"open": close, "high": close * 1.001, "low": close * 0.999, "close": close, "volume": 1.0}, index=idx)
    equity = pd.Series(close * 1000, index=idx)
    trades = pd.DataFrame(
        {
            "entry_time": idx[:50_000:2], "exit_time": idx[1:50_000:2], "side": "long",
            "entry_price": close[:50_000:2], "exit_price": close[1:50_000:2], "pnl": rng.normal(0, 1, 25_000),
            "exit_reason": "signal", "open": False,
        }
    )  # fmt: skip
    figs = [
        charts.price_chart(frame, "x", trades),
        charts.equity_chart(equity, 100_000.0),
        charts.lines_chart({"a": equity, "b": equity * 2}, title="x"),
        charts.trade_pnl_chart(trades),
        charts.overlay_chart(pd.DataFrame({"r1": equity, "r2": equity})),
    ]
    for chart in figs:
        spec = _decode(charts.figure_spec(chart.figure))
        assert max(len(t.get("x") or []) for t in spec["data"]) <= charts.MAX_POINTS
        assert chart.thinned and "display thinned" in spec["layout"]["title"]["text"]
    eq = _decode(charts.figure_spec(figs[1].figure))["data"][0]["y"]
    assert max(eq) == equity.max() and min(eq) == equity.min()


# ---------------------------------------------------------------------------- background runs


def _long_config() -> RunConfig:
    return RunConfig(
        DatasetSpec("DEMO", start="2004-01-01", end="2024-12-31"),
        ["rsi", "macd"],
        blend=BlendConfig("phiai", {"step": 1, "train_bars": 100}),
    )


# An asynchronous cancel (PyThreadState_SetAsyncExc) lands at the worker's next bytecode, which
# may be inside a gc callback (hypothesis installs one) or a __del__: CPython then reports it as
# unraisable and the job stops at its next progress call instead, which this test asserts.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_cancel_stops_a_long_run_mid_blend_and_saves_nothing():
    job = RunJob(_long_config()).start()
    deadline = time.monotonic() + 60
    while job.stage != "blend" and not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.stage == "blend"
    time.sleep(0.2)
    assert job.cancel()
    assert job.wait(30)
    assert job.cancelled and job.error is None and job.result is None
    assert [s for s, _ in job.timings] == ["data", "indicators", "blend"]
    assert list_runs() == []
    assert not job.cancel()  # already finished


def test_cancel_between_stages_raises_in_the_progress_callback():
    calls = []

    def runner(config, *, save, progress):
        progress("data", 0.0)
        calls.append("data")
        job.cancel()  # lands at the next stage boundary (or sooner)
        progress("indicators", 0.25)
        calls.append("indicators")  # pragma: no cover - never reached
        return None

    job = RunJob(object(), runner=runner)
    job.start().wait(5)
    assert job.cancelled and calls == ["data"]


def test_errors_and_warnings_are_kept_for_the_page():
    import warnings

    def failing(config, *, save, progress):
        progress("data", 0.0)
        warnings.warn("bars changed", UserWarning, stacklevel=1)
        from phi.errors import DataError

        raise DataError("no bars for X")

    job = RunJob(object(), runner=failing).start()
    job.wait(5)
    assert str(job.error) == "no bars for X" and not job.cancelled


def test_a_saving_run_cannot_be_cancelled():
    def runner(config, *, save, progress):
        progress("save", 0.9)
        assert not job.cancel()
        progress("done", 1.0)
        return "result"

    job = RunJob(object(), runner=runner)
    job.start().wait(5)
    assert job.result == "result" and not job.cancelled


# ---------------------------------------------------------------------------- theme and launch


def test_config_toml_mirrors_the_theme():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["theme"] == styles.THEME
    assert styles.THEME["primaryColor"] == "#a855f7" and styles.THEME["backgroundColor"] == "#0a0a12"
    assert styles.ORANGE == "#f97316"


def test_serve_passes_the_theme_and_the_entry_script():
    args = serve.streamlit_args(8765, "127.0.0.1")
    assert args[:2] == ["run", str(ROOT / "app_streamlit" / "live_workbench.py")]
    assert "--server.port=8765" in args and "--server.headless=true" in args
    assert "--theme.primaryColor=#a855f7" in args and "--theme.base=dark" in args


def test_phi_workbench_execs_the_server(monkeypatch):
    from phi import cli

    seen = {}

    def fake_execv(path, argv):
        seen["argv"] = argv
        raise SystemExit(0)

    monkeypatch.setattr("os.execv", fake_execv)
    assert cli.main(["workbench", "--port", "8777", "--no-browser"]) == 0
    assert seen["argv"][:3] == [sys.executable, "-m", "app_streamlit.serve"]
    assert seen["argv"][3:] == ["--port", "8777", "--address", "localhost", "--no-browser"]


def test_warm_up_runs_in_memory(tmp_path, monkeypatch, _isolated_phi_home):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    assert serve.warm_up() >= 0
    assert list(work.iterdir()) == [] and list(_isolated_phi_home.iterdir()) == []  # nothing written


@pytest.mark.parametrize("flag", ["--help"])
def test_serve_help(flag, capsys):
    with pytest.raises(SystemExit):
        serve.main([flag])
    assert "--no-browser" in capsys.readouterr().out
