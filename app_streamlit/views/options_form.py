"""Step 4 in options mode: the option structure, strikes, expiry, vol model, exits and costs
(:class:`phi.options.OptionsConfig`), one widget each, and their translation into the run
config (no finance logic: phi validates and its messages are shown as they are).

Percent widgets hold percent (the config holds fractions); 0 turns a target, stop or roll off,
and 0 contracts sizes by risk.
"""

from __future__ import annotations

from typing import Any, Final

import streamlit as st

from phi.errors import ConfigError
from phi.options.config import OptionsConfig

MODE: Final = "op:mode"
MODES: Final = ("equities", "options")
STRUCTURE: Final = "op:structure"
DTE: Final = "op:dte"
RULE: Final = "op:strike_rule"
MNY_NEAR: Final = "op:moneyness_near"
MNY_FAR: Final = "op:moneyness_far"
DELTA_NEAR: Final = "op:delta_near"
DELTA_FAR: Final = "op:delta_far"
IV_PREMIUM: Final = "op:iv_premium"
SKEW: Final = "op:skew"
IV_FLOOR: Final = "op:iv_floor"
VOL_WINDOW: Final = "op:vol_window"
TARGET: Final = "op:profit_target_pct"
STOP: Final = "op:stop_loss_pct"
ROLL: Final = "op:roll_dte"
COMMISSION: Final = "op:commission_per_contract"
HAIRCUT: Final = "op:bid_ask_haircut"
CONTRACTS: Final = "op:contracts"
RISK: Final = "op:risk_pct"
CHAIN_UPLOAD: Final = "op:chain_upload"
CHAIN_FILL: Final = "op:chain_fill"
#: Not widgets: the stored chain's path, or the one-line reason the uploaded chain is unusable.
CHAIN: Final = "op:chain"
CHAIN_ERROR: Final = "op:chain_error"
_CHAIN_SEEN: Final = "op:chain_seen"

_O = OptionsConfig()
#: Defaults of every options widget (percent widgets in percent; 0 = off / size by risk).
DEFAULTS: Final[dict[str, Any]] = {
    MODE: "equities",
    STRUCTURE: _O.structure,
    DTE: _O.dte,
    RULE: _O.strike_rule,
    MNY_NEAR: 100 * _O.moneyness[0],
    MNY_FAR: 100 * _O.moneyness[1],
    DELTA_NEAR: _O.delta[0],
    DELTA_FAR: _O.delta[1],
    IV_PREMIUM: _O.iv_premium,
    SKEW: _O.skew,
    IV_FLOOR: 100 * _O.iv_floor,
    VOL_WINDOW: _O.vol_window,
    TARGET: 100 * (_O.profit_target_pct or 0.0),
    STOP: 100 * (_O.stop_loss_pct or 0.0),
    ROLL: 0,
    COMMISSION: _O.commission_per_contract,
    HAIRCUT: 100 * _O.bid_ask_haircut,
    CONTRACTS: 0,
    RISK: 100 * _O.risk_pct,
    CHAIN_FILL: _O.chain_fill,
    CHAIN: None,
    CHAIN_ERROR: None,
}
#: The EngineConfig fields an options run uses (the rest are equity-engine settings).
ENGINE_FIELDS: Final = ("initial_capital", "entry_threshold", "exit_threshold", "calendar", "periods_per_year", "warmup_bars")
RULE_LABELS: Final = {"moneyness": "by moneyness (% out of the money)", "delta": "by target |delta|"}


def _structure_label(name: str) -> str:
    from phi.options.structures import AUTO, STRUCTURES

    if name == AUTO:
        return "auto — chosen per bar from the regime and the IV state"
    return f"{name.replace('_', ' ')} — {STRUCTURES[name].description}"


def _get(values: Any, key: str) -> Any:
    return values.get(key, DEFAULTS[key])


def options_mode(values: Any) -> bool:
    """True when the page describes an options run."""
    return _get(values, MODE) == "options"


