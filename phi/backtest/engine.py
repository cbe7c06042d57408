"""The equities backtest engine: a signal in [-1, +1] in, trades, equity and metrics out.

The wrapper validates inputs, turns :class:`EngineConfig` into the kernel's parameter arrays,
calls the numba bar loop (:mod:`phi.backtest._nb`) and wraps the result in pandas.

Execution rules (DESIGN §4)
---------------------------
* **Signal crosses.** With ``thr = entry_threshold`` and ``x = exit_threshold``, at bar t
  (``p = signal[t-1]``, ``s = signal[t]``):

  - long entry:  ``p <= thr < s``;  short entry (``allow_short``): ``p >= -thr > s``;
  - long signal exit: ``p > x >= s``;  short signal exit: ``p < -x <= s``;
  - a NaN on either bar is never a cross (so the first valid bar never trades).

  Entries happen only when flat (no pyramiding). An opposite entry cross on the bar a
  signal exit fires reverses the position; with ``signal_exit=False`` the signal only
  opens positions.
* **Fills.** ``fill="next_open"`` (default): the decision at bar t's close fills at bar
  t+1's open. ``fill="close"`` fills at bar t's own close — optimistic, and labelled so.
* **Stops/targets** are percentages of the entry fill's market price (before slippage): a long
  entered at 100 with ``stop_loss_pct=0.02`` stops at 98. They are live from the fill bar with
  next-open fills (from the next bar with close fills). A bar that opens through a level
  fills at its open; if stop and target are both touched in one bar the stop wins (the bar
  is counted as *ambiguous*); the trailing stop is set from the best high/low of the bars
  *before* the current bar, so it never ratchets and stops out on the same bar. A market
  exit at a bar's open comes before that bar's stops. Time exit: the exit fills
  ``time_exit_bars`` bars after the entry bar.
* **Costs** on every fill: ``commission_pct`` of the traded notional plus
  ``commission_fixed``, and ``slippage_bps`` against the trade. Trade prices are the market
  prices (so always within the bar's [low, high]); slippage and commissions are in
  ``trades.costs`` and in the cash.
* **Accounting.** ``equity = cash + position * close`` at every bar; a short sale's
  proceeds are held as cash. No leverage, margin calls, interest or borrow fees.
* **End of data.** A trade still open at the last bar is reported with ``open=True`` and
  ``exit_reason="end_of_data"``, valued at the last close without exit costs.
* **Ruin.** When the equity at a bar's close is <= 0, everything is closed at that close
  (``exit_reason="ruin"``), pending orders are dropped and nothing trades again (as
  backtesting.py stops a bankrupt run); the equity stays at that value, which may be below 0 by
  the ruin bar's gap. The ledger names the bar (``ruin_bar``); metrics follow
  :mod:`phi.backtest.metrics` (CAGR -100 %, Sharpe and Sortino at most 0).
* **Warm-up.** No trades start during the first ``warmup_bars`` bars, and those bars never
  count toward the metrics.
* **Inputs.** Bars must be strictly increasing in time (no duplicate stamps); a signal Series
  or DataFrame must carry exactly the bars' index (a plain array of the right length is taken
  bar for bar). Bars without a DatetimeIndex need ``EngineConfig.periods_per_year``.
* **Calendar.** Daily returns are taken at each trading day's last bar, the trading day given
  by the market calendar (``EngineConfig.calendar``, detected from the bars and their
  ``attrs`` when ``"auto"``; see :mod:`phi.backtest.periods`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.backtest import _nb
from phi.backtest._inputs import _Bars, _signal_matrix
from phi.backtest.costs import matching_preset
from phi.backtest.engine_config import FILLS, SIZINGS, EngineConfig
from phi.backtest.metrics import compute_metrics
from phi.errors import ConfigError, EngineError

__all__ = [
    "EXIT_REASONS",
    "FILLS",
    "SIZINGS",
    "SWEEP_METRICS",
    "TRADE_COLUMNS",
    "BacktestResult",
    "EngineConfig",
    "run_backtest",
    "run_backtest_many",
]


#: exit_reason values, indexed by the kernel's EXIT_* codes.
EXIT_REASONS: Final[dict[int, str]] = {
    _nb.EXIT_STOP_LOSS: "stop_loss",
    _nb.EXIT_TAKE_PROFIT: "take_profit",
    _nb.EXIT_TRAILING_STOP: "trailing_stop",
    _nb.EXIT_TIME: "time_exit",
    _nb.EXIT_SIGNAL: "signal",
    _nb.EXIT_END_OF_DATA: "end_of_data",
    _nb.EXIT_RUIN: "ruin",
}

_REASON_NAMES = ("", *(EXIT_REASONS[i] for i in sorted(EXIT_REASONS)))
_SIDE_NAMES = ("long", "short")
#: pandas' default string dtype: ``str`` (pyarrow-backed) on pandas 3, object before
_STR_DTYPE = pd.Series(["x"]).dtype


def _labels(names: tuple[str, ...], codes: np.ndarray) -> Any:
    """``names[codes]`` in pandas' default string dtype (on pandas 3 one pyarrow ``take``,
    about 4x faster than converting an object array element by element)."""
    if not isinstance(_STR_DTYPE, pd.StringDtype):
        return np.asarray(names, dtype=object)[codes]
    import pyarrow as pa  # pandas 3 has imported it already
    import pyarrow.compute as pc

    return pd.array(pc.take(pa.array(names), pa.array(codes)), dtype=_STR_DTYPE)


#: Columns of ``BacktestResult.trades``. ``side`` is ``"long"`` or ``"short"``; ``size`` is
#: the (positive) number of units; ``pnl`` is after all costs; ``return_pct`` is ``pnl``
#: over the entry notional (a fraction, not percent); ``costs`` = commissions + slippage of
#: both fills; ``bars_held = exit_bar - entry_bar``.
TRADE_COLUMNS: Final = (
    "entry_time",
    "exit_time",
    "side",
    "entry_price",
    "exit_price",
    "size",
    "pnl",
    "return_pct",
    "bars_held",
    "exit_reason",
    "costs",
    "open",
    "entry_bar",
    "exit_bar",
)

#: Columns of :func:`run_backtest_many`'s frame, in order (kernel ``ST_*`` fields).
SWEEP_METRICS: Final = (
    "final_equity",
    "total_return",
    "cagr",
    "annual_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_drawdown_duration",
    "calmar",
    "n_trades",
    "n_open_trades",
    "win_rate",
    "profit_factor",
    "exposure",
    "ambiguous_bars",
    "skipped_entries",
    "direction_accuracy",
    "ruin_bar",
)


@dataclass
class BacktestResult:
    """What a backtest produces.

    Attributes
    ----------
    trades : DataFrame
        One row per trade, columns :data:`TRADE_COLUMNS`.
    equity : Series
        Equity at each bar's close, on the bar index.
    positions : Series
        Signed units held at each bar's close (+ long, - short).
    metrics : dict of str -> float
        See :data:`phi.backtest.metrics.METRIC_NAMES`.
    assumptions : dict
        The assumption ledger: fill timing, signal rule, tie-break, gap rule, costs,
        sizing, adjustment, annualisation, warm-up bars, ambiguous-bar count; and
        ``entry_note`` when the signal was already beyond the entry threshold at the first
        tradable bar (entries happen on crossings, so none opened there).
    signal : Series or None
        The signal the run used (aligned to the bars).
    cash : Series or None
        Cash at each bar's close (``equity == cash + positions * close``).
    """

    trades: pd.DataFrame
    equity: pd.Series
    positions: pd.Series
    metrics: dict[str, float]
    assumptions: dict[str, object]
    signal: pd.Series | None = None
    cash: pd.Series | None = field(default=None, repr=False)


# ---------------------------------------------------------------------------------------
# kernel parameters


def _params(config: EngineConfig, periods: float) -> tuple[np.ndarray, np.ndarray]:
    nan = float("nan")
    fp = np.empty(_nb.N_FP, dtype=np.float64)
    fp[_nb.FP_INIT_CASH] = config.initial_capital
    fp[_nb.FP_ENTRY_THR] = config.entry_threshold
    fp[_nb.FP_EXIT_THR] = config.exit_threshold
    fp[_nb.FP_SL] = nan if config.stop_loss_pct is None else config.stop_loss_pct
    fp[_nb.FP_TP] = nan if config.take_profit_pct is None else config.take_profit_pct
    fp[_nb.FP_TS] = nan if config.trailing_stop_pct is None else config.trailing_stop_pct
    fp[_nb.FP_COMM_PCT] = config.commission_pct
    fp[_nb.FP_COMM_FIXED] = config.commission_fixed
    fp[_nb.FP_SLIP] = config.slippage_bps / 10_000.0
    fp[_nb.FP_SIZE_PCT] = config.size_pct
    fp[_nb.FP_SIZE_CASH] = nan if config.size_cash is None else config.size_cash
    fp[_nb.FP_SIZE_UNITS] = nan if config.size_units is None else config.size_units
    fp[_nb.FP_RISK_PCT] = nan if config.risk_pct is None else config.risk_pct
    fp[_nb.FP_ANN] = periods
    ip = np.empty(_nb.N_IP, dtype=np.int64)
    ip[_nb.IP_FILL_CLOSE] = config.fill == "close"
    ip[_nb.IP_ALLOW_SHORT] = config.allow_short
    ip[_nb.IP_SIGNAL_EXIT] = config.signal_exit
    ip[_nb.IP_FRACTIONAL] = config.fractional
    ip[_nb.IP_TIME_EXIT] = 0 if config.time_exit_bars is None else config.time_exit_bars
    ip[_nb.IP_SIZING] = SIZINGS.index(config.sizing)
    ip[_nb.IP_WARMUP] = config.warmup_bars
    return fp, ip


def _coerce_config(config: EngineConfig | Mapping[str, Any] | None) -> EngineConfig:
    if config is None:
        return EngineConfig()
    if isinstance(config, EngineConfig):
        return config
    if isinstance(config, Mapping):
        return EngineConfig.from_dict(config)
    raise ConfigError(f"config must be an EngineConfig, got {type(config).__name__}")


# ---------------------------------------------------------------------------------------
# results


def _trades_frame(tr: np.ndarray, index: pd.Index) -> pd.DataFrame:
    entry_bar = tr[:, _nb.TR_ENTRY_BAR].astype(np.int64)
    exit_bar = tr[:, _nb.TR_EXIT_BAR].astype(np.int64)
    size = tr[:, _nb.TR_SIZE]
    entry_price = tr[:, _nb.TR_ENTRY_PRICE]
    pnl = tr[:, _nb.TR_PNL]
    reason = tr[:, _nb.TR_REASON].astype(np.int64)
    frame = pd.DataFrame(
        {
            "entry_time": index[entry_bar],
            "exit_time": index[exit_bar],
            "side": _labels(_SIDE_NAMES, (tr[:, _nb.TR_SIDE] < 0).view(np.int8)),
            "entry_price": entry_price,
            "exit_price": tr[:, _nb.TR_EXIT_PRICE],
            "size": size,
            "pnl": pnl,
            "return_pct": pnl / (size * entry_price),
            "bars_held": exit_bar - entry_bar,
            "exit_reason": _labels(_REASON_NAMES, reason),
            "costs": tr[:, _nb.TR_COSTS],
            "open": reason == _nb.EXIT_END_OF_DATA,
            "entry_bar": entry_bar,
            "exit_bar": exit_bar,
        },
        columns=list(TRADE_COLUMNS),
        copy=False,
    )
    if frame.empty:  # keep the string dtype pandas gives non-empty frames
        frame = frame.astype({"side": "str", "exit_reason": "str"})
    return frame


def _calendar_text(bars: _Bars) -> str:
    if bars.calendar == "fx":
        return "fx calendar: a trading day ends 17:00 America/New_York, weekends roll into Monday"
    if bars.calendar == "24/7":
        return "24/7 calendar: a trading day is a calendar date of the index's time zone"
    if bars.calendar == "exchange":
        return "exchange calendar: a trading day is a calendar date of the exchange"
    return "no timestamps: every bar is one return period"


def _ruin_text(bars: _Bars, st: np.ndarray) -> tuple[str, str | None]:
    bar = st[_nb.ST_RUIN_BAR]
    if np.isnan(bar):
        return "none: the equity stayed above 0 at every close", None
    k = int(bar)
    stamp = str(bars.index[k])
    return (
        f"equity reached {st[_nb.ST_FINAL_EQUITY]:,.2f} (<= 0) at the close of bar {k} ({stamp}): "
        "everything was closed at that close and nothing traded after; total return may be "
        "below -100 % by that bar's gap, CAGR is -100 %, Sharpe and Sortino are capped at 0"
    ), stamp


def _assumptions(
    config: EngineConfig, st: np.ndarray, adjustment: object, bars: _Bars
) -> dict[str, object]:
    thr, x = config.entry_threshold, config.exit_threshold
    if config.fill == "next_open":
        timing = "signal at bar t's close -> market order filled at bar t+1's open"
        live = "from the fill bar (the entry fills at its open)"
    else:
        timing = (
            "OPTIMISTIC: filled at the close of the bar whose close produced the signal "
            "(no delay between seeing a price and trading at it)"
        )
        live = "from the bar after the entry (the entry fills at the close)"
    rule = f"long entry when the signal crosses above {thr} (prev <= {thr} < cur)"
    if config.allow_short:
        rule += f"; short entry when it crosses below {-thr} (prev >= {-thr} > cur)"
    rule += (
        f"; signal exit when it crosses {x} the other way (long: prev > {x} >= cur"
        + (f"; short: prev < {-x} <= cur)" if config.allow_short else ")")
        + "; NaN on either bar is not a cross; entries only when flat (no pyramiding)"
        + (
            "; an opposite entry cross on a signal-exit bar reverses the position"
            if config.signal_exit
            else "; signal exits off: the signal only opens positions"
        )
    )
    if config.sizing == "percent_equity":
        sizing = f"{config.size_pct:g} of equity per entry"
    elif config.sizing == "fixed_cash":
        sizing = f"{config.size_cash:g} cash per entry (at most the equity)"
    elif config.sizing == "fixed_units":
        sizing = f"{config.size_units:g} units per entry (at most what the equity pays for)"
    else:
        sizing = (
            f"risk {config.risk_pct:g} of equity to the {config.stop_loss_pct:g} stop "
            "(at most what the equity pays for)"
        )
    periods: float | int = bars.periods
    if float(periods).is_integer():
        periods = int(periods)
    ruin, ruin_bar = _ruin_text(bars, st)
    return {
        "fill": config.fill,
        "fill_timing": timing,
        "signal_rule": rule,
        "stops_live": live,
        "stop_reference": (
            "stop loss and take profit are percentages of the entry fill's market price "
            "(before slippage); the trailing stop a percentage of the best high (long) or "
            "low (short) of the bars since entry"
        ),
        "tie_break": "stop (or trailing stop) before target when both are touched in one bar",
        "gap_rule": "a bar that opens through a stop or target fills at its open",
        "trailing_stop": (
            "level from the best high/low of the bars before the current bar: it never "
            "ratchets and stops out on the same bar"
        ),
        "order_priority": "a market exit at a bar's open comes before that bar's stops and targets",
        "time_exit": (
            f"exit fills {config.time_exit_bars} bars after the entry bar"
            if config.time_exit_bars
            else "off"
        ),
        "costs": (
            f"commission {config.commission_pct:g} of notional + {config.commission_fixed:g} "
            f"per fill; slippage {config.slippage_bps:g} bps against every fill{_preset_words(config)}; "
            "trade prices are market prices, costs are in trades.costs"
        ),
        "sizing": sizing,
        "fractional": config.fractional,
        "accounting": (
            "equity = cash + position * close; short proceeds held as cash; no leverage, "
            "margin calls, interest or borrow fees"
        ),
        "end_of_data": "an open trade is reported open, valued at the last close, no exit costs",
        "adjustment": adjustment,
        "ruin": ruin,
        "ruin_bar": ruin_bar,
        "calendar": bars.calendar,
        "calendar_source": bars.calendar_source,
        "annualisation": (
            f"risk metrics on daily returns (equity at each trading day's last bar; "
            f"{_calendar_text(bars)}), {periods} periods/year"
            + (" (EngineConfig.periods_per_year)" if config.periods_per_year is not None else "")
            + ", risk-free rate 0, empyrical definitions on these returns"
        ),
        "periods_per_year": periods,
        "daily_returns": (
            "the first day's return is measured against the initial capital (0 when nothing "
            "fills on the first bar), so the Sharpe ratio differs from empyrical's on "
            "equity.pct_change(), which drops that day, by a factor of about 1 - 1/(2n) over "
            "n days"
        ),
        "drawdown": (
            "max drawdown and its duration are measured on every bar's equity (intraday "
            "troughs count), the initial capital being the first peak"
        ),
        "warmup_bars": config.warmup_bars,
        "ambiguous_bars": int(st[_nb.ST_AMBIGUOUS]),
        "skipped_entries": int(st[_nb.ST_SKIPPED]),
    }


def _stamp(index: pd.Index, t: int) -> str:
    """Bar ``t`` as a date (a midnight stamp), a time stamp, or ``bar t`` without timestamps."""
    ts = index[t]
    if isinstance(ts, pd.Timestamp):
        return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else str(ts)
    return f"bar {t}"


def _start_note(sig: np.ndarray, config: EngineConfig, index: pd.Index, trades: pd.DataFrame) -> str | None:
    """The note for a signal already beyond the entry threshold when trading can start.

    Entries need a cross (``prev <= thr < cur``), so a signal that is above the threshold on
    the first tradable bar (the first bar after the warm-up whose signal and previous signal
    are both set) and on the bar before it opens nothing there: a constant +1 never trades.
    ``None`` when that is not so. O(n) NumPy, no loop over bars.
    """
    lo = max(config.warmup_bars, 1)
    if len(sig) <= lo:
        return None
    seen = ~np.isnan(sig)
    both = seen[lo:] & seen[lo - 1 : -1]
    k = int(np.argmax(both))
    if not both[k]:
        return None
    t = lo + k
    prev, cur, thr = float(sig[t - 1]), float(sig[t]), config.entry_threshold
    if prev > thr and cur > thr:
        where, rule, side = f"above the entry threshold {thr:g}", f"prev <= {thr:g} < cur", "long"
    elif config.allow_short and prev < -thr and cur < -thr:
        where, rule, side = f"below the short entry threshold {-thr:g}", f"prev >= {-thr:g} > cur", "short"
    else:
        return None
    after = (
        f"the first trade entered at {_stamp(index, int(trades['entry_bar'].iloc[0]))}"
        if len(trades)
        else "no position was opened in the whole run"
    )
    return (
        f"the signal was already {where} at the first tradable bar {_stamp(index, t)} "
        f"(signal {cur:g} there, {prev:g} on the bar before); entries happen on crossings ({rule}), so no "
        f"{side} position was opened there; {after}"
    )


def _build_result(
    bars: _Bars,
    config: EngineConfig,
    sig: np.ndarray,
    eq: np.ndarray,
    pos: np.ndarray,
    cash: np.ndarray,
    tr: np.ndarray,
    st: np.ndarray,
    adjustment: object,
    name: Any = None,
) -> BacktestResult:
    index = bars.index
    trades = _trades_frame(tr, index)
    is_open = tr[:, _nb.TR_REASON] == _nb.EXIT_END_OF_DATA
    closed = tr[~is_open]
    w = min(config.warmup_bars, len(index))
    pnl = closed[:, _nb.TR_PNL]
    metrics = compute_metrics(
        equity=eq[w:],
        positions=pos[w:],
        close=bars.close[w:],
        day_end=bars.day_end[w:],
        initial=config.initial_capital,
        periods=bars.periods,
        closed_pnl=pnl,
        closed_return_pct=pnl / (closed[:, _nb.TR_SIZE] * closed[:, _nb.TR_ENTRY_PRICE]),
        n_open_trades=int(is_open.sum()),
        signal=sig[w:],
        precomputed={  # same definitions, already computed in the bar loop
            "max_drawdown": st[_nb.ST_MAX_DD],
            "max_drawdown_duration": st[_nb.ST_MAX_DD_BARS],
            "exposure": st[_nb.ST_EXPOSURE],
            "direction_accuracy": st[_nb.ST_DIRECTION_ACC],
        },
    )
    assumptions = _assumptions(config, st, adjustment, bars)
    note = _start_note(sig, config, index, trades)
    if note is not None:
        assumptions["entry_note"] = note
    return BacktestResult(
        trades=trades,
        equity=pd.Series(eq, index=index, name="equity", copy=False),
        positions=pd.Series(pos, index=index, name="position", copy=False),
        metrics=metrics,
        assumptions=assumptions,
        signal=pd.Series(sig, index=index, name="signal" if name is None else name, copy=False),
        cash=pd.Series(cash, index=index, name="cash", copy=False),
    )


# ---------------------------------------------------------------------------------------
# public API


def run_backtest(
    ohlcv: pd.DataFrame,
    signal: pd.Series | pd.DataFrame | np.ndarray,
    config: EngineConfig | Mapping[str, Any] | None = None,
) -> BacktestResult | list[BacktestResult]:
    """Backtest a signal in [-1, +1] on OHLCV bars.

    Parameters
    ----------
    ohlcv : DataFrame
        Bars with columns open, high, low, close (volume unused), finite and positive with
        ``low <= open, close <= high`` (as :func:`phi.data.validate_ohlcv` checks), on
        strictly increasing stamps (a DatetimeIndex, or any index with
        ``config.periods_per_year`` set). ``ohlcv.attrs`` may name its ``calendar``,
        ``symbol`` and ``exchange_tz`` for the calendar detection.
    signal : Series, DataFrame or ndarray
        The signal on the same bars: a Series or DataFrame must carry exactly the bars'
        index (else :class:`EngineError`), an array one value per bar; NaN means "no view".
        A DataFrame (or an ``(n_bars, n_candidates)`` array) runs every column in one
        parallel kernel call and returns one result per column.
    config : EngineConfig, optional
        Defaults to ``EngineConfig()``.

    Returns
    -------
    BacktestResult, or a list of them (one per column) for a 2-D signal.

    Examples
    --------
    >>> res = run_backtest(df, sma_signal, EngineConfig(stop_loss_pct=0.02))  # doctest: +SKIP
    >>> res.metrics["sharpe"], res.assumptions["fill_timing"]  # doctest: +SKIP
    """
    cfg = _coerce_config(config)
    bars = _Bars(ohlcv, cfg)
    sig, labels = _signal_matrix(signal, bars)
    fp, ip = _params(cfg, bars.periods)
    n = len(bars.index)
    m = sig.shape[0]
    adjustment = ohlcv.attrs.get("adjustment", "unknown (not recorded with the data)")
    two_d = labels is not None or (not isinstance(signal, pd.Series) and np.ndim(signal) == 2)
    if m == 1 and not two_d:
        eq = np.empty(n)
        pos = np.empty(n)
        cash = np.empty(n)
        tr = np.empty((n, _nb.N_TR))
        st = np.empty(_nb.N_ST)
        k = _nb.simulate_col_nb(
            bars.open, bars.high, bars.low, bars.close, sig[0], bars.day_end,
            fp, ip, True, eq, pos, cash, tr, st,
        )  # fmt: skip
        name = signal.name if isinstance(signal, pd.Series) else None
        return _build_result(bars, cfg, sig[0], eq, pos, cash, tr[:k], st, adjustment, name)
    eq2 = np.empty((m, n))
    pos2 = np.empty((m, n))
    cash2 = np.empty((m, n))
    tr2 = np.empty((m, n, _nb.N_TR))  # pages are committed only where trades are written
    st2 = np.empty((m, _nb.N_ST))
    counts = _nb.simulate_many_nb(
        bars.open, bars.high, bars.low, bars.close, sig, bars.day_end,
        fp, ip, True, eq2, pos2, cash2, tr2, st2,
    )  # fmt: skip
    names = labels if labels is not None else list(range(m))
    return [
        _build_result(
            bars,
            cfg,
            sig[j],
            eq2[j],
            pos2[j],
            cash2[j],
            tr2[j, : counts[j]],
            st2[j],
            adjustment,
            names[j],
        )  # fmt: skip
        for j in range(m)
    ]


#: Below this many (candidate x bar) cells :func:`run_backtest_many` runs on one thread: starting
#: the parallel region costs more than it saves (up to tens of ms on a busy machine).
PARALLEL_MIN_CELLS: Final = 200_000


def run_backtest_many(
    ohlcv: pd.DataFrame,
    signals: np.ndarray | pd.DataFrame,
    config: EngineConfig | Mapping[str, Any] | None = None,
    *,
    equity_out: np.ndarray | None = None,
) -> pd.DataFrame:
    """Lean sweep: run many signal columns in parallel and return only compact metrics.

    Batches under :data:`PARALLEL_MIN_CELLS` cells run on one thread (same results).

    No per-bar series and no trade lists are built, so thousands of candidates cost little
    more than the bar loop itself. Metric definitions match :func:`run_backtest`'s (up to
    floating-point summation order).

    Parameters
    ----------
    ohlcv : DataFrame
        As for :func:`run_backtest`.
    signals : ndarray of shape (n_bars, n_candidates), or DataFrame
        One candidate per column. Pass ``arr_mn.T`` of a C-contiguous ``(m, n)`` array to
        avoid a copy.
    config : EngineConfig, optional
    equity_out : ndarray of shape (n_candidates, n_bars), optional
        Filled with every candidate's equity at each bar (as :func:`run_backtest`'s
        ``equity``), still without building trade lists or pandas objects.

    Returns
    -------
    DataFrame
        One row per candidate (index = the DataFrame's columns or 0..m-1), columns
        :data:`SWEEP_METRICS`; ``final_equity`` is the equity at the last bar.
    """
    cfg = _coerce_config(config)
    bars = _Bars(ohlcv, cfg)
    if isinstance(signals, pd.Series):
        signals = pd.DataFrame({0: signals})  # keeps the index check
    elif isinstance(signals, np.ndarray) and signals.ndim == 1:
        signals = signals[:, None]
    sig, labels = _signal_matrix(signals, bars)
    fp, ip = _params(cfg, bars.periods)
    m = sig.shape[0]
    empty2 = np.empty((m, 0))
    st = np.empty((m, _nb.N_ST))
    simulate = _nb.simulate_many_nb if sig.size >= PARALLEL_MIN_CELLS else _nb.simulate_serial_nb
    if equity_out is not None:  # per-bar equity too (no positions, cash or trade records)
        n = len(bars.index)
        if not isinstance(equity_out, np.ndarray):
            raise EngineError(f"equity_out must be a NumPy array of shape {(m, n)}, got {type(equity_out).__name__}")
        if equity_out.shape != (m, n) or equity_out.dtype != np.float64 or not equity_out.flags.c_contiguous:
            raise EngineError(f"equity_out must be a C-contiguous float64 array of shape {(m, n)}, got {equity_out.shape}")
        if not equity_out.flags.writeable:
            raise EngineError("equity_out is read-only; pass a writable array")
        simulate(
            bars.open, bars.high, bars.low, bars.close, sig, bars.day_end, fp, ip, _nb.RECORD_EQUITY,
            equity_out, empty2, empty2, np.empty((m, 0, _nb.N_TR)), st,
        )  # fmt: skip
        index = pd.Index(labels) if labels is not None else pd.RangeIndex(m)
        return pd.DataFrame(st, index=index, columns=list(SWEEP_METRICS))
    simulate(
        bars.open, bars.high, bars.low, bars.close, sig, bars.day_end,
        fp, ip, False, empty2, empty2, empty2, np.empty((m, 0, _nb.N_TR)), st,
    )  # fmt: skip
    index = pd.Index(labels) if labels is not None else pd.RangeIndex(m)
    return pd.DataFrame(st, index=index, columns=list(SWEEP_METRICS))


def _preset_words(config: EngineConfig) -> str:
    """' (cost preset us_equities)' when the costs are exactly a preset's, else ''."""
    name = matching_preset(config.commission_pct, config.commission_fixed, config.slippage_bps)
    return f" (cost preset {name})" if name else " (custom costs, no preset)"
