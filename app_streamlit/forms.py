"""Widget keys and the translation of widget values into phi configs (no finance logic).

Every widget of the workbench has one key, built here, so no key is declared twice. The
functions below turn the values in ``st.session_state`` (or any mapping) into phi's own config
objects; phi validates them and its :class:`~phi.errors.ConfigError` messages are shown as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from phi.backtest.costs import COST_PRESETS, DEFAULT_COST_PRESET
from phi.data.dates import EARLIEST, LATEST

#: ``st.session_state`` or any mapping of widget key -> value.
Values = Any

# ---------------------------------------------------------------------------- keys

NAV: Final = "nav"
#: the sidebar's views: name -> module under app_streamlit.views that draws it (``render()``);
#: "Workbench" is the five-step main area drawn by live_workbench itself. One line per view.
PAGES: Final[dict[str, str]] = {
    "Workbench": "",
    "Backtests": "backtests",
    "Regime": "regime",
    "Run history": "history",
    "Cache manager": "cache",
    "PhiAI": "phiai",
    "Scanner": "scanner",
    "Batch": "batch",
    "Plutus": "plutus",
    "ML Status": "ml_status",
    "System status": "status",
}
VIEWS: Final = tuple(PAGES)
#: the Workbench's main-area sections (a tab bar); a finished run opens "Results"
SECTION: Final = "wb:section"
SECTIONS: Final = ("Results", "1 · Dataset", "2 · Indicators", "3 · Blend", "4 · Execution")

#: every date widget's range: the dates phi accepts (README: 1800-01-01 to 2200-12-31), so a
#: date outside a vendor's history is phi's one-line message, not a widget that refuses to move
MIN_DATE: Final = EARLIEST.date()
MAX_DATE: Final = LATEST.date()

# step 1: dataset
DS_VENDOR: Final = "ds:vendor"
DS_SYMBOL: Final = "ds:symbol"
DS_TIMEFRAME: Final = "ds:timeframe"
DS_START: Final = "ds:start"
DS_END: Final = "ds:end"
DS_CAPITAL: Final = "ds:capital"
DS_UPLOAD: Final = "ds:upload"
DS_FETCH: Final = "ds:fetch"
DS_USE_CACHED: Final = "ds:use_cached"
#: the loaded Dataset and the request it answers (not widgets)
DATASET: Final = "data:dataset"
DATASET_SPEC: Final = "data:spec"
AUTOLOADED: Final = "data:autoloaded"

# step 2: indicators
IND_SELECTED: Final = "ind:selected"  # list of names (not a widget)
IND_SEARCH: Final = "ind:search"
DEFAULT_INDICATORS: Final = ("rsi", "macd")


def ind_add(name: str) -> str:
    return f"ind:{name}:add"


def ind_remove(name: str) -> str:
    return f"ind:{name}:remove"


def ind_enabled(name: str) -> str:
    return f"ind:{name}:enabled"


def ind_param(name: str, param: str) -> str:
    return f"ind:{name}:p:{param}"


# step 3: blend
BL_MODE: Final = "bl:mode"
BL_DEAD_ZONE: Final = "bl:dead_zone"
BL_TRAIN_BARS: Final = "bl:train_bars"
BL_STEP: Final = "bl:step"
BL_WINDOW: Final = "bl:window"
BL_METRIC: Final = "bl:metric"
BL_REGIME_MATRIX: Final = "bl:regime_matrix"
#: regime engine settings submitted in the Regime view (a partial MFTConfig dict); they apply
#: to the Regime view and to the regime_weighted blend (its preview and its runs)
REGIME_OVERRIDES: Final = "regime:overrides"


def bl_weight(name: str) -> str:
    return f"bl:w:{name}"


# step 4: execution (one key per EngineConfig setting)
EX_ENTRY: Final = "ex:entry_threshold"
EX_EXIT: Final = "ex:exit_threshold"
EX_SHORT: Final = "ex:allow_short"
EX_FILL: Final = "ex:fill"
EX_SL: Final = "ex:stop_loss_pct"
EX_TP: Final = "ex:take_profit_pct"
EX_TS: Final = "ex:trailing_stop_pct"
EX_TIME: Final = "ex:time_exit_bars"
EX_SIGNAL_EXIT: Final = "ex:signal_exit"
EX_COMM_PCT: Final = "ex:commission_pct"
EX_COMM_FIXED: Final = "ex:commission_fixed"
EX_SLIP: Final = "ex:slippage_bps"
EX_COST_PRESET: Final = "ex:cost_preset"
EX_SIZING: Final = "ex:sizing"
EX_SIZE_PCT: Final = "ex:size_pct"
EX_SIZE_CASH: Final = "ex:size_cash"
EX_SIZE_UNITS: Final = "ex:size_units"
EX_RISK_PCT: Final = "ex:risk_pct"
EX_FRACTIONAL: Final = "ex:fractional"
EX_CALENDAR: Final = "ex:calendar"
EX_WARMUP: Final = "ex:warmup_bars"

# step 5: run
RUN_METRIC: Final = "run:metric"
RUN_DESCRIPTION: Final = "run:description"
RUN_TAGS: Final = "run:tags"
RUN_GO: Final = "run:go"
RUN_CANCEL: Final = "run:cancel"
RUN_JOB: Final = "run:job"
RUN_RESULT: Final = "run:result"
RUN_MESSAGE: Final = "run:message"

#: Defaults of every execution widget (percent widgets hold percent; 0 means "off").
EXECUTION_DEFAULTS: Final[dict[str, Any]] = {
    EX_ENTRY: 0.10,
    EX_EXIT: 0.0,
    EX_SHORT: False,
    EX_FILL: "next_open",
    EX_SL: 0.0,
    EX_TP: 0.0,
    EX_TS: 0.0,
    EX_TIME: 0,
    EX_SIGNAL_EXIT: True,
    # the default cost preset (phi.backtest.costs), never zero: 0.05 % + 2 bps per fill
    EX_COST_PRESET: DEFAULT_COST_PRESET,
    EX_COMM_PCT: 100 * COST_PRESETS[DEFAULT_COST_PRESET].commission_pct,
    EX_COMM_FIXED: COST_PRESETS[DEFAULT_COST_PRESET].commission_fixed,
    EX_SLIP: COST_PRESETS[DEFAULT_COST_PRESET].slippage_bps,
    EX_SIZING: "percent_equity",
    EX_SIZE_PCT: 95.0,
    EX_SIZE_CASH: 10_000.0,
    EX_SIZE_UNITS: 100.0,
    EX_RISK_PCT: 1.0,
    EX_FRACTIONAL: True,
    EX_CALENDAR: "auto",
    EX_WARMUP: 0,
}

#: Metrics offered for the results ribbon (keys of ``BacktestResult.metrics``).
RIBBON_METRICS: Final = (
    "sharpe",
    "total_return",
    "cagr",
    "sortino",
    "calmar",
    "max_drawdown",
    "profit_factor",
    "win_rate",
    "direction_accuracy",
)


def _get(values: Values, key: str) -> Any:
    if key in values:
        return values[key]
    return default_calendar() if key == EX_CALENDAR else EXECUTION_DEFAULTS[key]


def _pct_or_none(value: Any) -> float | None:
    """A percent widget (0 = off) as a fraction, or None."""
    v = float(value or 0.0)
    return None if v == 0.0 else v / 100.0


# ---------------------------------------------------------------------------- configs


def engine_settings(values: Values, initial_capital: float) -> dict[str, Any]:
    """The ``EngineConfig`` fields the execution widgets describe (percent -> fraction, 0 -> off)."""
    sizing = str(_get(values, EX_SIZING))
    time_exit = int(_get(values, EX_TIME) or 0)
    return {
        "initial_capital": float(initial_capital),
        "entry_threshold": float(_get(values, EX_ENTRY)),
        "exit_threshold": float(_get(values, EX_EXIT)),
        "allow_short": bool(_get(values, EX_SHORT)),
        "fill": str(_get(values, EX_FILL)),
        "stop_loss_pct": _pct_or_none(_get(values, EX_SL)),
        "take_profit_pct": _pct_or_none(_get(values, EX_TP)),
        "trailing_stop_pct": _pct_or_none(_get(values, EX_TS)),
        "time_exit_bars": time_exit if time_exit > 0 else None,
        "signal_exit": bool(_get(values, EX_SIGNAL_EXIT)),
        "commission_pct": float(_get(values, EX_COMM_PCT)) / 100.0,
        "commission_fixed": float(_get(values, EX_COMM_FIXED)),
        "slippage_bps": float(_get(values, EX_SLIP)),
        "sizing": sizing,
        "size_pct": float(_get(values, EX_SIZE_PCT)) / 100.0,
        "size_cash": float(_get(values, EX_SIZE_CASH)) if sizing == "fixed_cash" else None,
        "size_units": float(_get(values, EX_SIZE_UNITS)) if sizing == "fixed_units" else None,
        "risk_pct": float(_get(values, EX_RISK_PCT)) / 100.0 if sizing == "risk_per_trade" else None,
        "fractional": bool(_get(values, EX_FRACTIONAL)),
        "calendar": str(_get(values, EX_CALENDAR)),
        "warmup_bars": int(_get(values, EX_WARMUP) or 0),
        **_engine_extras(),
    }


def _engine_extras() -> dict[str, Any]:
    """Engine settings with no widget whose library default is kept (e.g. a periods-per-year
    override, which only bars without timestamps need)."""
    from phi.backtest.engine import EngineConfig

    fields = EngineConfig.__dataclass_fields__
    return {"periods_per_year": None} if "periods_per_year" in fields else {}


def calendar_choices() -> tuple[str, ...]:
    """The engine's calendar choices (``auto`` first when the engine detects the calendar)."""
    try:
        from phi.backtest.periods import CALENDAR_CHOICES
    except ImportError:  # an engine without calendar detection
        return ("exchange", "24/7")
    return tuple(CALENDAR_CHOICES)


