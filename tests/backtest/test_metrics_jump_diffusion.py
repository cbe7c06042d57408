"""Engine metrics against empyrical on another process family: jump diffusion with fat tails.

``test_metrics.py`` checks a Gaussian random walk. Here the returns are Student-t (3 degrees of
freedom) with Poisson jumps, the opens gap away from the previous close (most on the jump
bars), and 10-15 % of the bars are missing (holidays and data gaps), on daily exchange bars,
daily 24/7 bars, hourly 24/7 bars and bars stamped in New York time. The daily returns are
rebuilt here independently of :func:`phi.backtest.metrics.daily_returns` — the last equity of
each calendar day (UTC for 24/7, the exchange's own date otherwise), the first day against the
initial capital — and fed to empyrical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine import EngineConfig, run_backtest

empyrical = pytest.importorskip("empyrical")


def _jump_diffusion(n: int, seed: int, freq: str, tz: str = "UTC", drop: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    r = 0.0003 + 0.012 * rng.standard_t(3, n) / np.sqrt(3.0)
    jumps = rng.random(n) < 0.02
    r[jumps] += rng.normal(-0.03, 0.08, int(jumps.sum()))
    c = 40.0 * np.exp(np.cumsum(r))
    gap = np.exp(rng.normal(0.0, 0.004, n))
    gap[jumps] = np.exp(0.7 * r[jumps])  # most of a jump happens overnight
    o = np.r_[c[0], c[:-1]] * gap
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0.0, 0.004, n)))
    low = np.minimum(o, c) * (1 - np.abs(rng.normal(0.0, 0.004, n)))
    idx = pd.date_range("2019-01-01", periods=n, freq=freq, tz=tz)
    df = pd.DataFrame({"open": o, "high": h, "low": low, "close": c, "volume": 1e4}, index=idx)
    return df[rng.random(n) >= drop]


def _signal(close: pd.Series) -> pd.Series:
    s = np.sign(close.rolling(5).mean() - close.rolling(20).mean())
    return s.where(s != 0)


CASES = {
    "daily exchange": (lambda: _jump_diffusion(1500, 1, "B"), "exchange", 252),
    "daily 24/7": (lambda: _jump_diffusion(1500, 2, "D"), "24/7", 365),
    "hourly 24/7": (lambda: _jump_diffusion(24 * 400, 3, "h", drop=0.15), "24/7", 365),
    "daily New York": (lambda: _jump_diffusion(1500, 4, "B", tz="America/New_York"), "exchange", 252),
}


@pytest.mark.parametrize("case", list(CASES))
def test_metrics_equal_empyrical_on_jumps_and_gaps(case: str) -> None:
    make, calendar, ann = CASES[case]
    df = make()
    cfg = EngineConfig(
        allow_short=True,
        stop_loss_pct=0.04,
        take_profit_pct=0.08,
        commission_pct=0.001,
        slippage_bps=3.0,
        calendar=calendar,
    )
    res = run_backtest(df, _signal(df["close"]), cfg)
    assert res.assumptions["periods_per_year"] == ann
    eq = res.equity
    day = eq.index.tz_convert("UTC") if calendar == "24/7" else eq.index.tz_localize(None)
    daily = eq.groupby(day.normalize()).last().to_numpy()
    r = np.r_[daily[0] / cfg.initial_capital - 1.0, daily[1:] / daily[:-1] - 1.0]
    m = res.metrics
    assert m["n_trades"] > 30
    rel = 1e-9
    assert m["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=ann), rel=rel)
    assert m["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=ann), rel=rel)
    assert m["annual_volatility"] == pytest.approx(empyrical.annual_volatility(r, annualization=ann), rel=rel)
    assert m["cagr"] == pytest.approx(empyrical.annual_return(r, annualization=ann), rel=rel)
    assert m["total_return"] == pytest.approx(empyrical.cum_returns_final(r), rel=rel)
    # max drawdown on every bar's equity (the metrics module's stated rule): for daily bars that
    # is empyrical's; intraday it also sees the troughs inside a day, so it is at least as deep
    path = np.r_[cfg.initial_capital, eq.to_numpy()]
    by_bar = float(np.min(path / np.maximum.accumulate(path) - 1.0))
    assert m["max_drawdown"] == pytest.approx(by_bar, rel=rel)
    if case.startswith("daily"):
        assert m["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=rel)
        assert m["calmar"] == pytest.approx(empyrical.calmar_ratio(r, annualization=ann), rel=rel)
    else:
        assert m["max_drawdown"] <= empyrical.max_drawdown(r) + 1e-12
