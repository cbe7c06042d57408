"""ML Status page: every stored model with its card (features, data, CV per fold, hold-out,
calibration curve, feature importance), RL agents with their engine returns, and a panel that
trains a classifier on the loaded dataset with a progress bar."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_streamlit import forms, ui

FORM = "ml:train"
PICK = "ml:pick"
NAME = "ml:name"
GO = "ml:go"
_MODELS = {"rf": "Random forest", "gb": "Gradient boosting", "lr": "Logistic regression", "lgbm": "LightGBM"}
_LABELS = {"direction": "Direction over the next bars", "triple_barrier": "Triple barrier (profit / stop / time)"}


def _layout(fig: Any, title: str) -> Any:
    from app_streamlit.styles import PLOTLY_LAYOUT

    fig.update_layout(**PLOTLY_LAYOUT)
    fig.update_layout(title=title, height=340, margin={"l": 50, "r": 20, "t": 50, "b": 40})
    return fig


def calibration_figure(cal: list[dict[str, float]]) -> Any:
    """Predicted P(up) per bin against the observed share of ups on the hold-out."""
    import plotly.graph_objects as go

    from app_streamlit.styles import OI_GREY, OI_ORANGE

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                             line={"color": OI_GREY, "dash": "dot"}))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=[c["predicted"] for c in cal], y=[c["observed"] for c in cal], mode="lines+markers",
        name="hold-out", text=[f"{c['count']} bars" for c in cal], line={"color": OI_ORANGE},
    ))  # fmt: skip
    fig.update_xaxes(title="predicted P(up)", range=[0, 1])
    fig.update_yaxes(title="observed share of ups", range=[0, 1])
    return _layout(fig, "Calibration on the hold-out")


def importance_figure(importance: dict[str, float], top: int = 15) -> Any:
    """The ``top`` most important features, largest at the top."""
    import plotly.graph_objects as go

    from app_streamlit.styles import OI_SKY

    items = sorted(importance.items(), key=lambda kv: kv[1])[-top:]
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h",
                           marker={"color": OI_SKY}, name="importance"))  # fmt: skip
    fig.update_xaxes(title="share of total importance")
    return _layout(fig, f"Feature importance (top {len(items)})")


def _cv_table(meta: dict[str, Any]) -> Any:
    import pandas as pd

    cv = pd.DataFrame(meta["cv_scores"])
    cols = ["fold", "test_start", "test_end", "n_train", "n_test", "accuracy", "log_loss", "auc"]
    out = cv[cols].copy()
    for c in ("test_start", "test_end"):
        out[c] = out[c].str[:10]
    return out.rename(columns={"test_start": "test from", "test_end": "test to", "n_train": "train bars",
                               "n_test": "test bars", "log_loss": "log loss", "auc": "AUC"})  # fmt: skip


def _classifier(meta: dict[str, Any]) -> None:
    d, ho = meta["data"], meta["holdout_scores"]
    cv = meta["cv_scores"]
    pooled = sum(r["accuracy"] * r["n_test"] for r in cv) / max(1, sum(r["n_test"] for r in cv))
    edge = ho["accuracy"] - max(ho["up_share"], 1 - ho["up_share"])
    ui.ribbon([
        ("model", _MODELS.get(meta["model"], meta["model"]), 0),
        ("CV accuracy (pooled)", f"{pooled:.3f}", 0),
        ("hold-out accuracy", f"{ho['accuracy']:.3f}", 1 if edge > 0.01 else -1 if edge < -0.01 else 0),
        ("hold-out AUC", ui.fmt_value(ho["auc"]), 0),
        ("hold-out bars", f"{ho['n']:,}", 0),
    ])  # fmt: skip
    verdict = (
        "beats always guessing the majority side" if edge > 0.01
        else "no better than always guessing the majority side: no skill shown"
    )  # fmt: skip
    st.markdown(
        f"**Predicts**: {meta.get('label_text', meta['label'])}. **Hold-out** {str(ho['start'])[:10]} → "
        f"{str(ho['end'])[:10]} ({100 * ho['up_share']:.1f} % up) was never used for training or choices: "
        f"accuracy {ho['accuracy']:.3f} {verdict}."
    )
    st.caption(
        f"Data: {d.get('symbol') or 'unnamed'}, {d['rows']:,} bars {d['first'][:10]} → {d['last'][:10]}, "
        f"fingerprint {str(d['fingerprint'])[:12]} · {meta['folds']}-fold purged walk-forward CV, embargo "
        f"{meta['embargo']} bars · seed {meta['seed']} · created {str(meta.get('created_at', ''))[:16]} · "
        + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    )
    st.markdown("**Walk-forward CV, fold by fold** (each fold trains only on earlier bars)")
    st.dataframe(_cv_table(meta), hide_index=True, key=f"ml:cv:{meta['name']}")
    c = st.columns(2)
    with c[0]:
        if meta.get("calibration"):
            st.plotly_chart(calibration_figure(meta["calibration"]), key=f"ml:cal:{meta['name']}", theme=None)
    with c[1]:
        if meta.get("importance"):
            st.plotly_chart(importance_figure(meta["importance"]), key=f"ml:imp:{meta['name']}", theme=None)
        else:
            st.caption("This model type reports no built-in feature importance.")
    with st.expander(f"Features ({len(meta['features'])})"):
        st.write(", ".join(f"`{f}`" for f in meta["features"]))


def _agent(meta: dict[str, Any]) -> None:
    s, d = meta.get("scores", {}), meta["data"]
    beat = s.get("test_return", 0) > s.get("random_test_return", 0)
    ui.ribbon([
        ("model", "PPO agent", 0),
        ("test return", ui.fmt_value(s.get("test_return"), "pct"), 1 if s.get("test_return", 0) > 0 else -1),
        ("random policy", ui.fmt_value(s.get("random_test_return"), "pct"), 0),
        ("buy and hold", ui.fmt_value(s.get("buy_and_hold_test_return"), "pct"), 0),
        ("test Sharpe", ui.fmt_value(s.get("test_sharpe")), 0),
    ])  # fmt: skip
    st.markdown(
        f"Trained on the bars before **{d['test_start'][:10]}**; the returns are the engine's on the untouched "
        f"bars after it (next-open fills, costs {meta.get('costs')}). It "
        + ("beats" if beat else "does **not** beat") + " the mean of the seeded random policies."
    )
    st.caption(f"Data: {d.get('symbol') or 'unnamed'}, {d['rows']:,} bars {d['first'][:10]} → {d['last'][:10]} · "
               f"{meta.get('timesteps', 0):,} PPO steps, seed {meta.get('seed')}")  # fmt: skip


def _train_form() -> None:
    ds = st.session_state.get(forms.DATASET)
    with st.expander("Train a classifier on the loaded dataset", expanded=False):
        if ds is None:
            st.info("Load a dataset in the Workbench (Step 1) first; the classifier trains on it.")
            return
        spec = st.session_state.get(forms.DATASET_SPEC, {})
        symbol = str(spec.get("symbol") or ds.metadata.get("symbol", "data"))
        with st.container(border=True, key=FORM):  # no st.form: what is typed is kept (ui.kept)
            c = st.columns(4)
            model = c[0].selectbox("Model", list(_MODELS.keys()), format_func=lambda k: _MODELS[k], **ui.kept("ml:model", "rf"))
            label = c[1].selectbox("Label", list(_LABELS.keys()), format_func=lambda k: _LABELS[k], **ui.kept("ml:label", "direction"))
            horizon = c[2].number_input("Horizon (bars)", 1, 100, **ui.kept("ml:horizon", 1),
                                        help="Bars ahead the label looks (the triple barrier's time limit).")
            folds = c[3].number_input("CV folds", 2, 10, **ui.kept("ml:folds", 5))
            c = st.columns(4)
            holdout = c[0].slider("Hold-out share", 0.1, 0.4, step=0.05, **ui.kept("ml:holdout", 0.2),
                                  help="The last bars, never used for training: the honest score.")
            profit = c[1].number_input("Profit barrier", 0.002, 0.5, step=0.005, format="%.3f", **ui.kept("ml:profit", 0.02),
                                       help="Triple barrier only: fraction above the close (0.02 = 2 %).")
            stop = c[2].number_input("Stop barrier", 0.002, 0.5, step=0.005, format="%.3f", **ui.kept("ml:stop", 0.02),
                                     help="Triple barrier only: fraction below the close.")
            features = c[3].selectbox("Features", ["all", "wyckoff"], **ui.kept("ml:features", "all"))
            # the name follows the dataset and the model until the user types one (emptied: follows again)
            if not st.session_state.get(ui.KEPT + NAME):
                st.session_state[NAME] = f"{symbol}_{model}"
            name = st.text_input("Save as", **ui.kept(NAME, f"{symbol}_{model}"))
            go = st.button("Train", key=GO, type="primary")
        if go:
            _train(ds, name, symbol, model=model, label=label, horizon=int(horizon), folds=int(folds),
                   holdout=float(holdout), profit=float(profit), stop=float(stop), feature_set=features)  # fmt: skip


def _train(ds: Any, name: str, symbol: str, **kwargs: Any) -> None:
    from phi.ml.store import check_name, save_model
    from phi.ml.train import train_classifier

    if isinstance(ui.attempt(check_name, name), ui.Failed):
        return
    bar = st.progress(0.0, text="computing features")

    def progress(frac: float, msg: str) -> None:  # called after each fold
        bar.progress(min(max(frac, 0.0), 1.0), text=msg)

    model = ui.attempt(train_classifier, ds.frame, progress=progress, **kwargs)
    if isinstance(model, ui.Failed):
        return
    model.data["symbol"] = model.data.get("symbol") or symbol
    from phi.errors import PhiError

    try:
        save_model(model, name)
    except PhiError as exc:  # one message: what was trained, and why it is not stored
        st.warning(f"Trained (hold-out accuracy {model.holdout_scores['accuracy']:.3f}) but not saved: "
                   f"{ui.sentence(str(exc))} A model is used by its stored name, so train it again once "
                   "the models folder is writable.", icon=":material/warning:")  # fmt: skip
        return
    st.session_state[PICK] = name
    st.success(f"Trained and saved {name}: hold-out accuracy {model.holdout_scores['accuracy']:.3f}.")


def render() -> None:
    st.subheader("ML Status — stored models")
    try:
        from phi.ml.store import list_models, models_root
    except ImportError:  # pragma: no cover - phi.ml itself needs no extra
        st.error("phi.ml is not importable")
        return
    _train_form()
    models = list_models()
    if not models:
        st.info(
            f"No models yet in {models_root()}. Train one above, or from a shell: "
            "`phi ml train DEMO --model lgbm` (classifier), `phi rl train DEMO` (PPO agent)."
        )
        return
    names = [m["name"] for m in models]
    if st.session_state.get(PICK) not in names:
        st.session_state[PICK] = names[0]
    pick = st.selectbox(f"Model ({len(names)} stored in {models_root()})", names, key=PICK)
    meta = next(m for m in models if m["name"] == pick)
    if "error" in meta:
        st.error(meta["error"])
        return
    if meta["kind"] == "classifier":
        _classifier(meta)
    else:
        _agent(meta)
    from phi.ml.store import models_root as root

    card = root() / pick / "card.md"
    with st.expander("Model card (card.md)"):
        st.markdown(card.read_text(encoding="utf-8") if card.is_file() else "(no card)")
