"""Step 3 — Blend: the mode, the weights (an 8 × N regime matrix for ``regime_weighted``) and a
preview of the blended signal on the loaded dataset, computed by phi's own blender."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import charts, forms, ui
from app_streamlit.styles import BLEND

PHIAI_PREVIEW = "bl:phiai_preview_result"
MODE_HELP = {
    "weighted_sum": "Σ wᵢ·sᵢ / Σ|wᵢ|, clipped to [-1, 1].",
    "voting": "Each indicator votes its sign when |sᵢ| > dead zone; output = net weighted vote share.",
    "regime_weighted": "Σ_r P(regime r, t) · Σᵢ W[r, i]·sᵢ(t): the regime engine's probabilities pick the weights.",
    "phiai": "Walk-forward: every step bars, each indicator is backtested alone on a window that ends "
    "before the bars its new weight applies to; weights ∝ max(score, 0).",
}


def regime_blend_available() -> bool:
    """True when the regime engine provides the regime_weighted blend (issue 04)."""
    return importlib.util.find_spec("phi.regime.blend") is not None


def modes() -> list[str]:
    from phi.blending.blender import BLEND_MODES

    return [m for m in BLEND_MODES if m != "regime_weighted" or regime_blend_available()]


@st.cache_data(max_entries=8, show_spinner=False)
def regime_probs_for(_frame: pd.DataFrame, content_hash: str, overrides_json: str = "{}") -> pd.DataFrame:
    """The regime engine's probabilities on the loaded bars (defaults + the Regime view's settings)."""
    from phi.regime import MFTConfig, RegimeEngine

    return RegimeEngine(MFTConfig.from_dict(json.loads(overrides_json))).run(_frame).regime_probs


def default_matrix(names: list[str]) -> pd.DataFrame:
    """The regime engine's default 8 × N weights for ``names`` (regimes as rows)."""
    from phi.regime.blend import default_regime_weights

    return pd.DataFrame(default_regime_weights(names)).astype(float)


def _signals(ds: Any, selection: tuple[Any, ...]) -> pd.DataFrame:
    from phi.indicators.registry import compute_all_signals

    return ui.memo(
        "signals", (ds.content_hash, selection),
        lambda: compute_all_signals(ds.frame, {name: dict(params) for name, params in selection}), max_entries=4,
    )  # fmt: skip


def _blend_chart(signals: pd.DataFrame, blended: pd.Series, mode: str) -> charts.Chart:
    series = {str(c): signals[c] for c in signals.columns} | {"blend": blended}
    chart = charts.lines_chart(
        series, title=f"Blend preview ({mode})", height=300, y_range=(-1.05, 1.05),
        colors={"blend": BLEND},
    )  # fmt: skip
    for trace in chart.figure.data:
        if trace.name != "blend":
            trace.line.width = 0.8
            trace.opacity = 0.45
    return chart


def _preview(ds: Any, cfg: dict[str, Any], enabled: list[str]) -> None:
    """The blended signal on the loaded bars (phi's blender), drawn from a per-session store."""
    from phi.blending.blender import blend

    selection = tuple((n, tuple(sorted(forms.indicator_params(st.session_state, n).items()))) for n in enabled)
    signals = ui.attempt(_signals, ds, selection)
    if isinstance(signals, ui.Failed):
        return
    mode, params = cfg["mode"], cfg["params"]
    weights = {i["name"]: i["weight"] for i in forms.indicator_configs(st.session_state, mode) if i["enabled"]}
    chart: charts.Chart | ui.Failed
    if mode == "phiai":
        blended = _phiai_preview(ds, signals, params)
        if blended is None or isinstance(blended, ui.Failed):
            return
        if not blended.notna().any():  # an empty line with no word would look like a bug
            st.warning(
                f"The phiai blend has no value on any of the {len(blended):,} bars: the training window "
                f"({int(params['train_bars']):,} bars) and the indicators' warm-up leave none to weight. "
                "Lower Training bars or use a longer date range.",
                icon=":material/warning:",
            )
            return
        chart = _blend_chart(signals, blended, mode)
    else:

        def build() -> charts.Chart:
            if mode == "regime_weighted":
                probs = regime_probs_for(ds.frame, ds.content_hash, json.dumps(cfg.get("regime") or {}, sort_keys=True))
                out = blend(signals, mode, weights, regime_probs=probs, regime_weights=cfg.get("regime_weights"))
            else:
                out = blend(signals, mode, weights, dead_zone=params.get("dead_zone", 0.05))
            return _blend_chart(signals, out, mode)

        key = (ds.content_hash, selection, mode, tuple(sorted(weights.items())),
               json.dumps(params, sort_keys=True), json.dumps(cfg.get("regime_weights"), sort_keys=True),
               json.dumps(cfg.get("regime"), sort_keys=True))
        chart = ui.attempt(ui.memo, "blend_chart", key, build, 8)
    if not isinstance(chart, ui.Failed):
        ui.show_chart(chart, key="chart:blend")


