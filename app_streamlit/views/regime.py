"""Regime view (the spec's "MFT Blender" tab): the regime engine on the loaded dataset.

Shows the stacked probabilities of the 8 regimes, the dominant regime under the price, the
composite signal with its confidences, and the engine's main settings in a form (applied on
submit, here and to the ``regime_weighted`` blend of Step 3 and its runs). Everything is computed by :class:`phi.regime.RegimeEngine`.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import charts, forms, ui

FORM = "regime:form"
LEVELS = ("kingdom", "phylum", "class", "order", "family", "genus")


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
        "warmup": res.warmup,
        "latest": res.latest(),
    }


def _settings_form(defaults: Any) -> None:
    """Sliders over the engine's main settings; submitting stores them as overrides."""
    tax, conf, prob = defaults.taxonomy, defaults.confidence, defaults.probability
    with st.form(FORM):
        st.markdown("**Regime engine settings**")
        st.caption("Sticky-logit rate η per taxonomy level (lower = stickier) and softmax temperature per level. "
                   "Submitted settings apply here and to the regime_weighted blend (Step 3), and are saved with its runs.")
        cols = st.columns(len(LEVELS))
        eta, temp = {}, {}
        for col, lvl in zip(cols, LEVELS, strict=True):
            eta[lvl] = col.slider(f"η {lvl}", 0.01, 0.60, float(tax.smoothing[lvl]), 0.01, key=f"regime:eta:{lvl}", persist_state="session")
            # calibrated temperatures run from below 1 to about 50: a number box, not a slider
            temp[lvl] = col.number_input(f"T {lvl}", 0.01, 1000.0, float(tax.temperature[lvl]), 0.05, format="%.2f",
                                         key=f"regime:temp:{lvl}", persist_state="session")
        c = st.columns(4)
        msl = c[0].slider("MSL scale", 0.0, 2.0, float(tax.msl_kingdom_scale), 0.05, key="regime:msl", persist_state="session")
        gate = c[1].slider("Gate γ (default)", 0.1, 5.0, float(tax.gate_default), 0.1, key="regime:gate", persist_state="session")
        direction = c[2].slider("Direction scale", 0.1, 5.0, float(prob.direction_scale), 0.1, key="regime:direction", persist_state="session")
        floor = c[3].slider("Trade floor (confidence)", 0.0, 1.0, float(conf.trade_floor), 0.01, key="regime:floor", persist_state="session")
        if st.form_submit_button("Run regime engine", type="primary"):
            st.session_state[forms.REGIME_OVERRIDES] = {
                "taxonomy": {"smoothing": eta, "temperature": temp, "msl_kingdom_scale": msl, "gate_default": gate},
                "probability": {"direction_scale": direction},
                "confidence": {"trade_floor": floor},
            }


def render() -> None:
    st.subheader("Regime view — MFT regime engine")
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("Load a dataset in the Workbench (Step 1) first; the regime engine runs on it.")
        return
    from phi.regime import MFTConfig

    spec = st.session_state.get(forms.DATASET_SPEC, {})
    st.caption(f"Dataset {spec.get('symbol')} {spec.get('timeframe')} {spec.get('start')} .. {spec.get('end')} "
               f"({spec.get('vendor')}), {len(ds.frame):,} bars.")
    _settings_form(MFTConfig())
    overrides = st.session_state.get(forms.REGIME_OVERRIDES, {})
    out = ui.attempt(run_engine, ds.frame, ds.content_hash, json.dumps(overrides, sort_keys=True))
    if isinstance(out, ui.Failed):
        return
    latest = out["latest"]
    probs = latest["regime_probs"]
    ui.ribbon(
        [
            ("dominant regime", str(latest["dominant_regime"]), 0),
            ("P(dominant)", ui.fmt_value(max(probs.values()), "rate"), 0),
            ("composite", ui.fmt_value(latest.get("composite")), 1 if (latest.get("composite") or 0) > 0 else -1),
            ("confidence", ui.fmt_value(latest.get("confidence")), 0),
            ("score", ui.fmt_value(latest.get("score")), 0),
            ("warm-up bars", f"{out['warmup']:,}", 0),
        ]
    )
    ui.show_chart(charts.regime_area_chart(out["regime_probs"]), key="regime:chart:probs")
    ui.show_chart(charts.regime_timeline_chart(ds.frame["close"], out["dominant"]), key="regime:chart:timeline")
    mix = out["mix"]
    ui.show_chart(
        charts.lines_chart(
            {"composite": mix["composite"], "score": mix["score"]}, title="Composite signal and score", height=280,
            y_range=(-1.05, 1.05), colors={"composite": "#a855f7", "score": "#f97316"},
        ),
        key="regime:chart:composite",
    )  # fmt: skip
    conf_cols = [c for c in ("c_field", "c_consensus", "c_liquidity", "confidence") if c in mix.columns]
    ui.show_chart(
        charts.lines_chart({c: mix[c] for c in conf_cols}, title="Confidences", height=260, y_range=(-0.02, 1.02)),
        key="regime:chart:confidence",
    )
    st.caption("Latest bar: regime probabilities")
    st.dataframe(
        [{"regime": k, "probability": f"{v:.1%}"} for k, v in sorted(probs.items(), key=lambda kv: -kv[1])],
        hide_index=True, key="regime:table:latest",
    )  # fmt: skip
