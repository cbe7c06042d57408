"""The ``demo`` vendor: deterministic synthetic OHLCV bars with known regimes, generated locally.

How the bars are made
---------------------
1. **A daily regime chain** over a fixed epoch (every weekday from :data:`DEMO_START` to
   :data:`DEMO_END`, no holidays), seeded by ``zlib.crc32`` of the upper-cased symbol. It is a
   semi-Markov chain of persistent segments (durations in weekdays):

   ============  ========  ====================================================================
   regime        duration  daily log-return process
   ============  ========  ====================================================================
   trend_up      25-80     drift +0.15 %/day, vol 1.1 %
   trend_down    25-80     drift -0.15 %/day, vol 1.1 %
   range         20-60     mean-reverting: AR(1) (phi 0.85, shock 0.8 %) around the entry level
   vol_burst     5-15      no drift, vol 3.2 % (about 3.7x a range's)
   breakout      8-20      a 4-7 % jump on day one, then drift 0.4 %/day, vol 1.6 %
   ============  ========  ====================================================================

   A range is usually left through a breakout, a breakout usually runs on into a trend in
   its own direction, and the direction of new trends and breakouts leans back towards a
   price of 100, so prices stay in a plausible band for the whole epoch.
2. **Intraday paths.** Each session day (09:30-16:00 America/New_York, DST-aware) gets a
   one-minute path: an overnight gap from the previous close to the open, then a Brownian
   bridge (U-shaped intraday volatility) pinned to that day's close, with small wicks and
   U-shaped volume. Every timeframe, daily included, is the aggregate of these one-minute
   bars, so intraday bars always aggregate exactly to the daily bar.

What carries the regime
-----------------------
The daily close path, and (almost) nothing else. Volume has the same level in every regime
(a per-symbol base times independent day and minute noise), so it says nothing about the
regime: a detector that learned "ranges trade less" here would have learned the generator,
not markets. Trends and ranges share one intraday volatility (1.1 %), so given the day's close-to-close
move a range bar is as wide as a trend bar; ranges still have narrower bars on average,
exactly as far as their quieter closes imply. Bursts and breakouts keep their own, higher
intraday volatility, the same as their daily one. The overnight gap keeps its original
scale (sd 0.15 x 1.1 % in trends, 0.15 x 0.9 % in ranges) so the daily opens, like the
closes, are bit-identical to the first version of this generator; that is the one small
residual difference beyond the close path (the size of the gap given the day's move
separates trend from range days with an AUC of about 0.54).

All randomness comes from a counter-based hash (splitmix64) of (symbol, day, minute), not
from a sequential generator, so the bars of any sub-range are exactly the bars of a larger
range on the same stamps, and numpy's generator algorithms never change the data.

Regime labels map onto the MFT regime bins (see :data:`MFT_REGIME_MAP`): trend_up ->
TREND_UP, trend_down -> TREND_DN, range -> RANGE, vol_burst -> HIGHVOL, breakout ->
BREAKOUT_UP / BREAKOUT_DN by its direction. The demo never produces EXHAUST_REV or LOWVOL.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from phi import _libm as libm
from phi.data.calendar import bar_layout, expected_bars, session_days, to_date
from phi.data.schema import check_ohlcv
from phi.data.timeframes import normalize_timeframe
from phi.errors import ConfigError, DataError, SymbolError, shown, unknown_choice

DEMO_LABEL = "SYNTHETIC DEMO DATA"
REGIMES: tuple[str, ...] = ("trend_up", "trend_down", "range", "vol_burst", "breakout")
DEMO_START = "1990-01-01"
DEMO_END = "2045-12-31"
#: demo label -> MFT regime bin; breakout splits into BREAKOUT_UP / BREAKOUT_DN by direction
MFT_REGIME_MAP: dict[str, str] = {
    "trend_up": "TREND_UP",
    "trend_down": "TREND_DN",
    "range": "RANGE",
    "vol_burst": "HIGHVOL",
    "breakout": "BREAKOUT",
}
LABEL_SCHEMES: tuple[str, ...] = ("demo", "mft")

_TU, _TD, _RG, _VB, _BO = range(5)
_DURATION = ((25, 80), (25, 80), (20, 60), (5, 15), (8, 20))
_LOG100 = math.log(100.0)
_MU_TREND, _SIG_TREND = 0.0015, 0.011
_PHI_RANGE, _SIG_RANGE = 0.85, 0.008
_SIG_BURST = 0.032
_JUMP = (0.04, 0.07)
_MU_BREAKOUT, _SIG_BREAKOUT = 0.004, 0.016
_PULL = 2.0  # how strongly new directions lean back towards 100 (per unit of log price)
#: intraday volatility (daily units) of each regime; trends and ranges share one, so a bar's
#: high-low range differs between them only through the close-to-close move it contains
_SIG_INTRADAY = np.array([_SIG_TREND, _SIG_TREND, _SIG_TREND, _SIG_BURST, _SIG_BREAKOUT])
#: overnight-gap scale of each regime (the gap's sd is 0.15 x this): the generator's first
#: intraday sigmas, kept so that the daily opens stay bit-identical to earlier versions
_SIG_GAP = np.array([_SIG_TREND, _SIG_TREND, 0.009, _SIG_BURST, _SIG_BREAKOUT])

_N_MIN = 390


def _exp_scalars(x: np.ndarray) -> np.ndarray:
    """``exp`` of each value by Python's math (the C library's), as :mod:`phi._libm` computes it."""
    return np.array([math.exp(v) for v in x.tolist()], dtype=np.float64)

_MINUTES = np.arange(_N_MIN, dtype=np.uint64)
_m = np.arange(_N_MIN, dtype=np.float64)
_VOL_SHAPE = 1.0 + 1.5 * _exp_scalars(-_m / 25.0) + 0.8 * _exp_scalars(-(_N_MIN - 1 - _m) / 25.0)
_VOL_SHAPE *= 0.8 / np.sqrt(np.sum(_VOL_SHAPE**2))  # intraday variance = (0.8 * daily vol)^2
_CUM_VAR = np.cumsum(_VOL_SHAPE**2) / np.sum(_VOL_SHAPE**2)
_CUM_VAR[-1] = 1.0
_VOLUME_SHAPE = 1.0 + 2.5 * _exp_scalars(-_m / 20.0) + 2.0 * _exp_scalars(-(_N_MIN - 1 - _m) / 25.0)
_VOLUME_SHAPE /= _VOLUME_SHAPE.sum()
_WICK = 0.5
_BLOCK = 512  # days per cached block of daily bars / per chunk of intraday work
del _m

# ---- counter-based random numbers (splitmix64) ---------------------------------------------

_MASK = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN2 = np.uint64(0xD1B54A32D192ED03)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


def _mix_int(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _C1
    x = (x ^ (x >> np.uint64(27))) * _C2
    return x ^ (x >> np.uint64(31))


def _hash(seed: int, stream: int, i: np.ndarray, j: np.ndarray | None = None) -> np.ndarray:
    """64 random bits for every counter ``i`` (and ``j``: shape (len(i), len(j)))."""
    key = np.uint64(_mix_int((seed << 8) | stream))
    h = _mix(np.asarray(i).astype(np.uint64) ^ key)
    if j is None:
        return h
    return _mix(h[:, None] ^ (np.asarray(j).astype(np.uint64)[None, :] * _GOLDEN2))


def _normals(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent standard normals from each 64-bit word (Box-Muller on its halves)."""
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 1.0) * 2.0**-32  # (0, 1]
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32  # [0, 1)
    r = np.sqrt(-2.0 * libm.log(u1))
    t = 2.0 * np.pi * u2
    return r * libm.cos(t), r * libm.sin(t)


