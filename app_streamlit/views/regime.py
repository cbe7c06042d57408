"""Regime view (the spec's "MFT Blender" tab): the regime engine on the loaded dataset.

Shows the stacked probabilities of the 8 regimes, the dominant regime under the price, the
composite signal with its confidences and the top-two margin, and the engine's main settings
(kept across trips to other pages; applied on Run, here and to the ``regime_weighted`` blend of Step 3 and its runs). Everything is computed by :class:`phi.regime.RegimeEngine`.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import charts, forms, ui

FORM = "regime:form"
GO = "regime:go"
MSL, GATE, DIRECTION, FLOOR = "regime:msl", "regime:gate", "regime:direction", "regime:floor"
LEVELS = ("kingdom", "phylum", "class", "order", "family", "genus")
MARGIN_LABEL = "top-two margin"


def _confidence_chart(mix: pd.DataFrame, cols: list[str], floor: float, margin: pd.Series) -> charts.Chart:
    labels = {"c_field": "regime certainty (c_field)", "c_consensus": "expert agreement (c_consensus)",
              "c_liquidity": "liquidity (c_liquidity)", "confidence": "confidence"}
    lines = {labels.get(c, c): mix[c] for c in cols} | {MARGIN_LABEL: margin}
    chart = charts.lines_chart(lines, title="Confidence, its parts and the top-two margin",
                               height=260, y_range=(-0.02, 1.02))
    # the floor named in the legend (a label on the line sat over the y axis' ticks)
    chart.figure.add_hline(y=floor, line={"dash": "dot", "width": 1, "color": "#9ca3af"},
                           name=f"minimum to trade {floor:.2f}", showlegend=True)
    chart.figure.update_layout(height=260 + 44)  # six legend entries: two rows, under the plot
    charts.legend_below(chart.figure, 190)
    return chart


@st.cache_data(max_entries=8, show_spinner="Running the regime engine ...")
def run_engine(_frame: pd.DataFrame, content_hash: str, overrides_json: str) -> dict[str, Any]:
    """Run the engine on the bars with the given settings (cached by data hash and settings)."""
    from phi.regime import MFTConfig, RegimeEngine

    cfg = MFTConfig.from_dict(json.loads(overrides_json))
    res = RegimeEngine(cfg).run(_frame)
    return {
        "regime_probs": res.regime_probs,
        "dominant": res.dominant_regime(),
        "mix": res.mix,
        "margin": res.margin,
        "warmup": res.warmup,
        "latest": res.latest(),
    }


LEVEL_HELP = "The engine sorts every bar into a 6-level taxonomy, from broad (kingdom) to fine (genus)."
QUALITY_TEXT = (
    "How far to trust it: on labelled synthetic processes it was not fitted to, it beats a 30-bar efficiency ratio "
    "on trend vs range (narrowest where regimes last only 20-80 bars: 0.813 vs 0.790 AUC) and trailing realised "
    "volatility on high/low volatility, as it does on the real daily and hourly bars we tested, where its "
    "trend-vs-range calls are near chance and the composite shows no predictive edge. Per-family figures: README, "
    "section Regime engine (python -m phi.regime.evaluate --lofo)."
)


def _settings_form(defaults: Any) -> bool:
    """The engine's main settings with plain labels and help (what, range, default), and the Run
    button (True when pressed). No ``st.form``: each field is a plain widget whose value is kept
    (:func:`app_streamlit.ui.kept`) across trips to other pages without pressing Run; a shown
    result the fields no longer describe is marked (see render)."""
    tax, conf, prob = defaults.taxonomy, defaults.confidence, defaults.probability
    with st.container(border=True, key=FORM):
        st.markdown("**Regime engine settings**")
        st.caption("Settings apply when you press Run regime engine: here and to the regime_weighted blend (Step 3), "
                   "and are saved with its runs.")  # fmt: skip
        c = st.columns(4)
        c[0].slider(
            "Market-structure weight", min_value=0.0, max_value=2.0, step=0.05,
            help="How much the market-structure features (trend/range layout of recent swings) push the broad "
            f"regime levels. 0 ignores them. Range 0–2; default {tax.msl_kingdom_scale:g}.",
            **ui.kept(MSL, float(tax.msl_kingdom_scale)),
        )  # fmt: skip
        c[1].slider(
            "Feature switch-on speed", min_value=0.1, max_value=5.0, step=0.1,
            help="How quickly a feature counts once it moves away from normal (gate tanh(γ·z)): higher = a "
            f"smaller move already counts fully. Range 0.1–5; default {tax.gate_default:g}.",
            **ui.kept(GATE, float(tax.gate_default)),
        )  # fmt: skip
        c[2].slider(
            "Up/down sensitivity", min_value=0.1, max_value=5.0, step=0.1,
            help="How strongly recent drift splits trend and breakout probability into up vs down: higher = a "
            f"weaker drift already reads as a clear direction. Range 0.1–5; default {prob.direction_scale:g}.",
            **ui.kept(DIRECTION, float(prob.direction_scale)),
        )  # fmt: skip
        c[3].slider(
            "Minimum confidence to trade", min_value=0.0, max_value=1.0, step=0.01,
            help="The reference engine trades only on bars whose confidence is at least this (shown on the "
            f"confidence chart; the backtest does not enforce it). Range 0–1; default {conf.trade_floor:g}.",
            **ui.kept(FLOOR, float(conf.trade_floor)),
        )  # fmt: skip
        with st.expander("Advanced: how fast and how sharply each taxonomy level reacts"):
            st.caption(LEVEL_HELP)
            cols = st.columns(len(LEVELS))
            for col, lvl in zip(cols, LEVELS, strict=True):
                d_eta, d_temp = float(tax.smoothing[lvl]), float(tax.temperature[lvl])
                col.slider(
                    f"Reaction speed · {lvl}", min_value=0.01, max_value=0.60, step=0.01,
                    help=f"Share of each new bar's evidence taken into the {lvl} level's score (η): lower = stickier "
                    f"regimes, fewer flips. Range 0.01–0.60; default {d_eta:g}.",
                    **ui.kept(eta_key(lvl), d_eta),
                )  # fmt: skip
                # calibrated temperatures run from below 1 to about 50: a number box, not a slider
                col.number_input(
                    f"Softness · {lvl}", min_value=0.01, max_value=1000.0, step=0.05, format="%.2f",
                    help=f"Temperature turning the {lvl} scores into probabilities: higher = flatter, less certain "
                    f"probabilities; lower = sharper. Range 0.01–1000; default {d_temp:g} (calibrated).",
                    **ui.kept(temp_key(lvl), d_temp),
                )  # fmt: skip
        return st.button("Run regime engine", key=GO, type="primary")


def eta_key(level: str) -> str:
    return f"regime:eta:{level}"


def temp_key(level: str) -> str:
    return f"regime:temp:{level}"


def form_overrides(s: Any, defaults: Any) -> dict[str, Any]:
    """The engine overrides the fields describe now (a field not drawn yet: its default)."""
    tax, conf, prob = defaults.taxonomy, defaults.confidence, defaults.probability

    def get(key: str, default: float) -> float:
        return float(s.get(key, default))

    return {
        "taxonomy": {
            "smoothing": {lvl: get(eta_key(lvl), tax.smoothing[lvl]) for lvl in LEVELS},
            "temperature": {lvl: get(temp_key(lvl), tax.temperature[lvl]) for lvl in LEVELS},
            "msl_kingdom_scale": get(MSL, tax.msl_kingdom_scale),
            "gate_default": get(GATE, tax.gate_default),
        },
        "probability": {"direction_scale": get(DIRECTION, prob.direction_scale)},
        "confidence": {"trade_floor": get(FLOOR, conf.trade_floor)},
    }


def described(cfg: Any) -> dict[str, str]:
    """An engine config's page settings in the page's words (the labels the fields show)."""
    tax = cfg.taxonomy
    out = {"market-structure weight": f"{tax.msl_kingdom_scale:g}", "feature switch-on speed": f"{tax.gate_default:g}",
           "up/down sensitivity": f"{cfg.probability.direction_scale:g}",
           "minimum confidence to trade": f"{cfg.confidence.trade_floor:g}"}  # fmt: skip
    for lvl in LEVELS:
        out[f"reaction speed · {lvl}"] = f"{tax.smoothing[lvl]:g}"
    for lvl in LEVELS:
        out[f"softness · {lvl}"] = f"{tax.temperature[lvl]:g}"
    return out


def confidence_text(confidence: float | None, floor: float, history: pd.Series | None = None) -> str:
    """What the latest confidence means for trading, in words; ``history`` (the confidence on
    the bars after the warm-up) adds how often it reached the minimum and its usual range, so a
    floor it almost never reaches is said, not only drawn."""
    spread = ""
    if history is not None:
        h = history.dropna()
        if len(h):
            q50, q90 = (float(v) for v in h.quantile([0.5, 0.9]))
            share = float((h >= floor).mean())
            spread = (
                f" Over the {len(h):,} bars after the warm-up it reached the minimum on {share:.1%} of them "
                f"(median {ui.fmt_value(q50)}, 90th percentile {ui.fmt_value(q90)})"
                + (": with this minimum the regime engine would almost never trade on these bars." if share < 0.05 else ".")
            )
    if confidence is None or confidence != confidence:
        return "Confidence is not available on the last bar (warm-up)." + spread
    verdict = (
        f"at or above the minimum of {floor:.2f}: the regime engine would trade on this bar"
        if confidence >= floor
        else f"below the minimum of {floor:.2f}: the regime engine would stay out on this bar"
    )
    return (
        f"Confidence {ui.fmt_value(confidence)} is {verdict}. Confidence runs from 0 (no idea: the probability is spread "
        "over several regimes, or the expert indicators disagree) to 1 (one clear regime and agreeing experts); "
        "it is the regime certainty (c_field) times the experts' agreement (c_consensus)." + spread
    )


def margin_text(margin: float | None) -> str:
    """The latest top-two margin and why it is shown beside the confidence, in one sentence."""
    value = "n/a" if margin is None or margin != margin else ui.fmt_value(margin)
    return (
        f"Top-two margin {value} (the top regime probability minus the second): it ranks the dominant regime's "
        "right calls better than the confidence, which stays the trading gate (README, Regime engine)."
    )


def render() -> None:
    st.subheader("Regime view — MFT regime engine")
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("Load a dataset in the Workbench (Step 1) first; the regime engine runs on it.")
        return
    from phi.regime import MFTConfig

    spec = st.session_state.get(forms.DATASET_SPEC, {})
    synthetic = " · SYNTHETIC demo data" if ds.synthetic else ""
    st.caption(f"Dataset {spec.get('symbol')} {spec.get('timeframe')} {spec.get('start')} .. {spec.get('end')} "
               f"({spec.get('vendor')}{synthetic}), {len(ds.frame):,} bars. Change it in the sidebar.")
    defaults = MFTConfig()
    if _settings_form(defaults):
        st.session_state[forms.REGIME_OVERRIDES] = form_overrides(st.session_state, defaults)
    overrides = st.session_state.get(forms.REGIME_OVERRIDES, {})
    out = ui.attempt(run_engine, ds.frame, ds.content_hash, json.dumps(overrides, sort_keys=True))
    if isinstance(out, ui.Failed):
        return
    ran = MFTConfig.from_dict(overrides) if overrides else defaults
    now = MFTConfig.from_dict(form_overrides(st.session_state, defaults))
    ui.outdated("regime result", "Run regime engine", ui.changed(described(ran), described(now)))
    latest = out["latest"]
    probs = latest["regime_probs"]
    floor = float(MFTConfig.from_dict(overrides).confidence.trade_floor) if overrides else MFTConfig().confidence.trade_floor
    conf = latest.get("confidence")
    ui.ribbon(
        [
            ("dominant regime", str(latest["dominant_regime"]), 0),
            ("its probability", ui.fmt_value(max(probs.values()), "rate"), 0),
            ("composite signal", ui.fmt_value(latest.get("composite")), 1 if (latest.get("composite") or 0) > 0 else -1),
            ("confidence", f"{ui.fmt_value(conf)} / min {floor:.2f}", 1 if (conf or 0) >= floor else -1,
             f"{MARGIN_LABEL} {ui.fmt_value(latest.get('margin'))}"),
            ("score", ui.fmt_value(latest.get("score")), 0),
            ("warm-up bars", f"{out['warmup']:,}", 0),
        ]
    )
    st.caption(confidence_text(conf, floor, out["mix"]["confidence"].iloc[out["warmup"]:]))
    st.caption(margin_text(latest.get("margin")))
    st.caption(QUALITY_TEXT)
    ui.show_chart(charts.regime_area_chart(out["regime_probs"]), key="regime:chart:probs")
    ui.show_chart(charts.regime_timeline_chart(ds.frame["close"], out["dominant"]), key="regime:chart:timeline")
    mix = out["mix"]
    # two panels: the score (composite x confidences, a few hundredths) looked flat on the
    # composite's -1..1 axis
    composite = charts.panels_chart(
        {"composite": mix["composite"], "score": mix["score"]}, title="Composite signal and score (composite × confidences)",
        panel_height=130,
    )  # fmt: skip
    composite.figure.update_yaxes(range=[-1.05, 1.05], row=1, col=1)
    ui.show_chart(composite, key="regime:chart:composite")
    conf_cols = [c for c in ("c_field", "c_consensus", "c_liquidity", "confidence") if c in mix.columns]
    ui.show_chart(
        _confidence_chart(mix, conf_cols, floor, out["margin"]),
        key="regime:chart:confidence",
    )
    st.caption("Latest bar: regime probabilities")
    st.dataframe(
        [{"regime": k, "probability": f"{v:.1%}"} for k, v in sorted(probs.items(), key=lambda kv: -kv[1])],
        hide_index=True, key="regime:table:latest",
    )  # fmt: skip
    from app_streamlit.views import gex_inputs  # optional chain: GEX beside the regime result

    gex_inputs.render(ds.frame, ds.content_hash)