def _phiai_preview(ds: Any, signals: pd.DataFrame, params: dict[str, Any]) -> pd.Series | ui.Failed | None:
    """The walk-forward phiai blend, computed on request (it backtests every indicator at every
    refresh, which can take long) and kept for the same data, signals and settings."""
    from phi.backtest.engine import EngineConfig
    from phi.blending.blender import apply_phiai, phiai_fit
    from phi.pipeline import engine_scorer

    capital = float(st.session_state.get(forms.DS_CAPITAL, 100_000.0))
    engine = forms.engine_settings(st.session_state, capital)
    key = (ds.content_hash, tuple(signals.columns), tuple(sorted(params.items())), tuple(sorted(engine.items())),
           tuple(sorted((n, tuple(sorted(forms.indicator_params(st.session_state, n).items()))) for n in signals.columns)))
    kept = st.session_state.get(PHIAI_PREVIEW)
    if kept is not None and kept[0] == key:
        out: pd.Series = kept[1]
        return out
    if not st.button("Preview the phiai blend", key="bl:phiai_preview",
                     help="Runs the walk-forward fit: every indicator is backtested at every refresh."):
        st.caption("The phiai preview runs the walk-forward fit on request.")
        return None

    def fit_and_apply() -> pd.Series:
        scorer = engine_scorer(ds.frame, EngineConfig(**engine), params["metric"])
        fit = phiai_fit(signals, score_fn=scorer, train_bars=params["train_bars"], step=params["step"],
                        window=params["window"])
        return apply_phiai(signals, fit)

    with st.spinner("Fitting the walk-forward weights ..."):
        blended = ui.attempt(fit_and_apply)
    if not isinstance(blended, ui.Failed):
        st.session_state[PHIAI_PREVIEW] = (key, blended)
    return blended


def render() -> None:
    from phi.backtest.run_config import PHIAI_METRICS
    from phi.blending.blender import PHIAI_WINDOWS

    selected = forms.selected_indicators(st.session_state)
    enabled = [n for n in selected if st.session_state.get(forms.ind_enabled(n), True)]
    available = modes()
    a, b = st.columns([1, 2])
    mode = a.selectbox("Blend mode", available, key=forms.BL_MODE, persist_state="session")
    b.caption(MODE_HELP.get(mode, ""))
    if not enabled:
        st.info("Enable at least one indicator in Step 2 to blend.")
        return
    if mode in ("weighted_sum", "voting"):
        cols = st.columns(min(4, len(enabled)))
        for i, name in enumerate(enabled):
            cols[i % len(cols)].slider(
                f"weight {name}", min_value=-2.0, max_value=2.0, value=1.0, step=0.05,
                key=forms.bl_weight(name), persist_state="session",
                help="Negative inverts the indicator; 0 leaves it out.",
            )  # fmt: skip
    if mode == "voting":
        st.slider("Dead zone", 0.0, 0.95, 0.05, 0.01, key=forms.BL_DEAD_ZONE, persist_state="session",
                  help="|signal| at or below this abstains.")
    elif mode == "phiai":
        c = st.columns(4)
        c[0].number_input("Training bars", min_value=2, value=252, step=21, key=forms.BL_TRAIN_BARS,
                          persist_state="session", help="Bars before the first weights apply (warm-up).")
        c[1].number_input("Refresh every (bars)", min_value=1, value=21, step=1, key=forms.BL_STEP,
                          persist_state="session")
        c[2].selectbox("Window", list(PHIAI_WINDOWS), key=forms.BL_WINDOW, persist_state="session")
        c[3].selectbox("Score by", list(PHIAI_METRICS), key=forms.BL_METRIC, persist_state="session")
    elif mode == "regime_weighted":
        _regime_matrix(enabled)
    ds = st.session_state.get(forms.DATASET)
    if ds is not None and ui.section_open(forms.SECTIONS[3]):
        _preview(ds, forms.blend_config(st.session_state), enabled)


def _regime_matrix(enabled: list[str]) -> None:
    """The 8 × N matrix, pre-filled with the engine's defaults, edited in place."""
    key = "bl:regime_editor"
    base = ui.attempt(default_matrix, enabled)
    if isinstance(base, ui.Failed):
        return
    kept = st.session_state.get(forms.BL_REGIME_MATRIX)
    if kept and list(base.index) == list(kept) and all(list(row) == enabled for row in kept.values()):
        base = pd.DataFrame(kept).T.reindex(index=base.index, columns=enabled).astype(float)  # the user's edits
    custom = st.session_state.get(forms.REGIME_OVERRIDES)
    st.caption(
        "Regime probabilities: the regime engine with "
        + ("the settings submitted in the Regime view (saved with the run)." if custom else
           "its calibrated default settings (change them in the Regime view).")
    )  # fmt: skip
    st.caption("Regime weight matrix W[regime, indicator] (pre-filled with the regime engine's defaults).")
    edited = st.data_editor(base, key=f"{key}:{'|'.join(enabled)}", width="stretch")
    st.session_state[forms.BL_REGIME_MATRIX] = {
        str(r): {str(c): float(edited.loc[r, c]) for c in edited.columns} for r in edited.index
    }
