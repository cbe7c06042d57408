"""Every registered indicator on bars it was not built on (issue: adversarial audit).

Hostile but valid bars the other indicator tests do not use (a limit-up staircase, bars with
high == low, a long flat stretch after a x10 gap, 5-minute / 24/7 / weekly stamps, volumes near
1e-9 and 1e15, a single traded bar), every parameter at both ends of its ParamSpec range,
frames of exactly the warm-up and warm-up + 1 bars, prefix invariance on a trending
regime-switching process and on a gappy one at several cuts, invariance to the price and
volume units, and the raw values against TA-Lib on those bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from phi.errors import DataError, IndicatorError
from phi.indicators.registry import INDICATORS, ON_DEMAND, compute_raw, compute_signal

#: The model indicators are trained (their own tests cover them: tests/ml); the regime engine's
#: two run on one frame each below (they take ~0.1 s a call).
MODELS = {"ml_classifier", "rl_agent"}
ENGINE = {"phibot", "phi_mft"}
NAMES = [n for n in INDICATORS if n not in MODELS | ENGINE and n not in ON_DEMAND]  # plutus needs a server


# ---------------------------------------------------------------------------- frames


def _bars(close: np.ndarray, seed: int, freq: str = "B", spread: float = 0.006) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(close)
    open_ = np.concatenate([[close[0]], close[:-1]]) * np.exp(rng.normal(0, spread / 2, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, spread, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, spread, n)))
    volume = rng.integers(1_000, 100_000, n).astype(np.float64)
    idx = pd.date_range("2020-01-01", periods=n, freq=freq, tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )


def random_walk(n: int = 400, seed: int = 0, freq: str = "B", scale: float = 100.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _bars(scale * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n))), seed, freq)


def regime_switching(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """Trending and mean-free stretches of 50 bars, calm and wild volatility."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.choice([-0.004, 0.0, 0.005], size=n // 50 + 1), 50)[:n]
    sd = np.repeat(rng.choice([0.005, 0.03], size=n // 50 + 1), 50)[:n]
    return _bars(100.0 * np.exp(np.cumsum(rng.normal(drift, sd))), seed)


def gappy(n: int = 400, seed: int = 2) -> pd.DataFrame:
    """Eight overnight gaps of -20 % / +25 % and 20 missing sessions."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0, 0.01, n + 20)
    r[rng.choice(n + 20, 8, replace=False)] += rng.choice([-0.2, 0.25], 8)
    df = _bars(50.0 * np.exp(np.cumsum(r)), seed)
    return df.drop(df.index[150:170])


def limit_up(n: int = 400) -> pd.DataFrame:
    """60 limit-up bars in a row (+10 % each, open == high == low == close), then trading resumes."""
    df = random_walk(n, 11)
    stair = df["close"].iloc[149] * 1.1 ** np.arange(1, 61)
    df.iloc[210:, :4] *= stair[-1] / df["close"].iloc[209]
    df.iloc[150:210, :4] = stair[:, None]
    return df


def high_eq_low(n: int = 400) -> pd.DataFrame:
    """Every bar a single print: open == high == low == close (close-only data as OHLC)."""
    df = random_walk(n, 12)
    df["open"] = df["high"] = df["low"] = df["close"]
    return df


def flat_after_gap(n: int = 400) -> pd.DataFrame:
    """A x10 gap, then 200 bars that never move: Wilder averages decay towards 1e-17 of the price."""
    df = random_walk(n, 31)
    df.iloc[200:, :4] = df["close"].iloc[199] * 10.0
    return df


def down_tenfold(n: int = 400) -> pd.DataFrame:
    df = random_walk(n, 8)
    df.iloc[200:, :4] /= 10.0
    return df


def tiny_volume(n: int = 400) -> pd.DataFrame:
    df = random_walk(n, 22, freq="h")  # 24/7 hourly bars of a coin traded in 1e-9 lots
    df["volume"] *= 1e-12
    return df


def huge_volume(n: int = 400) -> pd.DataFrame:
    df = random_walk(n, 23, freq="5min", scale=1e6)
    df["volume"] *= 1e12
    return df


def one_traded_bar(n: int = 400) -> pd.DataFrame:
    df = random_walk(n, 30, freq="W")
    df["volume"] = 0.0
    df.iloc[200, 4] = 1e6
    return df


def alternating(n: int = 400) -> pd.DataFrame:
    close = np.where(np.arange(n) % 2 == 0, 100.0, 101.0)
    df = _bars(close, 24)
    df["open"] = np.concatenate([[100.0], close[:-1]])
    df["high"] = df[["open", "close"]].max(axis=1)
    df["low"] = df[["open", "close"]].min(axis=1)
    return df


UNSEEN = {
    "limit_up": limit_up,
    "high_eq_low": high_eq_low,
    "flat_after_gap": flat_after_gap,
    "down_tenfold": down_tenfold,
    "tiny_volume_24_7": tiny_volume,
    "huge_volume_5m": huge_volume,
    "one_traded_bar_weekly": one_traded_bar,
    "alternating": alternating,
}


# ---------------------------------------------------------------------------- parameters


def edge_params(name: str) -> list[dict]:
    """Defaults, then each parameter at its low and at its high end (others at default; a pair
    bound by a constraint, fast < slow or lower < upper, moved together)."""
    spec = INDICATORS[name]
    d = spec.defaults
    out = [dict(d)]
    for p in spec.params:
        for v in (p.low, p.high):
            q = {**d, p.name: v}
            if spec.constraint is not None and spec.constraint(q):
                continue
            out.append(q)
    if "fast" in d:  # both ends of the pair
        f, s = spec.param("fast"), spec.param("slow")
        out.append({**d, "fast": f.low, "slow": max(s.low, f.low + 1)})
        out.append({**d, "fast": f.high, "slow": s.high})
    unique: list[dict] = []
    for q in out:
        if q not in unique:
            unique.append(q)
    return unique


CASES = [(name, params) for name in NAMES for params in edge_params(name)]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in p.items())}" for n, p in CASES]


def warmup(name: str, params: dict) -> int:
    spec = INDICATORS[name]
    return int(spec.warmup(spec.resolve(params)))


def check_contract(name: str, s: pd.Series, df: pd.DataFrame, warm: int) -> None:
    v = s.to_numpy()
    assert s.index.equals(df.index) and s.dtype == np.float64
    assert np.isnan(v[:warm]).all(), f"{name}: a value inside the warm-up of {warm}"
    assert np.isfinite(v[warm:]).all(), f"{name}: NaN/inf after the warm-up of {warm}"
    assert (np.abs(v[warm:]) <= 1.0).all(), f"{name}: a signal outside [-1, 1]"


# ---------------------------------------------------------------------------- the contract


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_hostile_bars_keep_the_signal_contract_at_the_range_ends(name, params):
    warm = warmup(name, params)
    for make in UNSEEN.values():
        df = make(max(400, warm + 60))
        check_contract(name, compute_signal(name, df, params), df, warm)
        assert np.isfinite(compute_raw(name, df, params).to_numpy()[warm + 1 :]).any()


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_exactly_the_warm_up_is_one_line_and_one_more_bar_gives_one_value(name, params):
    warm = warmup(name, params)
    df = limit_up(max(400, warm + 60))
    if warm > 0:
        with pytest.raises(IndicatorError, match="warm-up") as err:
            compute_signal(name, df.iloc[:warm], params)
        assert "\n" not in str(err.value)
    s = compute_signal(name, df.iloc[: warm + 1], params)
    check_contract(name, s, df.iloc[: warm + 1], warm)
    np.testing.assert_array_equal(
        s.to_numpy(), compute_signal(name, df, params).to_numpy()[: warm + 1]
    )


def test_a_nan_bar_in_the_middle_is_one_clear_line():
    df = regime_switching()
    df.iloc[200, 3] = np.nan
    for name in NAMES:
        with pytest.raises(DataError, match="NaN value") as err:
            compute_signal(name, df)
        assert "\n" not in str(err.value) and "dropna" in str(err.value)


def test_the_regime_engine_indicators_on_one_more_bar_than_their_warm_up():
    """Regression: phibot's warm-up is one bar shorter than the engine's (its "no call yet" 0 sits
    on the bar before the first composite), but on exactly warm-up + 1 bars it ran the engine,
    which refused the frame (DataError "needs more than 118 bars"): the prefix of a frame that
    computes had no signal. Now that bar is the 0 it is on the longer frame."""
    df = regime_switching(300)
    for name in sorted(ENGINE):
        warm = warmup(name, {})
        full = compute_signal(name, df).to_numpy()
        for k in (warm + 1, warm + 2, 257):
            part = compute_signal(name, df.iloc[:k])
            check_contract(name, part, df.iloc[:k], warm)
            np.testing.assert_array_equal(part.to_numpy(), full[:k])
    raw = compute_raw("phibot", df.iloc[: warmup("phibot", {}) + 1])
    assert raw["call"].isna().all() and raw["composite"].isna().all()


# ---------------------------------------------------------------------------- no look-ahead


@pytest.mark.parametrize(("name", "params"), CASES, ids=IDS)
def test_prefix_invariance_on_regime_switching_and_gappy_bars(name, params):
    """The value at bar t computed on bars[:t+1] equals the value computed on every bar, at cuts
    right after the warm-up and further on, for signals and raw values alike."""
    warm = warmup(name, params)
    for make in (regime_switching, gappy, flat_after_gap):
        df = make(max(400, warm + 120))
        full, full_raw = (
            compute_signal(name, df, params).to_numpy(),
            compute_raw(name, df, params).to_numpy(),
        )
        for k in (warm + 1, warm + 2, warm + 41, len(df) - 1):
            np.testing.assert_array_equal(
                compute_signal(name, df.iloc[:k], params).to_numpy(), full[:k]
            )
            np.testing.assert_array_equal(
                compute_raw(name, df.iloc[:k], params).to_numpy(), full_raw[:k]
            )


# ---------------------------------------------------------------------------- units


@pytest.mark.parametrize("name", NAMES)
def test_signals_do_not_depend_on_the_price_or_volume_unit(name):
    """Prices (or volumes) multiplied by a power of two are the same market in another unit (the
    products are exact in floating point): the signal must not change. An absolute epsilon
    breaks this; ADX did (DI set to 0 once the smoothed true range fell under 1e-14)."""
    for make in (flat_after_gap, limit_up, gappy):
        df = make()
        base = compute_signal(name, df).to_numpy()
        for k in (-40, 40):
            prices = df.copy()
            prices.iloc[:, :4] *= 2.0**k
            np.testing.assert_array_equal(compute_signal(name, prices).to_numpy(), base)
            volume = df.copy()
            volume["volume"] *= 2.0**k
            np.testing.assert_array_equal(compute_signal(name, volume).to_numpy(), base)


def test_adx_directional_indicators_after_a_long_flat_stretch():
    """Regression: after 200 unmoving bars the smoothed true range is ~1e-15 of the price. TA-Lib
    (>= 0.6: an exact zero test) keeps +DI 99.17 / -DI 0.16, so a market at $1 and at $1e6 read
    alike; phi wrote DI = 0 from bar 376 on (the signal went from +1 to 0 there), and at $1e-12
    from much earlier."""
    df = flat_after_gap()
    h, lo, c = (df[k].to_numpy() for k in ("high", "low", "close"))
    for period in (5, 14, 40):
        r = compute_raw("adx", df, {"period": period})
        np.testing.assert_allclose(r["plus_di"], talib.PLUS_DI(h, lo, c, period), rtol=1e-9)
        np.testing.assert_allclose(r["minus_di"], talib.MINUS_DI(h, lo, c, period), rtol=1e-9)
        np.testing.assert_allclose(r["adx"], talib.ADX(h, lo, c, period), rtol=1e-9)
    s = compute_signal("adx", df, {"period": 5}).to_numpy()
    assert (s[250:] == 1.0).all()  # the last trend stays the reading, as TA-Lib's DI says
    flat = df.copy()
    flat.iloc[:, :4] = 100.1  # a market that never moved: DI 0 exactly, signal 0
    assert (compute_signal("adx", flat).dropna() == 0.0).all()


# ---------------------------------------------------------------------------- TA-Lib


def close_to(ours, ref) -> None:
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    scale = np.nanmax(np.abs(ref)) if np.isfinite(ref).any() else 1.0
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9 * scale)


@pytest.mark.parametrize("frame", list(UNSEEN))
def test_raw_values_match_talib_on_unseen_bars(frame):
    df = UNSEEN[frame]()
    h, lo, c = (df[k].to_numpy() for k in ("high", "low", "close"))
    for p in (2, 14, 50):
        close_to(compute_raw("rsi", df, {"period": p})["rsi"], talib.RSI(c, p))
    for f, s, g in ((2, 5, 2), (12, 26, 9), (30, 60, 20)):
        r = compute_raw("macd", df, {"fast": f, "slow": s, "signal": g})
        for col, ref in zip(("macd", "signal", "hist"), talib.MACD(c, f, s, g), strict=True):
            close_to(r[col], ref)
    for p, k in ((5, 1.0), (60, 3.5)):
        r = compute_raw("bollinger", df, {"period": p, "nbdev": k})
        for col, ref in zip(("upper", "middle", "lower"), talib.BBANDS(c, p, k, k, 0), strict=True):
            close_to(r[col], ref)
    for k, d in ((5, 1), (30, 10)):
        r = compute_raw("stochastic", df, {"k_period": k, "d_period": d})
        sk, sd = talib.STOCH(h, lo, c, k, d, 0, d, 0)
        close_to(r["slowk"], sk)
        close_to(r["slowd"], sd)
    r = compute_raw("dual_sma", df, {"fast": 2, "slow": 200})
    close_to(r["sma_fast"], talib.SMA(c, 2))
    close_to(r["sma_slow"], talib.SMA(c, 200))
    r = compute_raw("ema_crossover", df, {"fast": 2, "slow": 100})
    close_to(r["ema_fast"], talib.EMA(c, 2))
    close_to(r["ema_slow"], talib.EMA(c, 100))
    for p in (2, 60):
        close_to(compute_raw("momentum", df, {"period": p})["mom"], talib.MOM(c, p))
        close_to(compute_raw("roc", df, {"period": p})["roc"], talib.ROC(c, p))
    r = compute_raw("atr_ratio", df, {"atr_period": 5, "ma_period": 150})
    close_to(r["atr"], talib.ATR(h, lo, c, 5))
    for p in (5, 40):
        r = compute_raw("adx", df, {"period": p})
        close_to(r["adx"], talib.ADX(h, lo, c, p))
        close_to(r["plus_di"], talib.PLUS_DI(h, lo, c, p))
        close_to(r["minus_di"], talib.MINUS_DI(h, lo, c, p))
    r = compute_raw("range_pos", df, {"period": 100})
    close_to(r["highest"], talib.MAX(h, 100))
    close_to(r["lowest"], talib.MIN(lo, 100))
    r = compute_raw("channel_breakout", df, {"period": 120})  # the channel of the bars before
    close_to(r["upper"], np.concatenate([[np.nan], talib.MAX(h, 120)[:-1]]))
    close_to(r["lower"], np.concatenate([[np.nan], talib.MIN(lo, 120)[:-1]]))
    close_to(
        compute_raw("rsi_band", df, {"period": 2, "lower": 5.0, "upper": 95.0})["rsi"],
        talib.RSI(c, 2),
    )


# ---------------------------------------------------------------------------- broken bars


def _reads(name: str, *cols: str) -> bool:
    return all(c in INDICATORS[name].inputs for c in cols)


def _broken(kind: str) -> pd.DataFrame:
    df = regime_switching()
    if kind == "negative volume":
        df.iloc[120:140, 4] = -5_000.0  # e.g. a vendor's signed (net) volume
    elif kind == "high < low":
        df.iloc[200, [1, 2]] = df.iloc[200, [2, 1]].to_numpy()
    elif kind == "close outside [low, high]":
        df.iloc[200, 3] = df.iloc[200, 1] * 1.05
    elif kind == "two close columns":
        df = pd.concat([df, df[["close"]] * 2.0], axis=1)
    return df


@pytest.mark.parametrize(
    ("kind", "needs", "message"),
    [
        ("negative volume", ("volume",), "negative value"),
        ("high < low", ("high", "low"), "high < low"),
        ("close outside [low, high]", ("high", "low", "close"), r"outside \[low, high\]"),
        ("two close columns", ("close",), "has two 'close' columns"),
    ],
)
def test_broken_bars_are_one_line_where_they_are_read(kind, needs, message):
    """Regression: a negative volume, an inverted bar or a close above the high gave silent
    numbers (a VWAP from signed volume, a range position outside its scale); two columns named
    ``close`` were an AttributeError traceback. Now one DataError line, like
    phi.data.validate_ohlcv and the engine, from every indicator that reads those columns;
    the others still compute."""
    df = _broken(kind)
    for name in [*NAMES, *sorted(ENGINE)]:
        if _reads(name, *needs):
            with pytest.raises(DataError, match=message) as err:
                compute_signal(name, df)
            assert "\n" not in str(err.value)
        elif name not in ENGINE:
            check_contract(name, compute_signal(name, df), df, warmup(name, {}))


def test_bars_within_rounding_of_their_range_are_accepted():
    df = regime_switching()
    df.iloc[200, 3] = df.iloc[200, 1] * (1 + 1e-12)  # float rounding of adjusted data
    for name in NAMES:
        check_contract(name, compute_signal(name, df), df, warmup(name, {}))


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e6])
def test_bollinger_flat_window_convention_against_talib(scale):
    """Documented difference: a window whose std is under 1e-7 of its mean is flat (bands on the
    middle, signal 0) at any price scale; TA-Lib keeps the rounding-level std. Above it, TA-Lib."""
    rng = np.random.default_rng(5)
    close = scale * np.concatenate(
        [1.0 + 1e-9 * rng.standard_normal(60), 1.0 + 1e-5 * rng.standard_normal(60)]
    )
    df = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0},
        index=pd.date_range("2021-01-01", periods=len(close), freq="D", tz="UTC"),
    )
    r = compute_raw("bollinger", df, {"period": 20, "nbdev": 2.0})
    u, m, lo = talib.BBANDS(close, 20, 2.0, 2.0, 0)
    assert (r["upper"].iloc[19:60] == r["middle"].iloc[19:60]).all() and (u[19:60] > m[19:60]).all()
    assert (compute_signal("bollinger", df).iloc[19:60] == 0.0).all()
    close_to(r["upper"].iloc[80:], u[80:])
    close_to(r["lower"].iloc[80:], lo[80:])