def _uniform(h: np.ndarray) -> np.ndarray:
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53


# ---- the daily regime chain -----------------------------------------------------------------

_DAYS = session_days(DEMO_START, DEMO_END, "weekdays")
_N_DAYS = len(_DAYS)


@dataclass(frozen=True)
class _Chain:
    log_close: np.ndarray  # daily log close
    code: np.ndarray  # regime code (index into REGIMES)
    direction: np.ndarray  # +1 / -1 for trends and breakouts, 0 otherwise
    volume_level: np.ndarray  # expected daily volume
    z_gap: np.ndarray  # standard normal of the overnight gap


def _ar1(shocks: np.ndarray) -> np.ndarray:
    """y_t = phi * y_(t-1) + e_t with y_(-1) = 0, closed form (segments are <= 60 long)."""
    p = libm.pow_(_PHI_RANGE, np.arange(len(shocks), dtype=np.float64))
    return p * np.cumsum(shocks / p)


def _next_regime(reg: int, direction: int, x: float, u1: float, u2: float) -> tuple[int, int]:
    up = u2 < 1.0 / (1.0 + math.exp(_PULL * (x - _LOG100)))
    trend = (_TU, 1) if up else (_TD, -1)
    if reg == _RG:
        if u1 < 0.45:
            return _BO, (1 if up else -1)
        return trend if u1 < 0.8 else (_VB, 0)
    if reg in (_TU, _TD):
        if u1 < 0.5:
            return _RG, 0
        return (_VB, 0) if u1 < 0.7 else trend
    if reg == _VB:
        return (_RG, 0) if u1 < 0.55 else trend
    # breakout: usually runs on into a trend its own way
    if u1 < 0.65:
        return (_TU, 1) if direction > 0 else (_TD, -1)
    return (_RG, 0) if u1 < 0.9 else (_VB, 0)


