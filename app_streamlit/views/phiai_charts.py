"""The PhiAI report's charts and tables: pure functions of a finished search's result (no
session state), drawn by :mod:`app_streamlit.views.phiai`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_streamlit import charts
from app_streamlit.styles import PLOTLY_LAYOUT


def _layout(fig: go.Figure, title: str, height: int) -> charts.Chart:
    fig.update_layout(**PLOTLY_LAYOUT)
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"}, height=height
    )
    return charts.Chart(fig)


def folds_chart(folds: pd.DataFrame, metric: str) -> charts.Chart:
    """In-sample (train) beside walk-forward out-of-sample (test) score per fold and indicator."""
    # two tick rows, the fold under each bar pair and the indicator under its folds: one
    # "vwap_dev · fold 5" label per pair was tilted and cut by the chart's bottom edge
    label = [folds["indicator"].astype(str).tolist(), folds["fold"].astype(str).tolist()]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=label, y=folds["is_score"].tolist(), name="in-sample (train)", marker_color="#60a5fa"
        )
    )
    fig.add_trace(
        go.Bar(
            x=label,
            y=folds["oos_score"].tolist(),
            name="out-of-sample (test)",
            marker_color="#f59e0b",
        )
    )
    fig.update_layout(barmode="group")
    chart = _layout(fig, f"{metric}: in-sample vs out-of-sample per walk-forward fold", 320)
    fig.update_xaxes(title={"text": "walk-forward fold, by indicator", "font": {"size": 11}}, tickangle=0, automargin=True)
    fig.update_yaxes(title={"text": metric, "font": {"size": 11}}, automargin=True)
    return chart


def slice_chart(
    trials: pd.DataFrame, params: list[str], best: Mapping[str, Any], name: str
) -> charts.Chart:
    """Every trial's mean in-sample score against each parameter (best parameters marked)."""
    from plotly.subplots import make_subplots

    feasible = trials[trials["feasible"]] if "feasible" in trials else trials
    fig = make_subplots(
        rows=1, cols=max(1, len(params)), shared_yaxes=True, subplot_titles=params or [""]
    )
    for i, p in enumerate(params, start=1):
        fig.add_trace(go.Scatter(x=feasible[p].tolist(), y=feasible["is_score"].tolist(), mode="markers",
                                 name="trial", marker={"size": 6, "color": "#60a5fa", "opacity": 0.7},
                                 showlegend=i == 1), 1, i)  # fmt: skip
        best_is = float(trials["is_score"].max()) if len(trials) else math.nan
        fig.add_trace(go.Scatter(x=[best[p]], y=[best_is], mode="markers", name="best",
                                 marker={"size": 12, "color": "#f59e0b", "symbol": "star"}, showlegend=i == 1), 1, i)  # fmt: skip
    chart = _layout(
        fig, f"{name}: mean in-sample score of every trial by parameter (slice plot)", 320
    )
    # the legend to the right of the title, clear of the panels' parameter names
    fig.update_layout(legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.2})
    fig.update_layout(margin={"t": 80})
    return chart


def importance_chart(importance: Mapping[str, float], name: str) -> charts.Chart:
    """Each parameter's fANOVA share of the score's variance (largest on top)."""
    items = sorted(importance.items(), key=lambda kv: kv[1])
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[k for k, _ in items],
            orientation="h",
            marker_color="#60a5fa",
            text=[f"{v:.0%}" for _, v in items],
            textposition="auto",
            name="importance",
        )
    )
    fig.update_xaxes(title="share of the score's variance (fANOVA)", range=[0, 1], tickformat=".0%")
    fig.update_yaxes(automargin=True)  # room for the longest parameter name
    chart = _layout(fig, f"{name}: parameter importance", 160 + 40 * len(items))
    fig.update_layout(margin={"b": 55})  # room for the axis title
    return chart


def score_columns(metric: str, folds: int = 0) -> dict[str, Any]:
    """Column labels of the tuner's tables: the mean in-sample and walk-forward out-of-sample
    scores (and per fold), the development bars' trades and max drawdown."""
    num = st.column_config.NumberColumn
    out: dict[str, Any] = {
        "name": st.column_config.TextColumn("indicator"),
        "is_score": num(f"IS {metric}", format="%.2f"),
        "oos_score": num(f"OOS {metric}", format="%.2f"),
        "trades": num("trades (development bars)"),
        "max_drawdown": num("max drawdown (development bars)", format="percent"),
    }
    for k in range(1, folds + 1):
        out[f"is_f{k}"] = num(f"IS fold {k}", format="%.2f")
        out[f"oos_f{k}"] = num(f"OOS fold {k}", format="%.2f")
    return out


def stability_text(stats: Mapping[str, Any]) -> str:
    """The neighbourhood stability as read in the table: two decimals, or why there is none
    (no other trial near the best one, or a best score not above 0) instead of a bare "None"."""
    v = stats.get("stability", math.nan)
    if isinstance(v, (int, float)) and math.isfinite(v):
        return f"{v:.2f}"
    return "n/a: no trial near the best" if not stats.get("stability_neighbours") else "n/a: best score ≤ 0"


def best_columns(metric: str) -> dict[str, Any]:
    """Column labels and formats of the best-parameters table: the metric named, scores to two
    decimals (as the other tuner tables), the blend weight in per cent."""
    num = st.column_config.NumberColumn
    return {
        "weight": num("blend weight", format="percent", help="The indicator's weight in the tuned blend."),
        "in-sample": num(f"IS {metric}", format="%.2f"),
        "out-of-sample (walk-forward)": num(f"OOS {metric} (walk-forward)", format="%.2f"),
        "hold-out (alone)": num(f"hold-out {metric} (alone)", format="%.2f"),
        "stability": st.column_config.TextColumn(
            "stability", help="Mean score of the trials next to the best one over the best score: 1 a plateau, "
            "near or below 0 a lone spike."),
    }  # fmt: skip


def best_table(result: Any, metric: str) -> pd.DataFrame:
    """One row per tuned indicator: best parameters, weight, IS/OOS, stability, trials."""
    weights = {i.name: i.weight for i in result.run_config.enabled_indicators}
    return pd.DataFrame(
        [
            {
                "indicator": name,
                "best parameters": ", ".join(f"{k}={v}" for k, v in t.best_params.items())
                or "(none)",
                "weight": weights.get(name, 0.0),
                "in-sample": t.is_score,
                "out-of-sample (walk-forward)": t.oos_score,
                "hold-out (alone)": t.holdout.get(metric, math.nan),
                "stability": stability_text(t.stats),
                "trials": t.stats.get("n_trials", len(t.trials)),
            }
            for name, t in result.tuning.items()
        ]
    )