def default_calendar() -> str:
    """The engine's own default calendar."""
    from phi.backtest.engine import EngineConfig

    return str(EngineConfig.__dataclass_fields__["calendar"].default)


def selected_indicators(values: Values) -> list[str]:
    """Names of the indicators in the Selected panel, in order."""
    return list(values.get(IND_SELECTED, []))


def indicator_params(values: Values, name: str) -> dict[str, Any]:
    """The parameter widgets' values of one selected indicator (declared ParamSpecs only)."""
    from phi.indicators.registry import get_indicator

    spec = get_indicator(name)
    return {p.name: values[ind_param(name, p.name)] for p in spec.params if ind_param(name, p.name) in values}


def indicator_configs(values: Values, mode: str) -> list[dict[str, Any]]:
    """``IndicatorConfig`` dicts of the selected indicators (weights 1.0 under phiai)."""
    out = []
    for name in selected_indicators(values):
        weight = 1.0 if mode == "phiai" else float(values.get(bl_weight(name), 1.0))
        out.append(
            {
                "name": name,
                "params": indicator_params(values, name),
                "weight": weight,
                "enabled": bool(values.get(ind_enabled(name), True)),
            }
        )
    return out


def blend_config(values: Values) -> dict[str, Any]:
    """``BlendConfig`` fields of the chosen mode."""
    mode = str(values.get(BL_MODE, "weighted_sum"))
    params: dict[str, Any] = {}
    if mode == "voting":
        params["dead_zone"] = float(values.get(BL_DEAD_ZONE, 0.05))
    elif mode == "phiai":
        params = {
            "train_bars": int(values.get(BL_TRAIN_BARS, 252)),
            "step": int(values.get(BL_STEP, 21)),
            "window": str(values.get(BL_WINDOW, "expanding")),
            "metric": str(values.get(BL_METRIC, "sharpe")),
        }
    out: dict[str, Any] = {"mode": mode, "params": params}
    if mode == "regime_weighted" and values.get(BL_REGIME_MATRIX) is not None:
        out["regime_weights"] = values[BL_REGIME_MATRIX]
    if mode == "regime_weighted" and values.get(REGIME_OVERRIDES):
        out["regime"] = values[REGIME_OVERRIDES]
    return out