@functools.lru_cache(maxsize=64)
def _chain(seed: int) -> _Chain:
    n = _N_DAYS
    day_counter = np.arange(n, dtype=np.uint64)
    z_ret, z_gap = _normals(_hash(seed, 1, day_counter))
    z_vol, _ = _normals(_hash(seed, 2, day_counter))
    max_segments = n // min(lo for lo, _ in _DURATION) + 2
    u = _uniform(_hash(seed, 3, np.arange(max_segments), np.arange(4)))
    log_close = np.empty(n)
    code = np.empty(n, dtype=np.int8)
    direction = np.zeros(n, dtype=np.int8)
    reg, sign, x, day, seg = _RG, 0, _LOG100, 0, 0
    while day < n:  # one iteration per segment (a few hundred), each vectorised
        u_len, u1, u2, u_jump = u[seg]
        lo, hi = _DURATION[reg]
        end = min(day + lo + int(u_len * (hi - lo + 1)), n)
        z = z_ret[day:end]
        if reg in (_TU, _TD):
            path = x + np.cumsum(sign * _MU_TREND + _SIG_TREND * z)
        elif reg == _RG:
            path = x + _ar1(_SIG_RANGE * z)
        elif reg == _VB:
            path = x + np.cumsum(_SIG_BURST * z)
        else:
            r = sign * _MU_BREAKOUT + _SIG_BREAKOUT * z
            r[0] = sign * (_JUMP[0] + u_jump * (_JUMP[1] - _JUMP[0])) + 0.5 * _SIG_BREAKOUT * z[0]
            path = x + np.cumsum(r)
        log_close[day:end] = path
        code[day:end] = reg
        direction[day:end] = sign
        x, day, seg = float(path[-1]), end, seg + 1
        reg, sign = _next_regime(reg, sign, x, float(u1), float(u2))
    base_volume = 10.0 ** (5.5 + float(_uniform(_hash(seed, 6, np.zeros(1)))[0]))
    volume_level = base_volume * libm.exp(0.25 * z_vol - 0.03125)  # the same in every regime
    for arr in (log_close, code, direction, volume_level, z_gap):
        arr.flags.writeable = False
    return _Chain(log_close, code, direction, volume_level, z_gap)


# ---- intraday paths and aggregation ---------------------------------------------------------


