"""Signal-driven options backtest on synthetic option prices.

``run_options_backtest(ohlcv, signal, OptionsConfig(...), EngineConfig(...))`` trades an
option structure (:mod:`phi.options.structures`) on a signal in [-1, +1] and returns the
equity engine's result shape plus the legs, the portfolio greeks and the P&L by greek.

Rules
-----
* **Prices.** Synthetic: Black-Scholes-Merton (:mod:`phi.options.black_scholes`) on the
  underlying's bars with the vol model of :mod:`phi.options.vol` (rolling realised vol
  annualised by the asset's calendar x premium, put skew, floor). There are no option quotes.
  The skew is cut at each valuation to the steepest that keeps every call and put vertical of
  the expiry within ``[0, exp(-rT) (K2 - K1)]`` (:func:`phi.options.vol.skewed_iv`), so no
  spread is ever entered, marked or exited above its discounted width or below 0.
* **Entries.** When flat and the signal crosses ``EngineConfig.entry_threshold`` at bar t's
  close, the same rule as the equity engine (up through it: the structure's bullish side; down
  through its negative: the bearish side; ``|signal|`` for non-directional structures; a NaN
  on either bar is no cross) and the vol model has warmed up, the legs open at bar t+1's open at model prices there (spot = that open, vol
  known at t's close), each fill ``price * (1 + haircut)`` when bought and
  ``price * (1 - haircut)`` when sold, plus ``commission_per_contract`` per contract. A
  structure without the signal's side (a ``long_put`` on a long signal) does not trade.
* **Auto structure.** ``structure="auto"`` chooses the structure per bar from the dominant
  regime and the IV state (:mod:`phi.options.auto`): the choice at bar t's close uses bars up
  to t; each trade's ``structure_reason`` says which states and which table row decided.
* **Strikes** from the open's spot by moneyness or by target delta (``OptionsConfig``);
  expiry ``dte`` calendar days after the entry bar's timestamp, at the same wall-clock time in
  the bars' time zone (a daylight-saving change in between does not move it); time to expiry
  in calendar years (days / 365) from the bars' timestamps, so intraday bars work.
* **Exits**, decided at a close and filled at the next open (model prices, haircut,
  commission; never below the worst payoff at expiry, see *Sizing*), in this order: stop (open P&L <= -stop x the net option premium at entry),
  profit target (>= +target x premium), roll (``roll_dte`` days or fewer left), signal exit
  (a cross, as in the equity engine: down through ``exit_threshold`` for a bullish position,
  up through ``-exit_threshold`` for a bearish one; non-directional: ``|signal|`` down through
  ``exit_threshold``). The signal may reopen a position at the same open (a reversal on a
  cross; after a roll, the rolled side while the signal stays beyond the entry threshold). **Expiry:** at
  the close of the last bar at or before the expiry stamp every leg settles at its intrinsic
  value (cash-settled, no haircut or commission).
* **Sizing** (cash-secured, no margin). One structure unit's *risk* is
  ``max(L, 0) + H + 2 C``: ``L`` its maximum loss at expiry from the entry's model (mid) prices
  (payoff checked at 0, every strike and far above; < 0 when the credit exceeds every payout, as
  at a negative rate or, on a chain, at quotes whose mids do), ``H`` the haircut its entry fills
  pay (on a chain: ask - mid and mid - bid), ``C`` its commissions per fill. An entry takes
  ``n = contracts`` units, or ``floor(risk_pct x cash / risk)``, cut to
  ``n <= floor(cash / risk)`` and, for a debit, ``n <= floor(cash / (debit + C))``; ``n < 1``:
  skipped (the ledger's ``skipped_note`` says why). So the entry's own costs never take the equity
  at the entry fill, marked at those mids, below the maximum loss from there:
  ``cash - n (H + C) >= n (max(L, 0) + C) >= 0`` (and a loss held to expiry never exceeds the
  capital). **Early exits** (stop, target, roll, signal) pay the exit haircut too, bounded so that
  the ``L`` already reserved covers it: a unit's exit proceeds are never below its worst payoff at
  expiry ``P = mid - L`` (a spread is never bought back for more than its width, nor a condor for
  more than its wider wing): when ``value - haircut < P`` every leg's haircut is cut by one factor
  to ``(value - P) / sum(|leg value|)`` of its price (0 when the mids are below ``P``; on a chain,
  each fill's distance from its mid). So the exit haircut is at most ``value - P <= width`` and the
  cash after any early exit is ``>= cash - n (L + H + 2 C) >= 0``, ``> 0`` unless ``n x risk`` is
  the whole cash exactly: at ``risk_pct`` 1 an early exit never ruins a run while the marks stay
  at or above ``P`` (true of Black-Scholes prices at a rate >= 0; a negative rate's marks or a
  chain's quotes can be below it, and the bar's move can still reach 0: see *Ruin*, whose
  close-out, at marks already below ``P``, pays the full haircut). ``strike_step`` rounds to the nearest grid
  strike; a far strike rounded onto its near one moves one step further out (on a chain: to
  the next listed strike).
* **Accounting.** ``equity = cash + value of the legs at the close`` on every bar; a credit
  received is held as cash; no margin, interest on cash, early exercise or assignment before
  expiry.
* **Ruin** (as the equity engine, and backtesting.py, which stops a bankrupt run). When the
  equity at a close is <= 0, every leg still open is closed at that close at its model price
  (haircut and commission, ``exit_reason="ruin"``), pending orders are dropped, nothing trades;
  the equity and cash stay at the value after those fills to the end: the floor is that value,
  below 0 only by the ruin bar's move and closing costs (an exit fill at the open that leaves the
  cash <= 0 is caught at that bar's close). The ledger's ``ruin`` note names the bar; metrics
  follow :mod:`phi.backtest.metrics` (CAGR -100 %, Sharpe and Sortino at most 0). A run on a
  real chain (:mod:`phi.options.chain_sim`) has the same rule, closing at that day's quotes as
  its exits fill; only a close with every open leg quoted can be the ruin (a stale mark decides
  none; the note says when the equity was <= 0 only on such marks).
* **P&L by greek.** Each leg's change of value between valuations (previous close or the
  entry fill, to this close or the exit fill) is split by a Taylor step of the previous
  greeks: ``delta dS + 1/2 gamma dS^2 + vega dsigma + theta dt`` and a residual (the rest:
  higher orders, rate/dividend carry, the expiry settlement); fills' haircuts and
  commissions are ``costs``. The six columns sum to the bar's equity change exactly.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.backtest._inputs import _Bars, _signal_matrix
from phi.backtest.engine import BacktestResult
from phi.backtest.engine_config import EngineConfig
from phi.backtest.metrics import compute_metrics
from phi.errors import ConfigError, DataError, EngineError, PhiError
from phi.options import _sim_nb as nb
from phi.options.auto import IV_HIGH, IV_LOW, AutoChoice, choose_structures
from phi.options.config import OptionsConfig
from phi.options.structures import AUTO, STRUCTURES, get_structure
from phi.options.vol import bars_per_year, realised_vol, synthetic_iv

__all__ = ["EXIT_REASONS", "SYNTHETIC_NOTE", "OptionsResult", "run_options_backtest"]

#: Said by every options result, chart and report built on the synthetic vol model.
SYNTHETIC_NOTE: Final = "synthetic option prices from the underlying; no option quotes"

EXIT_REASONS: Final[dict[int, str]] = {
    nb.EXIT_STOP: "stop_loss",
    nb.EXIT_TARGET: "take_profit",
    nb.EXIT_EXPIRY: "expiry",
    nb.EXIT_SIGNAL: "signal",
    nb.EXIT_ROLL: "roll",
    nb.EXIT_END: "end_of_data",
    nb.EXIT_RUIN: "ruin",
}
_KIND_NAMES = {1.0: "call", -1.0: "put", 0.0: "stock"}
_ROLE_CODES = {"atm": nb.ROLE_ATM, "near": nb.ROLE_NEAR, "far": nb.ROLE_FAR}
_KIND_CODES = {"call": 1.0, "put": -1.0, "stock": 0.0}
_YEAR_NS = 365 * 86_400 * 1_000_000_000
#: the EngineConfig fields an options backtest uses; the others belong to the equity engine
ENGINE_FIELDS_USED: Final = (
    "initial_capital",
    "entry_threshold",
    "exit_threshold",
    "calendar",
    "periods_per_year",
    "warmup_bars",
)


def _ignored_engine_fields(engine: EngineConfig) -> list[str]:
    """EngineConfig fields set away from their defaults that an options run does not use."""
    default = EngineConfig()
    return [
        f.name
        for f in dataclasses.fields(engine)
        if f.name not in ENGINE_FIELDS_USED and getattr(engine, f.name) != getattr(default, f.name)
    ]


@dataclass
class OptionsResult(BacktestResult):
    """:class:`~phi.backtest.engine.BacktestResult` plus what only options have.

    Attributes
    ----------
    legs : DataFrame
        One row per leg per trade: ``trade``, ``kind``, ``contracts`` (signed: + bought,
        - sold; shares for a stock leg are ``contracts * multiplier``), ``strike``,
        ``expiry``, entry/exit ``price`` (per share, haircut included), ``iv`` and greeks.
    greeks : DataFrame
        Portfolio ``delta`` (share equivalents), ``gamma``, ``vega`` (per 1.0 of vol),
        ``theta`` (per year) at each close, in cash units (x contracts x multiplier).
    attribution : DataFrame
        Per bar: ``delta``, ``gamma``, ``vega``, ``theta``, ``residual``, ``costs``; they sum
        to the equity change.
    position_value : Series
        Value of the open legs at each close (``equity == cash + position_value``).
    iv : Series
        The model's at-the-money implied vol per bar (unused on a chain).
    missing_quotes : DataFrame
        On a chain: every quote a run needed and did not find (``date, expiry, strike, kind,
        use`` = entry / exit / mark); empty on synthetic prices.
    """

    legs: pd.DataFrame = field(default_factory=pd.DataFrame)
    greeks: pd.DataFrame = field(default_factory=pd.DataFrame)
    attribution: pd.DataFrame = field(default_factory=pd.DataFrame)
    position_value: pd.Series | None = field(default=None, repr=False)
    iv: pd.Series | None = field(default=None, repr=False)
    missing_quotes: pd.DataFrame = field(default_factory=pd.DataFrame)


def _leg_tables(names: list[str]) -> tuple[np.ndarray, ...]:
    """The kernel's leg tables for ``names``: rows 2i / 2i+1 = structure i's bullish / bearish legs."""
    kind = np.zeros((2 * len(names), nb.MAX_LEGS))
    qty = np.zeros((2 * len(names), nb.MAX_LEGS))
    role = np.zeros((2 * len(names), nb.MAX_LEGS), dtype=np.int64)
    n_legs = np.zeros(2 * len(names), dtype=np.int64)
    dirs = np.zeros(len(names))
    for i, name in enumerate(names):
        st = get_structure(name)
        dirs[i] = 1.0 if st.directional else 0.0
        for row, legs in ((2 * i, st.bullish), (2 * i + 1, st.bearish)):
            n_legs[row] = len(legs)
            for j, leg in enumerate(legs):
                kind[row, j] = _KIND_CODES[leg.kind]
                qty[row, j] = leg.qty
                role[row, j] = _ROLE_CODES[leg.role]
    return kind, qty, role, n_legs, dirs


def _params(options: OptionsConfig, engine: EngineConfig) -> np.ndarray:
    nan = float("nan")
    fp = np.full(nb.N_FP, nan)
    by_delta = options.strike_rule == "delta"
    near, far = options.delta if by_delta else options.moneyness
    fp[nb.FP_INIT] = engine.initial_capital
    fp[nb.FP_ENTRY_THR] = engine.entry_threshold
    fp[nb.FP_EXIT_THR] = engine.exit_threshold
    fp[nb.FP_R] = options.risk_free_rate
    fp[nb.FP_Q] = options.dividend_yield
    fp[nb.FP_SKEW] = options.skew
    fp[nb.FP_MULT] = options.multiplier
    fp[nb.FP_COMM] = options.commission_per_contract
    fp[nb.FP_HAIRCUT] = options.bid_ask_haircut
    if options.profit_target_pct is not None:
        fp[nb.FP_PT] = options.profit_target_pct
    if options.stop_loss_pct is not None:
        fp[nb.FP_SL] = options.stop_loss_pct
    fp[nb.FP_DTE_Y] = options.dte / 365.0
    if options.roll_dte is not None:
        fp[nb.FP_ROLL_Y] = options.roll_dte / 365.0
    fp[nb.FP_RULE_DELTA] = 1.0 if by_delta else 0.0
    fp[nb.FP_NEAR] = near
    fp[nb.FP_FAR] = far
    fp[nb.FP_STEP] = options.strike_step
    fp[nb.FP_RISK] = options.risk_pct
    if options.contracts is not None:
        fp[nb.FP_CONTRACTS] = options.contracts
    fp[nb.FP_WARMUP] = engine.warmup_bars
    return fp


def _years(index: pd.Index) -> np.ndarray:
    if not isinstance(index, pd.DatetimeIndex):
        raise EngineError(
            "an options backtest needs timestamped bars (a DatetimeIndex): time to expiry is "
            f"measured in calendar time, and these bars have a {type(index).__name__}"
        )
    ns = index.as_unit("ns").asi8
    if not len(ns):  # no bars: the bar checks that follow say so
        return np.empty(0)
    return (ns - ns[0]).astype(np.float64) / _YEAR_NS


def _expiries(index: pd.DatetimeIndex, dte: int) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Each bar's expiry stamp if it opened a trade (``dte`` calendar days later at the same
    wall-clock time, so a daylight-saving change in between moves no expiry by an hour or a
    day), and its time in years from the first bar (as :func:`_years`)."""
    later = index + pd.Timedelta(days=dte)  # exact for UTC and naive stamps
    if index.tz is not None and str(index.tz) != "UTC":
        wall = (index.tz_localize(None) + pd.Timedelta(days=dte)).tz_localize(
            index.tz, ambiguous="NaT", nonexistent="shift_forward"
        )
        later = wall.where(~wall.isna(), later)  # a repeated wall-clock hour: exact days
    ns = later.as_unit("ns").asi8
    return later, (ns - index.as_unit("ns").asi8[0]).astype(np.float64) / _YEAR_NS