def tags(values: Values) -> list[str]:
    """Comma-separated tags, stripped, empties dropped."""
    return [t.strip() for t in str(values.get(RUN_TAGS, "") or "").split(",") if t.strip()]


def build_run_config(values: Values, dataset_spec: Mapping[str, Any]) -> Any:
    """The :class:`~phi.backtest.run_config.RunConfig` the page describes.

    Raises :class:`~phi.errors.ConfigError` (from phi) for anything invalid, e.g. no enabled
    indicator or a sizing mode without its amount.
    """
    from phi.backtest.run_config import RunConfig
    from phi.errors import ConfigError

    blend = blend_config(values)
    indicators = indicator_configs(values, blend["mode"])
    if not indicators:
        raise ConfigError("no indicator selected: add at least one in Step 2 — Indicators")
    capital = float(values.get(DS_CAPITAL, 100_000.0))
    from app_streamlit.views.options_form import options_settings  # Step 4's options mode

    engine = engine_settings(values, capital)
    return RunConfig.from_dict(
        {
            "dataset": dict(dataset_spec),
            "indicators": indicators,
            "blend": blend,
            "engine": engine,
            "description": str(values.get(RUN_DESCRIPTION, "") or ""),
            "tags": tags(values),
            **options_settings(values, engine),
        }
    )


def ensure_defaults(state: Values) -> None:
    """Seed the non-widget state once per session (selected indicators)."""
    if IND_SELECTED not in state:
        state[IND_SELECTED] = list(DEFAULT_INDICATORS)
    if DS_SYMBOL not in state:  # the symbol widget's first value (a callback may change it)
        state[DS_SYMBOL] = "DEMO"