def options_settings(values: Any, engine: dict[str, Any]) -> dict[str, Any]:
    """The run config's ``mode`` / ``options`` (and the engine fields an options run uses) the
    page describes; ``{}`` in equities mode."""
    if not options_mode(values):
        return {}
    if _get(values, CHAIN_ERROR):
        raise ConfigError(f"{_get(values, CHAIN_ERROR)} (remove the chain file or upload a good one)")

    def pct_or_none(key: str) -> float | None:
        v = float(_get(values, key) or 0.0)
        return v / 100.0 if v > 0 else None

    rule = str(_get(values, RULE))
    contracts = int(_get(values, CONTRACTS) or 0)
    roll = int(_get(values, ROLL) or 0)
    options: dict[str, Any] = {
        "structure": str(_get(values, STRUCTURE)),
        "dte": int(_get(values, DTE)),
        "strike_rule": rule,
        "iv_premium": float(_get(values, IV_PREMIUM)),
        "skew": float(_get(values, SKEW)),
        "iv_floor": float(_get(values, IV_FLOOR)) / 100.0,
        "vol_window": int(_get(values, VOL_WINDOW)),
        "profit_target_pct": pct_or_none(TARGET),
        "stop_loss_pct": pct_or_none(STOP),
        "roll_dte": roll if roll > 0 else None,
        "commission_per_contract": float(_get(values, COMMISSION)),
        "bid_ask_haircut": float(_get(values, HAIRCUT)) / 100.0,
        "contracts": contracts if contracts > 0 else None,
        "risk_pct": float(_get(values, RISK)) / 100.0,
    }
    chain = _get(values, CHAIN)
    if chain:
        options |= {"chain": str(chain), "chain_fill": str(_get(values, CHAIN_FILL))}
    if rule == "delta":
        options["delta"] = [float(_get(values, DELTA_NEAR)), float(_get(values, DELTA_FAR))]
    else:
        options["moneyness"] = [float(_get(values, MNY_NEAR)) / 100.0, float(_get(values, MNY_FAR)) / 100.0]
    return {
        "mode": "options",
        "options": options,
        "engine": {k: v for k, v in engine.items() if k in ENGINE_FIELDS},
    }


def mode_switch() -> str:
    """The equities / options switch at the top of Step 4."""
    st.segmented_control(
        "Trading mode", list(MODES), default=DEFAULTS[MODE], key=MODE, persist_state="session", required=True,
        format_func=lambda m: {"equities": "Equities (the underlying)", "options": "Options (Black-Scholes)"}[m],
        help="Options: the blended signal trades an option structure; prices are synthetic "
             "(Black-Scholes on the underlying's realised vol) unless an option chain CSV is uploaded below.",
    )  # fmt: skip
    return str(st.session_state.get(MODE) or DEFAULTS[MODE])


def _num(container: Any, label: str, key: str, lo: float, hi: float, step: float, tip: str, fmt: str = "%.2f") -> None:
    container.number_input(
        label, min_value=lo, max_value=hi, value=float(DEFAULTS[key]), step=step, key=key,
        persist_state="session", help=tip, format=fmt,
    )  # fmt: skip


def _int(container: Any, label: str, key: str, lo: int, hi: int, tip: str) -> None:
    container.number_input(
        label, min_value=lo, max_value=hi, value=int(DEFAULTS[key]), step=1, key=key,
        persist_state="session", help=tip,
    )  # fmt: skip


def store_chain(data: bytes, name: str) -> tuple[str | None, str | None]:
    """Store an uploaded chain under ``$PHI_HOME/uploads`` (atomic, content-addressed) and
    check it with :func:`phi.options.chains.load_chain`: ``(path, None)`` or ``(None, reason)``."""
    from phi.data.uploads import store_upload
    from phi.errors import PhiError
    from phi.options.chains import load_chain

    try:
        path = store_upload(data, name)
    except PhiError as exc:
        return None, str(exc)
    try:
        load_chain(path)
    except PhiError as exc:  # name the file as the user knows it, not the hashed copy
        return None, str(exc).replace(str(path), repr(name), 1)
    return str(path), None


def chain_upload() -> str | None:
    """The optional chain uploader: with a good chain file the legs are priced from its quotes
    (the stored path goes into the run config); a bad one is one error line and blocks the run."""
    import hashlib

    upload = st.file_uploader(
        "Option chain CSV (optional: price the legs from real end-of-day quotes)", type=["csv", "txt"],
        key=CHAIN_UPLOAD, help="Columns date, expiry, strike, kind, bid, ask (+ iv, delta, gamma, open_interest, "
        "underlying). Without a chain the prices are synthetic (Black-Scholes).",
    )  # fmt: skip
    if upload is None:
        st.session_state[CHAIN] = st.session_state[CHAIN_ERROR] = st.session_state[_CHAIN_SEEN] = None
        return None
    data = upload.getvalue()
    seen = (upload.name, hashlib.sha256(data).hexdigest())
    if st.session_state.get(_CHAIN_SEEN) != seen:  # check each file once, not on every rerun
        st.session_state[CHAIN], st.session_state[CHAIN_ERROR] = store_chain(data, upload.name)
        st.session_state[_CHAIN_SEEN] = seen
    if st.session_state.get(CHAIN_ERROR):
        st.error(str(st.session_state[CHAIN_ERROR]))
        return None
    return str(st.session_state[CHAIN])