def _assumptions(
    options: OptionsConfig, engine: EngineConfig, bars: _Bars, bpy: float, skipped: int, skipped_note: str
) -> dict[str, object]:
    if options.structure == AUTO:
        structure = (
            "auto: chosen per bar by the first match of phi.options.auto.AUTO_TABLE on (dominant "
            f"regime, IV regime = ATM iv / realised vol of {5 * options.vol_window} bars: LOW_IV < "
            f"{IV_LOW:g}, HIGH_IV > {IV_HIGH:g}; on a chain the ATM iv of that day's quotes; GEX "
            "regime from that day's chain with open interest, else NEUTRAL); fallback "
            "long_call / long_put by the signal's side; each trade's structure_reason says why"
        )
    else:
        st = get_structure(options.structure)
        structure = f"{st.name}: {st.description}"
    if options.strike_rule == "delta":
        strikes = f"by target |delta|: near {options.delta[0]:g}, far {options.delta[1]:g}"
    else:
        strikes = (
            f"by moneyness from the entry open: near {options.moneyness[0]:g}, far "
            f"{options.moneyness[1]:g} out of the money"
        )
    if options.strike_step:
        strikes += f", rounded to a {options.strike_step:g} grid"
    return {
        "prices": SYNTHETIC_NOTE,
        "pricing_model": (
            "Black-Scholes-Merton, European exercise, continuous dividend yield "
            f"{options.dividend_yield:g}, risk-free rate {options.risk_free_rate:g}"
        ),
        "vol_model": (
            f"iv = max(realised vol of the last {options.vol_window} close-to-close log returns "
            f"x sqrt({bpy:.6g} bars/year) x premium {options.iv_premium:g}, floor "
            f"{options.iv_floor:g}); iv(K) = iv x (1 + s x max(0, ln(S/K))), s = skew "
            f"{options.skew:g} cut per valuation to the steepest free of vertical-spread "
            "arbitrage at that vol and time to expiry (realistic skews are not cut); "
            "causal: the vol at bar t uses closes up to t; fills at an open use the vol of the "
            "previous close"
        ),
        "vol_window": options.vol_window,
        "iv_premium": options.iv_premium,
        "skew": options.skew,
        "iv_floor": options.iv_floor,
        "bars_per_year": bpy,
        "calendar": bars.calendar,
        "structure": structure,
        "strikes": strikes,
        "expiry": (
            f"{options.dte} calendar days after the entry bar's timestamp (same wall-clock "
            "time across a daylight-saving change); time in calendar "
            "years (days / 365); settled at intrinsic value at the close of the last bar at or "
            "before the expiry stamp (no haircut, no commission)"
        ),
        "fill_timing": "signal at bar t's close -> legs filled at bar t+1's open at model prices",
        "signal_rule": (
            f"entry when the signal crosses {engine.entry_threshold:g} (as the equity engine); "
            f"signal exit when it crosses back through {engine.exit_threshold:g}; a roll reopens "
            "its side while the signal stays beyond the entry threshold (see phi.options.simulator)"
        ),
        "exits": (
            f"stop {options.stop_loss_pct}, target {options.profit_target_pct} (fractions of the "
            f"net option premium at entry), roll at {options.roll_dte} days left, signal; "
            "checked at the close in that order, filled at the next open"
        ),
        "costs": (
            f"commission {options.commission_per_contract:g} per contract per fill; bid-ask "
            f"haircut {options.bid_ask_haircut:g} of each leg's model price per fill; an early "
            "exit's cut so that it never fills below the position's worst payoff at expiry"
        ),
        "sizing": (
            f"{options.contracts} units per entry"
            if options.contracts is not None
            else f"risk per unit within {options.risk_pct:g} of cash"
        )
        + "; cash-secured (no margin): units x (maximum loss at expiry from the entry's mid prices "
        "(>= 0) + the entry's haircut + commissions both ways) <= cash, and a debit no more than "
        "the cash pays for",
        "multiplier": options.multiplier,
        "accounting": (
            "equity = cash + value of the open legs at the close; credits held as cash; no "
            "margin, interest, early exercise or assignment before expiry"
        ),
        "attribution": (
            "Taylor step per leg from the previous valuation's greeks: delta dS, 1/2 gamma dS^2, "
            "vega dsigma, theta dt; residual = the rest; costs = haircuts + commissions"
        ),
        "annualisation": f"risk metrics on daily returns, {bars.periods:g} trading days/year",
        "warmup_bars": engine.warmup_bars,
        "skipped_entries": skipped,
        "skipped_note": skipped_note,
        "options_config": options.to_dict(),
    }


