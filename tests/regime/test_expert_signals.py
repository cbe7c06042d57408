"""The engine's expert signals: the local vol_profile_dev kernel against a pandas reference, and
the column-major signal array against the registry's signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.indicators.registry import get_indicator
from phi.indicators.signals import rms_scale
from phi.regime.config import MFTConfig
from phi.regime.experts import _VPD_WINDOW, LOCAL_EXPERTS, expert_signal_array, expert_signals
from tests.conftest import make_ohlcv
from tests.indicators import frames


def _vpd_pandas(df: pd.DataFrame) -> np.ndarray:
    """vol_profile_dev from pandas' rolling sums (the reference)."""
    c = df["close"].to_numpy(dtype=np.float64)
    v = np.maximum(df["volume"].to_numpy(dtype=np.float64), 0.0)
    pv = pd.Series(c * v).rolling(_VPD_WINDOW, min_periods=_VPD_WINDOW).sum().to_numpy()
    vs = pd.Series(v).rolling(_VPD_WINDOW, min_periods=_VPD_WINDOW).sum().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        vwma = pv / vs
        dev = np.where(vs > 0, (c - vwma) / vwma, np.where(np.isnan(vs), np.nan, 0.0))
    return -rms_scale(dev, start=_VPD_WINDOW - 1) + 0.0


def test_vol_profile_dev_matches_pandas_rolling_sums() -> None:
    """Windows summed afresh instead of pandas' running compensated sums: the same to ~1e-15
    relative in the sums, 1e-12 in the signal; a window of zero volumes gives exactly 0."""
    df = make_ohlcv(900, 4)
    vol = df["volume"].to_numpy().copy()
    vol[200:260] = 0.0  # zero-volume stretch: 0, never noise divided by noise
    vol[500] = np.nan  # NaN for one window's length
    df["volume"] = vol
    got, ref = LOCAL_EXPERTS["vol_profile_dev"][0](df), _vpd_pandas(df)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got, ref, rtol=0.0, atol=1e-12)
    assert (got[230:260] == 0.0).all()


@pytest.mark.parametrize("maker", ["ohlcv", "zero_volume", "gaps", "partly_flat", "flat"])
def test_signal_array_is_the_registry_signals(maker: str) -> None:
    """The array path (the indicators' batch implementations on the frame's columns) gives
    each registry indicator's ``compute`` output bit for bit, also on degenerate frames."""
    df = make_ohlcv(700, 2) if maker == "ohlcv" else getattr(frames, maker)(700)
    names = list(MFTConfig().experts.validity)
    arr = expert_signal_array(df, names)
    assert arr.flags.f_contiguous and arr.shape == (len(df), len(names))
    frame = expert_signals(df, names)
    np.testing.assert_array_equal(frame.to_numpy(), arr)
    for j, name in enumerate(names):
        if name not in LOCAL_EXPERTS:
            spec = get_indicator(name)
            np.testing.assert_array_equal(arr[:, j], spec.compute(df, **spec.defaults).to_numpy())