def render() -> None:
    """The options settings (drawn by Step 4 in options mode)."""
    from phi.options.structures import AUTO, STRUCTURES

    chain = chain_upload()
    if chain is None:
        st.caption(":orange[Synthetic option prices from the underlying; no option quotes.] "
                   "Each leg is priced by Black-Scholes with an implied vol = realised vol x premium.")  # fmt: skip
    else:
        st.caption(":green[Legs priced from the uploaded chain's quotes.] A quote the run needs and the "
                   "chain lacks is reported, never invented; the volatility model below is then unused.")  # fmt: skip
        st.selectbox("Chain fills", ["bid_ask", "mid"], index=["bid_ask", "mid"].index(DEFAULTS[CHAIN_FILL]),
                     key=CHAIN_FILL, persist_state="session",
                     format_func=lambda f: {"bid_ask": "buy at the ask, sell at the bid",
                                            "mid": "at the mid -/+ the bid-ask haircut"}[f])  # fmt: skip
    st.markdown("**Structure and strikes**")
    c = st.columns(4)
    names = [*STRUCTURES, AUTO]
    c[0].selectbox("Structure", names, index=names.index(DEFAULTS[STRUCTURE]), format_func=_structure_label, key=STRUCTURE,
                   persist_state="session", help="The structure decides the legs; the signal decides when and "
                   "which side (a non-directional structure opens on |signal|).")  # fmt: skip
    _int(c[1], "Days to expiry", DTE, 1, 3650, "Calendar days from the entry bar to the expiry.")
    rule = c[2].selectbox("Strikes", list(RULE_LABELS), index=list(RULE_LABELS).index(DEFAULTS[RULE]),
                          format_func=lambda r: RULE_LABELS.get(r, r), key=RULE,
                          persist_state="session")
    if rule == "delta":
        _num(c[3], "Near |delta|", DELTA_NEAR, 0.01, 0.99, 0.05, "The nearer leg's target |delta|.")
        _num(c[3], "Far |delta|", DELTA_FAR, 0.01, 0.99, 0.05, "The farther leg's target |delta| (below the near one).")
    else:
        _num(c[3], "Near leg % OTM", MNY_NEAR, 0.0, 99.0, 0.5, "Distance from the spot of the near strike (0 = at the money).")
        _num(c[3], "Far leg % OTM", MNY_FAR, 0.0, 99.0, 0.5, "Distance from the spot of the far strike.")

    st.markdown("**Volatility model**")
    c = st.columns(4)
    _num(c[0], "IV premium (x realised vol)", IV_PREMIUM, 0.01, 10.0, 0.05, "Implied vol = realised vol x this.")
    _num(c[1], "Put skew", SKEW, 0.0, 20.0, 0.1, "iv(K) = iv x (1 + skew x max(0, ln(S/K))): the put wing richer; a skew too steep for the expiry and vol is cut to the steepest free of vertical-spread arbitrage (realistic skews are not cut).")
    _num(c[2], "IV floor %", IV_FLOOR, 0.0, 500.0, 1.0, "Lowest implied vol used.")
    _int(c[3], "Realised-vol window (bars)", VOL_WINDOW, 2, 10_000, "Bars of the rolling realised vol.")

    st.markdown("**Exits, costs and size**")
    c = st.columns(4)
    _num(c[0], "Profit target % of premium (0 = off)", TARGET, 0.0, 10_000.0, 5.0, "Exit when the open P&L reaches this share of the premium paid or received.")
    _num(c[0], "Stop % of premium (0 = off)", STOP, 0.0, 10_000.0, 5.0, "Exit when the open loss reaches this share of the premium.")
    _int(c[1], "Roll at days left (0 = off)", ROLL, 0, 3649, "Close when this many days or fewer remain (the signal may reopen).")
    _num(c[2], "Commission per contract", COMMISSION, 0.0, 1_000.0, 0.05, "Cash per contract on every fill.")
    _num(c[2], "Bid-ask haircut % per fill", HAIRCUT, 0.0, 99.0, 0.5, "Bought at price x (1 + h), sold at price x (1 - h).")
    _int(c[3], "Contracts per entry (0 = by risk)", CONTRACTS, 0, 1_000_000, "Fixed structure units per entry.")
    if not int(st.session_state.get(CONTRACTS) or 0):
        _num(c[3], "Max loss % of cash per entry", RISK, 0.01, 100.0, 0.5, "Sizes each entry so its maximum loss at expiry stays within this.")