def run_options_backtest(
    ohlcv: pd.DataFrame,
    signal: Any,
    options: OptionsConfig | None = None,
    engine: EngineConfig | None = None,
    *,
    regime: pd.Series | None = None,
) -> OptionsResult:
    """Backtest an option structure driven by a signal in [-1, +1] (see the module notes).

    Parameters
    ----------
    ohlcv : DataFrame
        Bars with ``open``/``high``/``low``/``close`` and a DatetimeIndex.
    signal : Series or array_like
        One value per bar in [-1, +1] (NaN = no opinion).
    options : OptionsConfig, optional
        Structure, strikes, exits, costs, vol model (defaults: ``OptionsConfig()``).
    engine : EngineConfig, optional
        Initial capital, entry/exit thresholds, calendar, warm-up (other fields unused).
    regime : Series, optional
        With ``structure="auto"``: the dominant regime per bar (labels of
        :data:`phi.regime.REGIMES`, None = unknown); default: the MFT engine's on these bars.

    Returns
    -------
    OptionsResult
    """
    options = OptionsConfig() if options is None else options
    engine = EngineConfig() if engine is None else engine
    if not isinstance(options, OptionsConfig):
        raise ConfigError(f"options must be an OptionsConfig, got {type(options).__name__}")
    if not isinstance(engine, EngineConfig):
        raise ConfigError(f"engine must be an EngineConfig, got {type(engine).__name__}")
    if regime is not None and not isinstance(regime, pd.Series):
        raise ConfigError(f"regime must be a pandas Series of dominant-regime labels, got {type(regime).__name__}")
    ignored = _ignored_engine_fields(engine)
    if ignored:
        warnings.warn(
            f"EngineConfig.{', '.join(ignored)} do(es) not apply to an options backtest (exits, "
            "costs and sizing are set in OptionsConfig: stop_loss_pct, profit_target_pct, "
            "commission_per_contract, bid_ask_haircut, contracts, risk_pct)",
            stacklevel=2,
        )
    if isinstance(ohlcv, pd.DataFrame):
        _years(ohlcv.index)  # timestamps first: without them no expiry can be measured
    bars = _Bars(ohlcv, engine)
    tyr = _years(bars.index)
    expiry_at, exp_y = _expiries(bars.index, options.dte)
    sig_m, labels = _signal_matrix(signal, bars)
    if sig_m.shape[0] != 1:
        raise EngineError(f"an options backtest takes one signal column, got {sig_m.shape[0]}")
    sig = np.ascontiguousarray(sig_m[0])
    bpy = bars_per_year(bars.periods, bars.day_end)
    iv = synthetic_iv(bars.close, options.vol_window, bpy, options.iv_premium, options.iv_floor)
    if options.chain is None and not np.isfinite(iv).any():
        raise ConfigError(
            f"vol_window={options.vol_window} needs more than the {len(bars.index)} bars given: the "
            "realised vol, and so the synthetic implied vol, is undefined on every bar (no option "
            "could be priced); use a shorter OptionsConfig.vol_window or more bars"
        )
    if options.chain is not None:
        return _run_chain(ohlcv, bars, options, engine, sig, iv, bpy, regime)
    n = len(bars.index)
    auto = _auto_choice(ohlcv, bars, options, iv, bpy, regime) if options.structure == AUTO else None
    names = list(STRUCTURES) if auto is not None else [options.structure]
    if auto is not None:
        code = {name: i for i, name in enumerate(names)}
        st_up = np.array([code.get(x, -1) if x else -1 for x in auto.up], dtype=np.int64)
        st_dn = np.array([code.get(x, -1) if x else -1 for x in auto.down], dtype=np.int64)
    else:
        st_up = st_dn = np.zeros(n, dtype=np.int64)
    kind, qty, role, n_legs, dirs = _leg_tables(names)
    equity, cash, value = np.empty(n), np.empty(n), np.empty(n)
    greeks, attr = np.zeros((n, 4)), np.zeros((n, 6))
    tr = np.full((n, nb.N_TR), np.nan)
    lg = np.full((nb.MAX_LEGS * n, nb.N_LG), np.nan)
    counts = np.zeros(4, dtype=np.int64)
    skips = np.zeros((nb.N_SKIP, nb.N_SK))
    kernel: Any = nb.simulate_nb
    kernel(
        bars.open,
        bars.close,
        tyr,
        exp_y,
        iv,
        sig,
        st_up,
        st_dn,
        dirs,
        kind,
        qty,
        role,
        n_legs,
        _params(options, engine),
        equity,
        cash,
        value,
        greeks,
        attr,
        tr,
        lg,
        counts,
        skips,
    )
    tr, lg = tr[: counts[0]], lg[: counts[1]]
    note = _skipped_note(skips, int(counts[0]), options, bars.index, names)
    return _build(
        bars,
        options,
        engine,
        sig,
        iv,
        bpy,
        equity,
        cash,
        value,
        greeks,
        attr,
        tr,
        lg,
        int(counts[2]),
        int(counts[3]),
        names,
        auto,
        expiry_at,
        note,
    )


