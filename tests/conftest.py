"""Shared fixtures. Every test gets its own PHI_HOME so nothing is written to the checkout."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# CI and the README's test command are deterministic: every property test replays the same
# examples (derandomize). `HYPOTHESIS_PROFILE=explore` searches fresh random examples locally.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def _session_phi_home(tmp_path_factory):
    """PHI_HOME for module- and session-scoped fixtures, which run before the per-test one:
    nothing a test does ever writes ./data_cache or ./runs into the checkout."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(tmp_path_factory.mktemp("session_phi_home")))
        yield


@pytest.fixture(autouse=True)
def _isolated_phi_home(tmp_path, monkeypatch):
    home = tmp_path / "phi_home"
    home.mkdir()
    monkeypatch.setenv("PHI_HOME", str(home))
    monkeypatch.delenv("ALPHAVANTAGE_API_KEY", raising=False)
    return home


@pytest.fixture(scope="session")
def warm_kernels(_session_phi_home):
    """Compile (or load) the numba kernels in the main thread before a workbench test runs,
    as ``phi workbench`` does before serving (:func:`app_streamlit.serve.warm_up`), plus the
    regime engine's and the PhiAI tuner's; then collect the compiler's garbage here. A workbench test otherwise
    compiles them in its script and job threads on a fresh clone, and llvmlite objects freed
    by the garbage collector in one thread while another compiles have crashed the process
    (a segfault in ``ModuleRef._dispose``, once in a CI run)."""
    import gc

    from app_streamlit.serve import warm_up
    from phi.data.demo import generate_demo
    from phi.phiai.tuner import PhiAITuner
    from phi.regime.engine import RegimeEngine

    warm_up()
    frame = generate_demo("DEMO", "2019-01-01", "2020-12-31")
    RegimeEngine().run(frame)
    # the PhiAI tuner's (segment sweep, batched TPE past its random start, luck statistics): a
    # workbench PhiAI search runs them in a job thread (2-3 minutes to compile on a cold cache,
    # which a cancel test would otherwise wait for under pytest-xdist)
    PhiAITuner(frame, candidates=["rsi"], folds=3).tune_indicator("rsi", n_trials=40)
    gc.collect()


@pytest.fixture
def cwd(tmp_path, monkeypatch, _isolated_phi_home):
    """An empty working directory (``tmp_path / "cwd"``) the test runs in, beside its PHI_HOME:
    what the CLI tests check nothing is written to."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def make_ohlcv(n: int = 500, seed: int = 0, start: str = "2020-01-01", freq: str = "B") -> pd.DataFrame:
    """A real-looking random-walk OHLCV frame (UTC index, float64 columns)."""
    rng = np.random.default_rng(seed)
    rets = rng.normal(0.0003, 0.015, n)
    close = 100.0 * np.exp(np.cumsum(rets))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.006, n)))
    volume = rng.integers(1_000, 100_000, n).astype("float64")
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )


@pytest.fixture
def ohlcv() -> pd.DataFrame:
    return make_ohlcv()
