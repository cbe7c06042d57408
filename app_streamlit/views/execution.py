"""Step 4 — Execution: every engine setting, one widget each (``phi.backtest.engine.EngineConfig``);
in options mode the option structure and its settings instead (:mod:`app_streamlit.views.options_form`).

Percent widgets hold percent (the config holds fractions); 0 turns a stop, target or time exit
off. The values go to the engine unchanged through :func:`app_streamlit.forms.engine_settings`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_streamlit import forms, ui
from app_streamlit.forms import EXECUTION_DEFAULTS as D
from phi.backtest.costs import COST_PRESETS, matching_preset

FILL_LABELS = {
    "next_open": "next bar's open (default)",
    "close": "same bar's close (optimistic)",
}
SIZING_LABELS = {
    "percent_equity": "percent of equity",
    "fixed_cash": "fixed cash per trade",
    "fixed_units": "fixed units per trade",
    "risk_per_trade": "risk per trade (needs a stop loss)",
}
CALENDAR_LABELS = {
    "auto": "auto — detected from the data (stated in the ledger)",
    "exchange": "exchange (252 days/year)",
    "fx": "FX 24/5 (260 days/year)",
    "24/7": "24/7 (365 days/year)",
}


def _pct(container: Any, label: str, key: str, hi: float, step: float, tip: str) -> None:
    container.number_input(
        label, min_value=0.0, max_value=hi, value=float(D[key]), step=step, key=key,
        persist_state="session", help=tip, format="%.2f",
    )  # fmt: skip


@st.fragment
def render() -> None:
    """Step 4 as a fragment: changing a setting re-runs only this step (nothing else shows it)."""
    try:
        _render()
    except Exception as exc:
        ui.show_error(exc, prefix="execution: ")


def _render() -> None:
    from app_streamlit.views import options_form
    from phi.backtest.engine import SIZINGS

    options = options_form.mode_switch() == "options"
    st.markdown("**Entries and exits**")
    c = st.columns(4)
    c[0].slider("Entry threshold", 0.0, 1.0, D[forms.EX_ENTRY], 0.01, key=forms.EX_ENTRY, persist_state="session",
                help="Long when the blended signal crosses above it (short below its negative).")
    c[1].slider("Exit threshold", 0.0, 1.0, D[forms.EX_EXIT], 0.01, key=forms.EX_EXIT, persist_state="session",
                help="Signal exit when the signal crosses back through it; must be <= the entry threshold.")
    if options:  # the option structure's own exits, costs and sizing replace the engine's
        options_form.render()
        _more()
        _problem()
        return
    c[2].toggle("Allow short", value=D[forms.EX_SHORT], key=forms.EX_SHORT, persist_state="session")
    c[2].toggle("Signal exit", value=D[forms.EX_SIGNAL_EXIT], key=forms.EX_SIGNAL_EXIT, persist_state="session",
                help="Exit (and reverse) on signal crosses; off = only stops, targets and time exits close trades.")
    c[3].selectbox("Fill", list(FILL_LABELS), format_func=lambda f: FILL_LABELS.get(f, f), key=forms.EX_FILL, persist_state="session",
                   help="A signal known at bar t's close fills at bar t+1's open; 'close' fills at t's own close.")
    if st.session_state.get(forms.EX_FILL) == "close":
        st.caption(":orange[Close fills are optimistic: the run trades at the price that produced the signal.]")

    c = st.columns(4)
    _pct(c[0], "Stop loss % (0 = off)", forms.EX_SL, 100.0, 0.5, "Distance below (long) / above (short) the entry fill.")
    _pct(c[1], "Take profit % (0 = off)", forms.EX_TP, 1000.0, 0.5, "Target distance from the entry fill.")
    _pct(c[2], "Trailing stop % (0 = off)", forms.EX_TS, 100.0, 0.5, "From the best price since entry (bars before the current one).")
    c[3].number_input("Time exit bars (0 = off)", min_value=0, max_value=100_000, value=D[forms.EX_TIME], step=1,
                      key=forms.EX_TIME, persist_state="session", help="Exit this many bars after the entry bar.")

    st.markdown("**Costs**")
    c = st.columns(4)
    c[3].selectbox("Cost preset", list(COST_PRESETS), format_func=lambda n: COST_PRESETS[n].label,
                   key=forms.EX_COST_PRESET, persist_state="session", on_change=_apply_cost_preset,
                   help="Fills the commission and slippage of an asset class; edit them after to taste. "
                        + " ".join(f"{p.describe()}." for p in COST_PRESETS.values()))
    _pct(c[0], "Commission % of notional", forms.EX_COMM_PCT, 99.0, 0.01, "Charged on every fill.")
    c[1].number_input("Commission per fill", min_value=0.0, value=D[forms.EX_COMM_FIXED], step=0.5,
                      key=forms.EX_COMM_FIXED, persist_state="session", help="Fixed cash on every fill.")
    c[2].number_input("Slippage (bps)", min_value=0.0, max_value=9_999.0, value=D[forms.EX_SLIP], step=1.0,
                      key=forms.EX_SLIP, persist_state="session", help="Against the trade on every fill.")
    preset = matching_preset(float(st.session_state.get(forms.EX_COMM_PCT, D[forms.EX_COMM_PCT])) / 100.0,
                             float(st.session_state.get(forms.EX_COMM_FIXED, D[forms.EX_COMM_FIXED])),
                             float(st.session_state.get(forms.EX_SLIP, D[forms.EX_SLIP])))
    if preset == "none":
        st.caption(":orange[No costs: optimistic — every real fill pays commission and crosses a spread.]")
    elif preset is None:
        st.caption("Custom costs (no preset matches them); the run's ledger states them.")

    st.markdown("**Sizing**")
    c = st.columns(4)
    sizing = c[0].selectbox("Sizing", list(SIZINGS), format_func=lambda s: SIZING_LABELS.get(s, s),
                            key=forms.EX_SIZING, persist_state="session")
    if sizing == "percent_equity":
        c[1].number_input("Position % of equity", min_value=1.0, max_value=100.0, value=D[forms.EX_SIZE_PCT],
                          step=1.0, key=forms.EX_SIZE_PCT, persist_state="session")
    elif sizing == "fixed_cash":
        c[1].number_input("Cash per trade", min_value=1.0, value=D[forms.EX_SIZE_CASH], step=1_000.0,
                          key=forms.EX_SIZE_CASH, persist_state="session")
    elif sizing == "fixed_units":
        c[1].number_input("Units per trade", min_value=0.0001, value=D[forms.EX_SIZE_UNITS], step=1.0,
                          key=forms.EX_SIZE_UNITS, persist_state="session", format="%.4g")
    else:
        c[1].number_input("Risk % of equity per trade", min_value=0.01, max_value=100.0, value=D[forms.EX_RISK_PCT],
                          step=0.25, key=forms.EX_RISK_PCT, persist_state="session")
        if not st.session_state.get(forms.EX_SL):
            c[1].caption(":orange[Set a stop loss: risk sizing divides the risk by the stop distance.]")
    c[2].toggle("Fractional units", value=D[forms.EX_FRACTIONAL], key=forms.EX_FRACTIONAL, persist_state="session",
                help="Off rounds every size down to whole units (like backtesting.py).")
    _more()
    _problem()


def settings_problem(values: Any) -> str | None:
    """Why phi refuses the execution (or options) settings the widgets describe, in phi's own
    words, or None. Checked alone (with a stand-in dataset and indicator), so the message can
    stand under these widgets whatever the other steps hold."""
    from app_streamlit.views.options_form import CHAIN_ERROR, options_settings
    from phi.backtest.run_config import RunConfig
    from phi.errors import PhiError

    if values.get(CHAIN_ERROR):  # the chain uploader says what is wrong with the file
        return None
    engine = forms.engine_settings(values, float(values.get(forms.DS_CAPITAL, 100_000.0)))
    try:
        RunConfig.from_dict(
            {"dataset": {"symbol": "DEMO", "vendor": "demo"}, "indicators": [{"name": "rsi"}], "engine": engine,
             **options_settings(values, engine)}
        )  # fmt: skip
    except PhiError as exc:
        return str(exc)
    return None


def _problem() -> None:
    """One line under Step 4 while its settings cannot run (Run would refuse them)."""
    problem = settings_problem(st.session_state)
    if problem:
        st.error(f"These settings cannot run: {ui.sentence(problem)}", icon=":material/block:")


def _more() -> None:
    with st.expander("More: annualisation and warm-up"):
        e = st.columns(3)
        choices = list(forms.calendar_choices())
        if st.session_state.get(forms.EX_CALENDAR) not in choices:
            st.session_state.pop(forms.EX_CALENDAR, None)
        e[0].selectbox("Calendar", choices, index=choices.index(forms.default_calendar()) if forms.default_calendar() in choices else 0,
                       format_func=lambda c: CALENDAR_LABELS.get(c, c), key=forms.EX_CALENDAR,
                       persist_state="session", help="Periods per year used to annualise daily returns.")
        e[1].number_input("Extra warm-up bars", min_value=0, value=D[forms.EX_WARMUP], step=1, key=forms.EX_WARMUP,
                          persist_state="session",
                          help="Leading bars with no trades and outside the metrics (indicator warm-up is added automatically).")


def _apply_cost_preset() -> None:
    """Copy the chosen preset's commission and slippage into the cost widgets."""
    preset = COST_PRESETS[st.session_state[forms.EX_COST_PRESET]]
    st.session_state[forms.EX_COMM_PCT] = 100 * preset.commission_pct
    st.session_state[forms.EX_COMM_FIXED] = preset.commission_fixed
    st.session_state[forms.EX_SLIP] = preset.slippage_bps