def _minute_bars(seed: int, ch: _Chain, days: np.ndarray) -> tuple[np.ndarray, ...]:
    """One-minute open, high, low, close, volume (each shape (len(days), 390)) of epoch days."""
    close = ch.log_close[days]
    prev = np.where(days > 0, ch.log_close[np.maximum(days - 1, 0)], _LOG100)
    sig = _SIG_INTRADAY[ch.code[days]]
    open_ = prev + 0.25 * (close - prev) + 0.15 * _SIG_GAP[ch.code[days]] * ch.z_gap[days]
    z_ret, z_high = _normals(_hash(seed, 4, days, _MINUTES))
    z_low, z_vol = _normals(_hash(seed, 5, days, _MINUTES))
    step = sig[:, None] * _VOL_SHAPE[None, :]
    walk = np.cumsum(step * z_ret, axis=1)
    path = np.empty((len(days), _N_MIN + 1))
    path[:, 0] = open_
    path[:, 1:] = open_[:, None] + _CUM_VAR * (close - open_)[:, None] + walk - _CUM_VAR * walk[:, -1:]
    path[:, -1] = close
    px = libm.exp(path)
    o, c = px[:, :-1], px[:, 1:]
    h = np.maximum(o, c) * libm.exp(_WICK * step * np.abs(z_high))
    low = np.minimum(o, c) * libm.exp(-_WICK * step * np.abs(z_low))
    level = ch.volume_level[days][:, None] * _VOLUME_SHAPE[None, :]
    v = np.maximum(np.rint(level * libm.exp(0.35 * z_vol - 0.06125)), 1.0)
    return o, h, low, c, v


def _aggregate(bars: tuple[np.ndarray, ...], starts: np.ndarray) -> np.ndarray:
    """Aggregate (D, 390) minute arrays into bars starting at minute ``starts``: (D, nb, 5)."""
    o, h, low, c, v = bars
    last = np.append(starts[1:], _N_MIN) - 1
    return np.stack(
        [
            o[:, starts],
            np.maximum.reduceat(h, starts, axis=1),
            np.minimum.reduceat(low, starts, axis=1),
            c[:, last],
            np.add.reduceat(v, starts, axis=1),
        ],
        axis=-1,
    )


@functools.lru_cache(maxsize=256)
def _daily_block(seed: int, block: int) -> np.ndarray:
    days = np.arange(block * _BLOCK, min((block + 1) * _BLOCK, _N_DAYS))
    out = _aggregate(_minute_bars(seed, _chain(seed), days), np.zeros(1, dtype=np.int64))[:, 0, :]
    out.flags.writeable = False
    return out


# ---- public API -----------------------------------------------------------------------------


def _seed(symbol: str) -> tuple[str, int]:
    if not isinstance(symbol, str):
        raise SymbolError(f"demo: the symbol must be a string, got {shown(symbol)}")
    sym = symbol.strip().upper()
    if not sym:
        raise SymbolError("demo: the symbol is empty; give any ticker-like name, e.g. DEMO")
    return sym, zlib.crc32(sym.encode("utf-8"))


def _day_span(start: Any, end: Any) -> tuple[int, int]:
    """Epoch day indices [i0, i1) of the weekdays from ``start`` to ``end`` (inclusive)."""
    lo, hi = to_date(start, "demo start"), to_date(end, "demo end")
    if hi < lo:
        raise DataError(f"demo: start {lo} is after end {hi}; swap them")
    first, last = np.datetime64(DEMO_START, "D"), np.datetime64(DEMO_END, "D")
    if lo < first or hi > last:
        raise DataError(
            f"demo: the range {lo} .. {hi} is outside the synthetic epoch {DEMO_START} .. {DEMO_END}"
        )
    i0 = int(np.searchsorted(_DAYS, lo, side="left"))
    i1 = int(np.searchsorted(_DAYS, hi, side="right"))
    if i1 <= i0:
        raise DataError(f"demo: no weekday sessions between {lo} and {hi}; widen the range")
    return i0, i1