def _skipped_note(
    skips: np.ndarray, n_trades: int, options: OptionsConfig, index: pd.Index, names: list[str]
) -> str:
    """The ledger's ``skipped_note``: one line saying why entries were skipped (or, with fixed
    ``contracts``, cut to what the cash secures), from the kernel's ``skips`` table
    (:data:`phi.options._sim_nb.SKIP_CASH` ...; on a chain the same table from
    :mod:`phi.options.chain_sim`); ``"none"`` when every entry opened at the size asked."""
    count = skips[:, nb.SK_COUNT].astype(np.int64)
    skipped = int(count[: nb.CUT].sum())
    if not count.any():
        return "none"

    def first(why: int) -> tuple[str, float, float, str]:
        row = skips[why]
        unit = f"one {names[int(row[nb.SK_STRUCT])]} unit"
        return str(index[int(row[nb.SK_BAR])]), float(row[nb.SK_CASH]), float(row[nb.SK_NEED]), unit

    parts: list[tuple[int, str]] = []  # (how many, why)
    if count[nb.SKIP_CASH]:
        at, cash, need, unit = first(nb.SKIP_CASH)
        held = (f"even 1 of the {options.contracts} contracts asked" if options.contracts is not None
                else unit)  # fmt: skip
        parts.append((count[nb.SKIP_CASH],
            f"the cash could not secure {held} (first at {at}: cash {cash:,.2f} < {need:,.2f} a unit, its "
            "maximum loss at expiry + haircut + commissions both ways, or its debit); add capital or "
            "choose a cheaper structure"))  # fmt: skip
    if count[nb.SKIP_RISK]:
        at, cash, need, unit = first(nb.SKIP_RISK)
        parts.append((count[nb.SKIP_RISK],
            f"{unit}'s risk (maximum loss at expiry + haircut + commissions both ways: {need:,.2f}) is "
            f"more than risk_pct={options.risk_pct:g} of the cash (first at {at}: {cash * options.risk_pct:,.2f} "
            f"of {cash:,.2f}); raise risk_pct or set contracts"))  # fmt: skip
    if count[nb.SKIP_NO_RISK]:
        at, _, _, unit = first(nb.SKIP_NO_RISK)
        parts.append((count[nb.SKIP_NO_RISK],
            f"{unit} has no risk to size by (maximum loss, haircut and commissions 0; first at {at}); set contracts"))  # fmt: skip
    if count[nb.SKIP_PRICE]:
        parts.append((count[nb.SKIP_PRICE], f"a leg had no price (first at {first(nb.SKIP_PRICE)[0]})"))
    if count[nb.SKIP_QUOTE]:
        parts.append((count[nb.SKIP_QUOTE],
            f"a quote was missing on the fill day (first at {first(nb.SKIP_QUOTE)[0]}; see missing_quotes)"))  # fmt: skip
    head = f"{skipped} of {skipped + n_trades} entr{'y' if skipped + n_trades == 1 else 'ies'} skipped"
    if len(parts) == 1:
        text = f"{head} because {parts[0][1]}"
    else:
        text = f"{head}: " + "; ".join(f"{k} because {why}" for k, why in parts) if parts else ""
    if count[nb.CUT]:
        at, cash, units, _ = first(nb.CUT)
        cut = (
            f"{count[nb.CUT]} entr{'y' if count[nb.CUT] == 1 else 'ies'} took fewer than the "
            f"{options.contracts} contracts asked: the cash secured only {units:g} (first at {at}: cash "
            f"{cash:,.2f})"
        )
        text = f"{text}; {cut}" if text else cut
    return text


