"""The one-pass kernel of the direction level features against the same features written out
with NumPy and the plain rolling-mean kernel (the implementation it replaced): bit-identical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.regime import _nb
from phi.regime.config import LevelConfig
from phi.regime.levels import level_features, volume_gate


def _mean(x: np.ndarray, w: int) -> np.ndarray:
    return _nb.rolling_mean_nb(x, w, max(w // 2, 2))


def _tscore(m: np.ndarray, q: np.ndarray, w: int) -> np.ndarray:
    sd = np.sqrt(np.maximum(q - m * m, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(sd > 0, m * np.sqrt(w) / sd, 0.0)
    return np.where(np.isnan(m), np.nan, np.clip(t, -10.0, 10.0))


def _variance_ratio(r0: np.ndarray, q: np.ndarray, k: int, w: int) -> np.ndarray:
    cs = np.cumsum(r0)
    rk = np.full_like(r0, np.nan)
    rk[k:] = cs[k:] - cs[:-k]
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = _mean(rk * rk, w) / (k * q)
    return np.where(np.isfinite(vr), np.clip(vr, 0.0, 5.0), np.nan)


def _reference(ohlcv: pd.DataFrame, lc: LevelConfig) -> dict[str, np.ndarray]:
    spans = (2.0 / (lc.vol_fast + 1.0), 2.0 / (lc.vol_slow + 1.0), 2.0 / (lc.vol_ref + 1.0))
    c = ohlcv["close"].to_numpy(dtype=np.float64)
    raw = np.full(c.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw[1:] = np.log(c[1:] / c[:-1])
    r = _nb.vol_levels_nb(raw, *spans, lc.jump_clip)[2]
    r0 = np.nan_to_num(r, nan=0.0)
    w = lc.trend_window
    valid = np.where(np.isnan(r), np.nan, 1.0)
    q = _mean(r * r, w)
    t_long = _tscore(_mean(r, w), q, w)
    lag = np.full_like(r, np.nan)
    lag[1:] = r[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ac = _mean(r * lag, w) / q
    s = lc.short_window
    t_short = _tscore(_mean(r, s), _mean(r * r, s), s)
    return {
        f"lvl_abs_t_{w}": np.abs(t_long),
        f"lvl_vr_5_{w}": _variance_ratio(r0, q, 5, w) * valid,
        f"lvl_vr_10_{lc.vr_long}": _variance_ratio(r0, _mean(r * r, lc.vr_long), 10, lc.vr_long) * valid,
        f"lvl_ac1_{w}": np.where(np.isfinite(ac), np.clip(ac, -1.0, 1.0), np.nan),
        "lvl_rev": np.maximum(0.0, -np.sign(t_long) * t_short),
    }


def _frames() -> list[pd.DataFrame]:
    rng = np.random.default_rng(3)
    n = 3000
    close = 100.0 * np.exp(np.cumsum(rng.standard_t(4, n) * 0.01 + 0.0005 * np.sin(np.arange(n) / 150)))
    df = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": 1e5},
                      index=pd.date_range("2020-01-01", periods=n, freq="h"))
    gaps = df.copy()
    gaps.iloc[400:450, :4] = np.nan  # a gap longer than the short window
    gaps.iloc[1000:1003, 3] = np.nan
    flat = df.copy()
    flat.iloc[1500:2200, :4] = 100.0  # flat: zero variance, 0 / 0 ratios
    return [df, gaps, flat, df.iloc[:40]]


@pytest.mark.parametrize("lc", [LevelConfig(), LevelConfig(trend_window=60, short_window=10, vr_long=100, energy={})])
def test_direction_levels_bit_identical_to_the_numpy_reference(lc: LevelConfig) -> None:
    for df in _frames():
        got = level_features(df, lc)
        for name, ref in _reference(df, lc).items():
            np.testing.assert_array_equal(got[name].to_numpy(), ref, err_msg=name)
        short, w = min(lc.er), lc.trend_window  # w is one of lc.er in both configs
        np.testing.assert_array_equal(
            got["lvl_er_shift"].to_numpy(), got[f"lvl_er_{short}"].to_numpy() - got[f"lvl_er_{w}"].to_numpy()
        )
        np.testing.assert_array_equal(
            got["lvl_vol_trend"].to_numpy(), got["lvl_vol_fast"].to_numpy() - got["lvl_vol_slow"].to_numpy()
        )


def _volume_gate_reference(ohlcv: pd.DataFrame, lc: LevelConfig) -> np.ndarray:
    v = ohlcv["volume"].to_numpy(dtype=np.float64, na_value=np.nan)
    c = ohlcv["close"].to_numpy(dtype=np.float64)
    ok = np.isfinite(v) & (v > 0)
    lv = np.where(ok, np.log(np.where(ok, v, 1.0)), np.nan)
    a = np.full(c.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        a[1:] = np.abs(np.log(c[1:] / c[:-1]))
    a = np.where(ok, a, np.nan)
    lv = np.where(np.isnan(a), np.nan, lv)
    w = lc.volume_window
    mx, my = _mean(lv, w), _mean(a, w)
    cov = _mean(lv * a, w) - mx * my
    vx = _mean(lv * lv, w) - mx * mx
    vy = _mean(a * a, w) - my * my
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where((vx > 1e-12 * np.maximum(mx * mx, 1.0)) & (vy > 0), cov / np.sqrt(vx * vy), 0.0)
    corr = np.nan_to_num(corr, nan=0.0)
    gate = (corr - lc.volume_corr_floor) / (lc.volume_corr_full - lc.volume_corr_floor)
    return np.clip(gate, 0.0, 1.0)


@pytest.mark.parametrize("window", [250, 20])
def test_volume_gate_bit_identical_to_the_numpy_reference(window: int) -> None:
    lc = LevelConfig(volume_window=window)
    base = _frames()[0]
    informative = base.copy()  # volume driven by |r|: a gate near 1
    informative["volume"] = np.abs(np.log(base["close"]).diff().fillna(0.0)) * 1e9 + 1.0
    informative.iloc[2000:2300, 4] = 0.0  # absent volume: gate 0 there
    for df in [*_frames(), informative]:
        gate = volume_gate(df, lc)
        np.testing.assert_array_equal(gate, _volume_gate_reference(df, lc))
    assert volume_gate(informative, lc)[500:2000].mean() > 0.5


@pytest.mark.parametrize(
    "index",
    [
        pd.date_range("2019-03-01 09:30", periods=2000, freq="h", tz="America/New_York"),  # DST switches
        pd.date_range("1965-03-01 00:15", periods=2000, freq="30min", tz="Europe/Berlin"),  # before 1970
        pd.date_range("2020-01-01", periods=2000, freq="17s"),  # seconds within a minute
        pd.date_range("2020-01-01", periods=50, freq="D"),
    ],
)
def test_slots_partition_bars_by_wall_clock_minute(index: pd.DatetimeIndex) -> None:
    from phi.regime.levels import _slots

    code, n_slots = _slots(index)
    ref_code, uniques = pd.factorize(np.asarray(index.hour * 60 + index.minute))
    assert n_slots == len(uniques)
    assert len(set(zip(code.tolist(), ref_code.tolist(), strict=True))) == n_slots  # one-to-one