def generate_demo_with_regimes(
    symbol: str, start: Any, end: Any, timeframe: str = "1D"
) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic bars of ``symbol`` from ``start`` to ``end`` (dates, inclusive) and their regimes.

    Returns the validated OHLCV frame and a string Series (name ``"regime"``, same index)
    holding the true regime of every bar, one of :data:`REGIMES`. Daily bars are stamped at
    00:00 UTC of the session date, intraday bars at their start (sessions 09:30-16:00
    America/New_York, Monday to Friday, no holidays).

    Raises
    ------
    DataError
        The range is reversed, holds no weekday, or leaves the epoch ``1990-01-01 .. 2045-12-31``.

    Examples
    --------
    >>> df, regimes = generate_demo_with_regimes("DEMO", "2024-01-01", "2024-01-31")
    >>> len(df), regimes.iloc[0] in REGIMES
    (23, True)
    """
    frame, codes, _ = _generate(symbol, start, end, timeframe)
    labels = pd.Series(np.asarray(REGIMES, dtype=object)[codes], index=frame.index, name="regime")
    return frame, labels.astype("str")


def _generate(symbol: str, start: Any, end: Any, timeframe: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    sym, seed = _seed(symbol)
    tf = normalize_timeframe(timeframe)
    i0, i1 = _day_span(start, end)
    ch = _chain(seed)
    days = np.arange(i0, i1)
    if tf == "1D":
        blocks = [_daily_block(seed, b) for b in range(i0 // _BLOCK, (i1 - 1) // _BLOCK + 1)]
        values = np.concatenate(blocks)[i0 - (i0 // _BLOCK) * _BLOCK :][: i1 - i0]
        stamps, _ = expected_bars(_DAYS[i0:i1], "1D", "weekdays")
        codes, dirs = ch.code[days], ch.direction[days]
    else:
        starts, _ = bar_layout(tf, "weekdays")
        parts = [
            _aggregate(_minute_bars(seed, ch, days[k : k + _BLOCK]), starts).reshape(-1, 5)
            for k in range(0, len(days), _BLOCK)
        ]
        values = np.concatenate(parts)
        stamps, _ = expected_bars(_DAYS[i0:i1], tf, "weekdays")
        codes = np.repeat(ch.code[days], len(starts))
        dirs = np.repeat(ch.direction[days], len(starts))
    index = pd.DatetimeIndex(stamps.view("datetime64[ns]"), name="timestamp").tz_localize("UTC")
    frame = pd.DataFrame(values, index=index, columns=["open", "high", "low", "close", "volume"])
    frame = check_ohlcv(frame, what=f"demo {sym} {tf}").frame
    frame.attrs.update(synthetic=True, label=DEMO_LABEL)
    return frame, codes, dirs


def generate_demo(symbol: str, start: Any, end: Any, timeframe: str = "1D") -> pd.DataFrame:
    """Synthetic OHLCV bars (see :func:`generate_demo_with_regimes`), labelled ``DEMO_LABEL``
    in ``frame.attrs["label"]``."""
    return _generate(symbol, start, end, timeframe)[0]


def demo_regimes(
    symbol: str, start: Any, end: Any, timeframe: str = "1D", *, labels: str = "demo"
) -> pd.Series:
    """The true regime of every bar of :func:`generate_demo` (same index).

    ``labels="demo"`` gives :data:`REGIMES` names; ``labels="mft"`` gives the MFT bins
    TREND_UP, TREND_DN, RANGE, HIGHVOL, BREAKOUT_UP, BREAKOUT_DN.
    """
    scheme = str(labels).strip().lower()
    if scheme not in LABEL_SCHEMES:
        raise ConfigError(unknown_choice("label scheme", labels, LABEL_SCHEMES))
    frame, codes, dirs = _generate(symbol, start, end, timeframe)
    if scheme == "demo":
        names = np.asarray(REGIMES, dtype=object)[codes]
    else:
        names = np.asarray([MFT_REGIME_MAP[r] for r in REGIMES], dtype=object)[codes]
        bo = codes == _BO
        names[bo] = np.where(dirs[bo] > 0, "BREAKOUT_UP", "BREAKOUT_DN")
    return pd.Series(names, index=frame.index, name="regime").astype("str")