def _auto_choice(
    ohlcv: pd.DataFrame,
    bars: _Bars,
    options: OptionsConfig,
    iv: np.ndarray,
    bpy: float,
    regime: pd.Series | None,
    gex: np.ndarray | None = None,
) -> AutoChoice:
    """Per bar, the structure an up / down cross would open (:mod:`phi.options.auto`); causal:
    the regime, the IV and the realised vol at bar t use bars up to t only."""
    from phi.regime.taxonomy import REGIMES

    if regime is None:
        from phi.regime.engine import RegimeEngine

        try:
            regime = RegimeEngine().run(ohlcv).dominant_regime()
        except PhiError as exc:
            raise type(exc)(f"structure='auto' reads the regime engine: {exc}") from None
    if not isinstance(regime, pd.Series):
        raise ConfigError(f"regime must be a pandas Series of dominant-regime labels, got {type(regime).__name__}")
    if regime.index.equals(bars.index) or len(regime) != len(bars.index):
        regime = regime.reindex(bars.index)  # a bar without a label is unknown: no entry
    labels = regime.to_numpy(dtype=object)
    distinct = pd.unique(labels)
    bad = sorted({x for x in distinct if isinstance(x, str) and x not in REGIMES})
    if bad:
        raise ConfigError(f"regime: unknown label {bad[0]!r}; use {', '.join(REGIMES)}")
    other = [x for x in distinct if not (x is None or isinstance(x, str) or (isinstance(x, float) and x != x))]
    if other:
        raise ConfigError(f"regime labels must be strings ({', '.join(REGIMES)}) or None, got {other[0]!r}")
    long_rv = realised_vol(bars.close, 5 * options.vol_window, bpy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(long_rv > 0, iv / long_rv, np.nan)
    return choose_structures(pd.Series(labels, dtype=object), ratio, gex)


def _ruin_note(
    index: pd.Index,
    equity: np.ndarray,
    ruin_bar: int,
    fills: str = "model prices, haircut, commission",
) -> dict[str, str | None]:
    """The ledger's ``ruin`` note (and ``ruin_bar``, its stamp), as the equity engine's.

    ``fills`` says how the close-out was priced. It is always at the ruin close: on a chain only
    a close with every open leg quoted is the ruin (:mod:`phi.options.chain_sim`), so nothing
    waits for a quote; a chain's equity <= 0 on stale marks only is said as such."""
    if ruin_bar < 0:
        below = np.flatnonzero(np.asarray(equity) <= 0.0)
        if below.size:  # a chain's stale marks only: no ruin is decided on them
            t = int(below[0])
            return {"ruin": (f"none: the equity was <= 0 only at closes with a leg unquoted (marked at its "
                             f"last mid), first bar {t} ({index[t]}); a stale mark decides no ruin"),
                    "ruin_bar": None}  # fmt: skip
        return {"ruin": "none: the equity stayed above 0 at every close", "ruin_bar": None}
    stamp = str(index[ruin_bar])
    return {
        "ruin": (
            f"equity reached <= 0 at the close of bar {ruin_bar} ({stamp}): everything still open was "
            f"closed at that close ({fills}) and nothing traded after; the equity stays at "
            f"{equity[ruin_bar]:,.2f} to the end (below 0 by that bar's move and fills)"
        ),
        "ruin_bar": stamp,
    }


def _build(
    bars: _Bars,
    options: OptionsConfig,
    engine: EngineConfig,
    sig: np.ndarray,
    iv: np.ndarray,
    bpy: float,
    equity: np.ndarray,
    cash: np.ndarray,
    value: np.ndarray,
    greeks: np.ndarray,
    attr: np.ndarray,
    tr: np.ndarray,
    lg: np.ndarray,
    skipped: int,
    ruin_bar: int,
    names: list[str],
    auto: AutoChoice | None,
    expiry_at: pd.DatetimeIndex,
    skipped_note: str,
) -> OptionsResult:
    index = bars.index
    entry_bar = tr[:, nb.TR_ENTRY_BAR].astype(np.int64)
    exit_bar = tr[:, nb.TR_EXIT_BAR].astype(np.int64)
    reason = tr[:, nb.TR_REASON].astype(np.int64)
    side = tr[:, nb.TR_SIDE]
    # dte calendar days after the entry bar's stamp (the kernel's expiry in years is made from
    # the same stamps; rebuilding it from the float would leave nanosecond dust)
    expiry = expiry_at[entry_bar]
    pnl = tr[:, nb.TR_PNL]
    trades = pd.DataFrame(
        {
            "entry_time": index[entry_bar],
            "exit_time": index[exit_bar],
            "side": np.where(side > 0, "long", np.where(side < 0, "short", "neutral")),
            "structure": [names[int(i)] for i in tr[:, nb.TR_STRUCT]],
            "units": tr[:, nb.TR_UNITS],
            # the run history's trade columns: structure units, and the net price per share of
            # one unit (cash paid at the entry fills, received at the exit; + debit, - credit)
            "size": tr[:, nb.TR_UNITS],
            "entry_price": tr[:, nb.TR_ENTRY_VALUE] / (tr[:, nb.TR_UNITS] * options.multiplier),
            "exit_price": tr[:, nb.TR_EXIT_VALUE] / (tr[:, nb.TR_UNITS] * options.multiplier),
            "entry_spot": tr[:, nb.TR_ENTRY_SPOT],
            "exit_spot": tr[:, nb.TR_EXIT_SPOT],
            "entry_value": tr[:, nb.TR_ENTRY_VALUE],
            "exit_value": tr[:, nb.TR_EXIT_VALUE],
            "premium": tr[:, nb.TR_PREMIUM],
            "max_loss": tr[:, nb.TR_RISK],
            "pnl": pnl,
            "return_pct": pnl / tr[:, nb.TR_RISK],
            "bars_held": exit_bar - entry_bar,
            "exit_reason": [EXIT_REASONS[int(c)] for c in reason],
            "costs": tr[:, nb.TR_COSTS],
            "open": reason == nb.EXIT_END,
            "entry_bar": entry_bar,
            "exit_bar": exit_bar,
            "expiry": expiry,
            **{
                f"pnl_{name}": tr[:, nb.TR_ATTR + i]
                for i, name in enumerate(("delta", "gamma", "vega", "theta", "residual", "costs"))
            },
        }
    )
    trade_ix = lg[:, nb.LG_TRADE].astype(np.int64)
    legs = pd.DataFrame(
        {
            "trade": trade_ix,
            "kind": [_KIND_NAMES[float(k)] for k in lg[:, nb.LG_KIND]],
            "contracts": lg[:, nb.LG_QTY],
            "strike": np.where(lg[:, nb.LG_KIND] == 0.0, np.nan, lg[:, nb.LG_STRIKE]),
            "expiry": expiry[trade_ix] if len(trade_ix) else pd.DatetimeIndex([], tz=index.tz),
            "entry_time": index[entry_bar[trade_ix]],
            "exit_time": index[exit_bar[trade_ix]],
            "entry_price": lg[:, nb.LG_ENTRY_PRICE],
            "exit_price": lg[:, nb.LG_EXIT_PRICE],
            "entry_iv": lg[:, nb.LG_ENTRY_IV],
            "entry_delta": lg[:, nb.LG_ENTRY_DELTA],
            "entry_gamma": lg[:, nb.LG_ENTRY_GAMMA],
            "entry_vega": lg[:, nb.LG_ENTRY_VEGA],
            "entry_theta": lg[:, nb.LG_ENTRY_THETA],
            "exit_iv": lg[:, nb.LG_EXIT_IV],
            "exit_delta": lg[:, nb.LG_EXIT_DELTA],
            "exit_gamma": lg[:, nb.LG_EXIT_GAMMA],
            "exit_vega": lg[:, nb.LG_EXIT_VEGA],
            "exit_theta": lg[:, nb.LG_EXIT_THETA],
        }
    )
    if auto is not None:  # the decision bar (the close before the entry fill) and its states
        trades.insert(
            4,
            "structure_reason",
            [auto.reason(int(e) - 1, "up" if sig[int(e) - 1] > 0 else "down") for e in entry_bar],
        )
    n = len(index)
    units = np.zeros(n)  # structure units held at each close: [entry bar, exit bar), or to the end
    for e, x, u, rc in zip(entry_bar, exit_bar, tr[:, nb.TR_UNITS], reason, strict=True):
        units[e : n if rc == nb.EXIT_END else x] = u
    w = min(engine.warmup_bars, n)
    closed = reason != nb.EXIT_END
    metrics = compute_metrics(
        equity=equity[w:],
        positions=units[w:],
        close=bars.close[w:],
        day_end=bars.day_end[w:],
        initial=engine.initial_capital,
        periods=bars.periods,
        closed_pnl=pnl[closed],
        closed_return_pct=(pnl / tr[:, nb.TR_RISK])[closed],
        n_open_trades=int((~closed).sum()),
        signal=sig[w:],
    )
    ledger = _assumptions(options, engine, bars, bpy, skipped, skipped_note)
    ledger.update(_ruin_note(index, equity, ruin_bar))
    return OptionsResult(
        trades=trades,
        equity=pd.Series(equity, index=index, name="equity"),
        positions=pd.Series(units, index=index, name="units"),
        metrics=metrics,
        assumptions=ledger,
        signal=pd.Series(sig, index=index, name="signal"),
        cash=pd.Series(cash, index=index, name="cash"),
        legs=legs,
        greeks=pd.DataFrame(greeks, index=index, columns=["delta", "gamma", "vega", "theta"]),
        attribution=pd.DataFrame(
            attr, index=index, columns=["delta", "gamma", "vega", "theta", "residual", "costs"]
        ),
        position_value=pd.Series(value, index=index, name="position_value"),
        iv=pd.Series(iv, index=index, name="iv"),
    )


_TRADE_ORDER: Final = (
    "entry_time", "exit_time", "side", "structure", "units", "size", "entry_price", "exit_price",
    "entry_spot", "exit_spot", "entry_value", "exit_value", "premium", "max_loss", "pnl",
    "return_pct", "bars_held", "exit_reason", "costs", "open", "entry_bar", "exit_bar", "expiry",
    "pnl_delta", "pnl_gamma", "pnl_vega", "pnl_theta", "pnl_residual", "pnl_costs",
)  # fmt: skip


def _run_chain(
    ohlcv: pd.DataFrame,
    bars: _Bars,
    options: OptionsConfig,
    engine: EngineConfig,
    sig: np.ndarray,
    iv: np.ndarray,
    bpy: float,
    regime: pd.Series | None,
) -> OptionsResult:
    """The same run priced from a real end-of-day chain (:mod:`phi.options.chain_sim`)."""
    from phi.options.chain_sim import simulate_chain
    from phi.options.chains import load_chain

    index = bars.index
    if (index != index.normalize()).any() or index.normalize().has_duplicates:
        raise EngineError(
            "an option chain holds end-of-day quotes: run it on daily bars (timeframe 1D), "
            "not intraday ones"
        )
    assert options.chain is not None
    chain = load_chain(options.chain)
    quoted = pd.DatetimeIndex(chain.quotes["date"])
    if not quoted.isin(index.normalize()).any():  # another period or market: nothing can trade
        raise DataError(
            f"option chain {options.chain}: its quotes ({quoted.min():%Y-%m-%d} .. {quoted.max():%Y-%m-%d}) "
            f"fall on none of the bars' days ({index[0]:%Y-%m-%d} .. {index[-1]:%Y-%m-%d}); "
            "give the chain of the backtest's period"
        )
    auto = None
    structure_at = None
    if options.structure == AUTO:  # states from the chain of each day (never a later one)
        from phi.options.auto import chain_states

        with np.errstate(invalid="ignore"):
            beyond = np.abs(sig) > engine.entry_threshold
        atm, gex = chain_states(chain, index.normalize(), bars.close, options.dte, options.risk_free_rate,
                                options.dividend_yield, beyond)  # fmt: skip
        auto = _auto_choice(ohlcv, bars, options, atm, bpy, regime, gex)
        none = np.full(len(sig), None, dtype=object)
        structure_at = np.where(sig > engine.entry_threshold, auto.up, np.where(sig < -engine.entry_threshold, auto.down, none))
    out = simulate_chain(bars, sig, options, engine, chain, structure_at)
    t = pd.DataFrame(out["trades"])
    if t.empty:
        t = pd.DataFrame(columns=[c for c in _TRADE_ORDER if c not in ("entry_time", "exit_time")])
    eb, xb = t["entry_bar"].to_numpy(np.int64), t["exit_bar"].to_numpy(np.int64)
    units = t["units"].to_numpy(np.float64)
    t["entry_time"], t["exit_time"] = index[eb], index[xb]
    t["side"] = np.where(t["side"].to_numpy(np.float64) > 0, "long", np.where(t["side"].to_numpy(np.float64) < 0, "short", "neutral"))
    if "structure" not in t:
        t["structure"] = options.structure
    if auto is not None:
        t.insert(4, "structure_reason", [auto.reason(int(e) - 1, "up" if sig[int(e) - 1] > 0 else "down") for e in eb])
    t["size"] = units
    t["entry_price"] = t["entry_value"].to_numpy(np.float64) / (units * options.multiplier)
    t["exit_price"] = t["exit_value"].to_numpy(np.float64) / (units * options.multiplier)
    pnl = t["pnl"].to_numpy(np.float64)
    t["return_pct"] = pnl / t["max_loss"].to_numpy(np.float64)
    t["bars_held"] = xb - eb
    t["open"] = t["exit_reason"] == "end_of_data"
    trades = t[[*_TRADE_ORDER[:4], *(["structure_reason"] if auto is not None else []), *_TRADE_ORDER[4:]]].reset_index(drop=True)
    legs = pd.DataFrame(out["legs"], columns=[
        "trade", "kind", "contracts", "strike", "expiry", "entry_time", "exit_time", "entry_price",
        "exit_price", "entry_iv", "entry_delta", "entry_gamma", "entry_vega", "entry_theta",
        "exit_iv", "exit_delta", "exit_gamma", "exit_vega", "exit_theta",
    ])  # fmt: skip
    w = min(engine.warmup_bars, len(index))
    closed = ~trades["open"].to_numpy(bool)
    metrics = compute_metrics(
        equity=out["equity"][w:],
        positions=out["units"][w:],
        close=bars.close[w:],
        day_end=bars.day_end[w:],
        initial=engine.initial_capital,
        periods=bars.periods,
        closed_pnl=pnl[closed],
        closed_return_pct=trades["return_pct"].to_numpy(np.float64)[closed],
        n_open_trades=int((~closed).sum()),
        signal=sig[w:],
    )
    missing = out["missing"]
    note = _skipped_note(out["skips"], len(trades), options, index, list(STRUCTURES))
    ledger = _assumptions(options, engine, bars, bpy, out["skipped"], note)
    for key in ("vol_model", "vol_window", "iv_premium", "skew", "iv_floor", "bars_per_year"):
        ledger.pop(key)
    fills = ("bought at the ask, sold at the bid" if options.chain_fill == "bid_ask" else
             f"at the mid x (1 +/- {options.bid_ask_haircut:g}) (bought / sold)")  # fmt: skip
    ledger.update(
        prices=f"option quotes from the end-of-day chain {chain.path} (no model prices)",
        pricing_model=(
            "quotes; marks at each close = the mid; greeks (for P&L by greek) Black-Scholes from "
            "the chain's iv where it has one, else all mark-to-market P&L is residual"
        ),
        chain=chain.path,
        chain_fingerprint=chain.fingerprint,
        fill_timing=(
            "signal at bar t's close (contracts chosen among those listed on day t) -> legs filled "
            "at the quotes of bar t+1's day; a stock leg at that bar's close"
        ),
        costs=f"{fills}; commission {options.commission_per_contract:g} per contract per fill",
        missing_quotes=(
            f"{len(missing)} needed quote(s) missing (never invented): entries skipped, exits "
            "deferred to the next quoted day, marks kept at the last mid; see missing_quotes"
            if len(missing) else "none"
        ),
    )
    ledger.update(_ruin_note(index, out["equity"], out["ruin_bar"], f"the chain's quotes, {fills}, commission"))
    return OptionsResult(
        trades=trades,
        equity=pd.Series(out["equity"], index=index, name="equity"),
        positions=pd.Series(out["units"], index=index, name="units"),
        metrics=metrics,
        assumptions=ledger,
        signal=pd.Series(sig, index=index, name="signal"),
        cash=pd.Series(out["cash"], index=index, name="cash"),
        legs=legs,
        greeks=pd.DataFrame(out["greeks"], index=index, columns=["delta", "gamma", "vega", "theta"]),
        attribution=pd.DataFrame(
            out["attr"], index=index, columns=["delta", "gamma", "vega", "theta", "residual", "costs"]
        ),
        position_value=pd.Series(out["value"], index=index, name="position_value"),
        iv=pd.Series(np.full(len(index), np.nan), index=index, name="iv"),
        missing_quotes=missing,
    )
