"""Target-weight builders: hand-worked values and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.weights import (
    equal_weight,
    inverse_vol_weights,
    momentum_rotation_weights,
    top_n_momentum,
)
from phi.errors import ConfigError


def _closes(n: int = 80, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2022-01-03", periods=n, tz="UTC")
    data = 100 * np.cumprod(1 + rng.normal(0, 0.02, (n, 4)), axis=0)
    c = pd.DataFrame(data, index=idx, columns=list("ABCD"))
    if n > 30:
        c.iloc[30, 2] = np.nan  # C misses a bar
    return c


def test_top_n_momentum_by_hand():
    c = pd.DataFrame(
        {"A": [10.0, 11.0, 12.0, 12.0], "B": [10.0, 12.0, 12.0, 15.0], "C": [10.0, 9.0, 12.0, 12.5]}
    )
    w = top_n_momentum(c, lookback=2, n=2)
    assert w.iloc[:2].isna().all().all()  # no 2-bar momentum yet
    # bar 2: A +20 %, B +20 %, C +20 % -> ties go to the earlier columns A, B
    assert w.iloc[2].tolist() == [0.5, 0.5, 0.0]
    # bar 3: A 12/11, B 15/12, C 12.5/9 -> C and B
    assert w.iloc[3].tolist() == [0.0, 0.5, 0.5]


def test_momentum_rotation_rows_only_every_n():
    c = _closes()
    w = momentum_rotation_weights(c, lookback=20, every=5)
    rows = np.flatnonzero(w.notna().any(axis=1).to_numpy())
    assert rows[0] == 20 and (np.diff(rows) % 5 == 0).all()
    assert (w.iloc[rows].sum(axis=1) == 1.0).all()


def test_equal_weight_counts_started_symbols():
    c = pd.DataFrame({"A": [1.0, 1.0, np.nan, 1.0], "B": [np.nan, 2.0, 2.0, 2.0]})
    w = equal_weight(c)
    assert w.iloc[0].tolist() == [1.0, 0.0]
    assert w.iloc[2].tolist() == [0.5, 0.5]  # A's missing bar does not drop it


def test_inverse_vol_by_hand():
    c = _closes(40)
    w = inverse_vol_weights(c, lookback=10)
    t = 25
    r = c.iloc[t - 10 : t + 1].pct_change(fill_method=None).iloc[1:]
    inv = 1 / r.std(ddof=1)
    np.testing.assert_allclose(w.iloc[t].to_numpy(), (inv / inv.sum()).to_numpy(), rtol=1e-12)
    assert w.iloc[:10].isna().all().all()
    assert w.iloc[35, 2] == 0.0  # C's window holds its missing bar: no volatility, no weight
    assert w.iloc[35].sum() == pytest.approx(1.0)


def test_inverse_vol_after_a_jump_is_each_windows_own():
    """A 300 % move leaves the window: the quiet windows after it get their own volatility
    (pandas' running sums were 0.3 % off there), so the weights match the by-hand ones."""
    c = _closes(120)
    quiet = np.random.default_rng(1).normal(0.0, 1e-6, 120)
    c.iloc[:, 0] = 100 * np.cumprod(1 + quiet)
    c.iloc[40:, 0] *= 4.0  # A, quiet, jumps once
    w = inverse_vol_weights(c, lookback=10)
    for t in (60, 90, 119):
        r = c.iloc[t - 10 : t + 1].pct_change(fill_method=None).iloc[1:]
        inv = 1 / r.std(ddof=1).to_numpy()
        inv = np.where(np.isfinite(inv), inv, 0.0)
        np.testing.assert_allclose(w.iloc[t].to_numpy(), inv / inv.sum(), rtol=1e-9)


@pytest.mark.parametrize(
    "build",
    [
        lambda c: top_n_momentum(c, 10, 2),
        lambda c: momentum_rotation_weights(c, 10, 3),
        equal_weight,
        lambda c: inverse_vol_weights(c, 7),
    ],
)
def test_no_look_ahead(build):
    c = _closes()
    full = build(c)
    for k in (15, 31, 50):
        part = build(c.iloc[:k])
        pd.testing.assert_frame_equal(part, full.iloc[:k])


def test_bad_arguments():
    c = _closes(10)
    with pytest.raises(ConfigError, match="lookback"):
        top_n_momentum(c, lookback=0)
    with pytest.raises(ConfigError, match="only 4 symbols"):
        top_n_momentum(c, n=5)
    with pytest.raises(ConfigError, match="DataFrame"):
        equal_weight(c["A"])  # type: ignore[arg-type]
