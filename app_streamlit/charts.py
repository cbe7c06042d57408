"""Plotly figures of the workbench, downsampled for display only.

Every computation (indicators, blend, engine, metrics) uses every bar; only what is sent to the
browser is thinned. Lines keep the minimum and the maximum of each bucket (so spikes and
drawdown troughs survive), candlesticks merge consecutive bars into one candle per bucket
(first open, highest high, lowest low, last close), and trade markers are thinned evenly. A
figure that was thinned says so in its title. No chart sends more than :data:`MAX_POINTS`
points per trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app_streamlit.styles import (
    COLORWAY,
    DOWN,
    EXIT,
    LONG_ENTRY,
    MUTED,
    PLOTLY_LAYOUT,
    PURPLE,
    REGIME_COLORS,
    SHORT_ENTRY,
    UP,
    WHITE,
)

#: Most points one line trace sends to the browser.
MAX_POINTS: Final = 10_000
#: Most candles one candlestick trace sends (each candle carries four prices).
MAX_CANDLES: Final = 2_500
#: Most trades drawn as entry/exit markers.
MAX_MARKERS: Final = 2_000


# ---------------------------------------------------------------------------- downsampling


def minmax_indices(values: np.ndarray, max_points: int = MAX_POINTS) -> np.ndarray:
    """Sorted positions to draw: the min and max of each bucket plus the first and last point.

    Returns ``arange(n)`` when ``n <= max_points``; otherwise at most ``max_points`` positions.
    NaN values never win a bucket unless the whole bucket is NaN (then the gap is kept).
    """
    y = np.asarray(values, dtype=np.float64)
    n = len(y)
    if n <= max_points:
        return np.arange(n)
    buckets = max(1, (max_points - 2) // 2)
    size = -(-n // buckets)
    pad = buckets * size - n
    padded = np.concatenate([y, np.full(pad, np.nan)]).reshape(buckets, size)
    lo = np.where(np.isnan(padded), np.inf, padded).argmin(axis=1)
    hi = np.where(np.isnan(padded), -np.inf, padded).argmax(axis=1)
    base = np.arange(buckets) * size
    idx = np.concatenate([[0, n - 1], base + lo, base + hi])
    return np.unique(idx[idx < n])


def thin(series: pd.Series, max_points: int = MAX_POINTS) -> pd.Series:
    """``series`` reduced to its bucket minima/maxima (see :func:`minmax_indices`)."""
    if len(series) <= max_points:
        return series
    return series.iloc[minmax_indices(series.to_numpy(dtype=np.float64), max_points)]


def ohlc_buckets(frame: pd.DataFrame, max_candles: int = MAX_CANDLES) -> tuple[pd.DataFrame, int]:
    """Consecutive bars merged into at most ``max_candles`` candles; returns ``(candles, bars_per_candle)``.

    Each candle is stamped with its first bar and holds that bar's open, the highest high,
    the lowest low and the last bar's close.
    """
    n = len(frame)
    if n <= max_candles:
        return frame, 1
    k = -(-n // max_candles)
    m = -(-n // k)
    pad = m * k - n

    def grid(col: str) -> np.ndarray:
        a = frame[col].to_numpy(dtype=np.float64)
        return np.concatenate([a, np.full(pad, np.nan)]).reshape(m, k)

    counts = np.full(m, k)
    counts[-1] = k - pad
    closes = grid("close")
    out = pd.DataFrame(
        {
            "open": grid("open")[:, 0],
            "high": np.nanmax(grid("high"), axis=1),
            "low": np.nanmin(grid("low"), axis=1),
            "close": closes[np.arange(m), counts - 1],
        },
        index=frame.index[::k],
    )
    return out, k


def _note(shown: int, total: int, what: str = "points") -> str:
    if shown >= total:
        return ""
    return f" · display thinned to {shown:,} of {total:,} {what} (computations use every bar)"


def is_daily(index: pd.Index) -> bool:
    """True when every stamp is at midnight (daily or longer bars)."""
    idx = pd.DatetimeIndex(index)
    return bool(len(idx)) and bool((idx.normalize() == idx).all())


def local_index(index: pd.Index, tz: str | None = None) -> pd.DatetimeIndex:
    """Stamps as people read them: daily bars as their dates, intraday bars in the exchange's
    time zone ``tz`` (wall-clock, no offset), so charts and tables never show ``+00:00``."""
    idx = pd.DatetimeIndex(index)
    if idx.tz is None:
        return idx
    if tz and not is_daily(idx):
        return idx.tz_convert(tz).tz_localize(None)
    return idx.tz_localize(None)


def end_at_data(fig: go.Figure, index: pd.Index, **where: Any) -> None:
    """Fix the x axis (or the subplot's, via ``row``/``col``) to the data's first..last stamp:
    the axis ends where the data ends (no autorange padding past the last bar)."""
    idx = pd.DatetimeIndex(index)
    if len(idx) == 0:
        return
    daily = is_daily(idx)
    fig.update_xaxes(range=[idx[0], idx[-1]], hoverformat="%Y-%m-%d" if daily else "%Y-%m-%d %H:%M", **where)


def distinct_colors(names: Sequence[str], fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """A colour per name: ``fixed`` ones first, the others from :data:`COLORWAY` skipping colours
    already taken, so no two series of one chart share a colour (beyond 8, hues repeat)."""
    fixed = dict(fixed or {})
    taken = {c.lower() for c in fixed.values()}
    free = [c for c in COLORWAY if c.lower() not in taken]
    out: dict[str, str] = {}
    i = 0
    for name in names:
        if name in fixed:
            out[name] = fixed[name]
        else:
            out[name] = free[i % len(free)] if free else COLORWAY[i % len(COLORWAY)]
            i += 1
    return out


#: The currency a money axis names when the dataset does not say (prices and capital are in it).
DEFAULT_CURRENCY: Final = "$"


def money_title(what: str, currency: str | None = None) -> str:
    """A money axis title: ``"Equity ($)"``, or the dataset's currency (``"Equity (EUR)"``)."""
    return f"{what} ({currency or DEFAULT_CURRENCY})"


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(**PLOTLY_LAYOUT)
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left", "yref": "container",
               "y": 1.0, "yanchor": "top", "pad": {"t": 8}},
        height=height,
    )  # fmt: skip
    fig.update_xaxes(gridcolor=PLOTLY_LAYOUT["xaxis"]["gridcolor"], showspikes=False)
    # a titled y axis (its unit) takes the room its ticks and title need
    fig.update_yaxes(gridcolor=PLOTLY_LAYOUT["yaxis"]["gridcolor"], automargin=True)
    fig.update_yaxes(title_standoff=6, title_font={"size": 11}, selector=lambda ax: bool(ax.title.text))
    return fig


#: Width of one character of a legend entry's text (12 px sans-serif), generously rounded up.
LEGEND_CHAR_PX: Final = 7


def legend_text_px(fig: go.Figure) -> int:
    """Pixels the longest legend name (traces and shapes shown in the legend) needs."""
    names = [t.name for t in fig.data if t.showlegend is not False and t.name]
    names += [s.name for s in fig.layout.shapes if s.showlegend and s.name]
    return LEGEND_CHAR_PX * max((len(str(n)) for n in names), default=0)


def legend_below(fig: go.Figure, entry_width: int = 130) -> go.Figure:
    """The legend as horizontal rows under the plot, left-aligned, entries ``entry_width`` px
    wide, or wider when a name needs it (:func:`legend_text_px`; "expert agreement
    (c_consensus)" ran into the next entry): a long legend then never runs under the hover
    toolbar (top right) or the title."""
    fig.update_layout(
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.08, "yanchor": "top", "yref": "paper",
                "entrywidthmode": "pixels", "entrywidth": max(entry_width, legend_text_px(fig))},
        margin={"t": 36},
    )  # fmt: skip
    return fig


@dataclass
class Chart:
    """A figure plus whether (and how much) it was thinned for display."""

    figure: go.Figure
    thinned: bool = False
    note: str = ""


# ---------------------------------------------------------------------------- dataset


def price_chart(
    frame: pd.DataFrame,
    title: str,
    trades: pd.DataFrame | None = None,
    *,
    height: int = 420,
    max_candles: int = MAX_CANDLES,
    tz: str | None = None,
    currency: str | None = None,
) -> Chart:
    """Candlesticks of ``frame`` (merged into buckets beyond ``max_candles``), optionally with
    trade entry (triangles) and exit (crosses) markers."""
    candles, k = ohlc_buckets(frame, max_candles)
    x = local_index(candles.index, tz)
    fig = go.Figure(
        go.Candlestick(
            x=x,
            open=candles["open"],
            high=candles["high"],
            low=candles["low"],
            close=candles["close"],
            name="price",
            increasing={"line": {"color": UP}, "fillcolor": UP},
            decreasing={"line": {"color": DOWN}, "fillcolor": DOWN},
        )
    )
    note = _note(len(candles), len(frame), "bars") + (f" ({k} bars per candle)" if k > 1 else "")
    if trades is not None and len(trades):
        shown = trades
        if len(trades) > MAX_MARKERS:
            shown = trades.iloc[np.linspace(0, len(trades) - 1, MAX_MARKERS).astype(int)]
            note += _note(len(shown), len(trades), "trade markers")
        for side, color, symbol in (("long", LONG_ENTRY, "triangle-up"), ("short", SHORT_ENTRY, "triangle-down")):
            sub = shown[shown["side"] == side]
            if len(sub):
                fig.add_trace(
                    go.Scatter(
                        x=local_index(pd.DatetimeIndex(sub["entry_time"]), tz), y=sub["entry_price"], mode="markers", name=f"{side} entry",
                        marker={"symbol": symbol, "size": 10, "color": color, "line": {"width": 1, "color": "#fff"}},
                    )
                )
        closed = shown[~shown["open"].astype(bool)]
        if len(closed):
            fig.add_trace(
                go.Scatter(
                    x=local_index(pd.DatetimeIndex(closed["exit_time"]), tz), y=closed["exit_price"], mode="markers",
                    name="exit", marker={"symbol": "x", "size": 8, "color": EXIT},
                    text=closed["exit_reason"], hovertemplate="exit %{text}: %{y:.2f}<extra></extra>",
                )
            )
    fig.update_layout(xaxis_rangeslider_visible=False)
    fig.update_yaxes(title_text=money_title("Price", currency))
    _layout(fig, title + note, height)
    end_at_data(fig, local_index(frame.index, tz))
    return Chart(fig, bool(note), note)


# ---------------------------------------------------------------------------- results


def drawdown(equity: pd.Series, initial: float) -> pd.Series:
    """Drawdown of the equity curve from its running peak (the initial capital counts as a peak),
    the same convention as :func:`phi.backtest.metrics.max_drawdown` (display only)."""
    peak = np.maximum.accumulate(np.maximum(equity.to_numpy(dtype=np.float64), initial))
    return pd.Series(equity.to_numpy() / peak - 1.0, index=equity.index, name="drawdown")


def equity_chart(
    equity: pd.Series, initial: float, *, title: str = "Equity and drawdown", height: int = 460, tz: str | None = None,
    currency: str | None = None,
) -> Chart:
    """Equity line over a drawdown area (two rows, shared x axis)."""
    eq = thin(equity)
    dd = thin(drawdown(equity, initial))
    eq.index = local_index(eq.index, tz)
    dd.index = local_index(dd.index, tz)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=eq.index, y=eq.to_numpy(), name="equity", line={"color": PURPLE, "width": 1.6}), 1, 1)
    fig.add_trace(
        go.Scatter(
            x=dd.index, y=dd.to_numpy(), name="drawdown", fill="tozeroy",
            line={"color": DOWN, "width": 1}, fillcolor="rgba(213,94,0,0.25)",
        ),
        2, 1,
    )  # fmt: skip
    fig.update_yaxes(tickformat=".0%", title_text="Drawdown", row=2, col=1)
    fig.update_yaxes(tickformat=",.0f", title_text=money_title("Equity", currency), row=1, col=1)
    note = _note(len(eq), len(equity))
    _layout(fig, title + note, height)
    end_at_data(fig, local_index(equity.index, tz))
    return Chart(fig, bool(note), note)


#: Above this many lines an overlay's legend goes below the plot (horizontal, wrapping): above
#: it, ten runs' names stacked up push the plot down and out of the first screen.
LEGEND_ABOVE_MAX: Final = 4


def overlay_chart(
    curves: pd.DataFrame,
    *,
    title: str = "Equity curves",
    height: int = 420,
    currency: str | None = None,
    full_names: Mapping[str, str] | None = None,
) -> Chart:
    """One line per column (e.g. several runs' equity curves), each thinned on its own.

    ``full_names`` maps a column (a short legend label such as ``"#3 rsi+macd"``) to the name
    its hover shows. With more than :data:`LEGEND_ABOVE_MAX` lines the legend is a horizontal,
    wrapping block under the plot and the figure grows by its rows, so the plot keeps its
    height."""
    fig = go.Figure()
    notes = []
    colors = distinct_colors([str(c) for c in curves.columns])
    for i, col in enumerate(curves.columns):
        s = curves[col].dropna()
        t = thin(s)
        notes.append(len(t) < len(s))
        hover = str((full_names or {}).get(str(col), col))
        # past the 8 colours hues repeat: the second round is dotted, the third dashed
        dash = ("solid", "dot", "dash")[(i // len(COLORWAY)) % 3]
        fig.add_trace(
            go.Scatter(
                x=local_index(t.index), y=t.to_numpy(), name=str(col),
                line={"color": colors[str(col)], "width": 1.5, "dash": dash},
                hovertemplate=f"{hover}: %{{y:,.2f}}<extra></extra>",
            )
        )  # fmt: skip
    note = " · display thinned (computations use every bar)" if any(notes) else ""
    fig.update_yaxes(title_text=money_title("Equity", currency), tickformat=",.0f")
    below = len(curves.columns) > LEGEND_ABOVE_MAX
    if below:  # 3-6 entries a row: one legend row per 4 lines, 22 px each
        height += 22 * -(-len(curves.columns) // 4)
    _layout(fig, title + note, height)
    if below:
        legend_below(fig)
    end_at_data(fig, local_index(curves.dropna(how="all").index))
    return Chart(fig, bool(note), note)


def lines_chart(
    series: Mapping[str, pd.Series],
    *,
    title: str,
    height: int = 300,
    y_range: Sequence[float] | None = None,
    colors: Mapping[str, str] | None = None,
    step: Sequence[str] = (),
    tz: str | None = None,
    y_title: str | None = None,
) -> Chart:
    """Several named lines on one axis (signals, blends, positions), each its own colour;
    ``step`` names are drawn as steps; ``y_title`` names the y axis (with its unit)."""
    fig = go.Figure()
    thinned = False
    palette = distinct_colors(list(series), colors)
    first = last = None
    for name, s in series.items():
        t = thin(s)
        thinned |= len(t) < len(s)
        color = palette[name]
        if len(s):
            first = s.index[0] if first is None else min(first, s.index[0])
            last = s.index[-1] if last is None else max(last, s.index[-1])
        fig.add_trace(
            go.Scatter(
                x=local_index(t.index, tz), y=t.to_numpy(), name=name,
                line={"color": color, "width": 1.3, "shape": "hv" if name in step else "linear"},
            )
        )  # fmt: skip
    if y_range is not None:
        fig.update_yaxes(range=list(y_range))
    if y_title:
        fig.update_yaxes(title_text=y_title)
    note = " · display thinned (computations use every bar)" if thinned else ""
    _layout(fig, title + note, height)
    if first is not None:
        end_at_data(fig, local_index(pd.DatetimeIndex([first, last]), tz))
    return Chart(fig, thinned, note)


def panels_chart(
    panels: Mapping[str, pd.Series],
    *,
    title: str,
    panel_height: int = 120,
    tz: str | None = None,
) -> Chart:
    """One small panel per series, stacked on a shared time axis, each with its own y axis
    titled by its key (the quantity and its unit: ``"Delta (shares)"``): quantities in
    different units never share a scale. No legend: each axis says what its line is."""
    n = max(1, len(panels))
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    palette = distinct_colors(list(panels))
    thinned = False
    first = last = None
    for row, (name, s) in enumerate(panels.items(), start=1):
        t = thin(s)
        thinned |= len(t) < len(s)
        if len(s):
            first = s.index[0] if first is None else min(first, s.index[0])
            last = s.index[-1] if last is None else max(last, s.index[-1])
        fig.add_trace(
            go.Scatter(x=local_index(t.index, tz), y=t.to_numpy(), name=name,
                       line={"color": palette[name], "width": 1.3}),
            row, 1,
        )  # fmt: skip
        fig.update_yaxes(title_text=name, row=row, col=1)
    note = " · display thinned (computations use every bar)" if thinned else ""
    _layout(fig, title + note, 40 + panel_height * n)
    fig.update_layout(showlegend=False, margin={"t": 34})
    if first is not None:
        end_at_data(fig, local_index(pd.DatetimeIndex([first, last]), tz))
    return Chart(fig, thinned, note)


def signal_mini(signal: pd.Series, *, title: str, height: int = 170) -> Chart:
    """A small chart of one signal in [-1, 1]."""
    chart = lines_chart({signal.name or "signal": signal}, title=title, height=height, y_range=(-1.05, 1.05))
    chart.figure.update_layout(margin={"l": 35, "r": 10, "t": 30, "b": 20}, showlegend=False)
    return chart


def trade_pnl_chart(trades: pd.DataFrame, *, height: int = 420, currency: str | None = None) -> Chart:
    """P&L per trade (bars, green/red) over the cumulative P&L (line), one point per trade."""
    n = len(trades)
    pos = np.arange(n) if n <= MAX_POINTS else np.linspace(0, n - 1, MAX_POINTS).astype(int)
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    cum = np.cumsum(pnl)
    x = pos + 1
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.5, 0.5], vertical_spacing=0.06)
    fig.add_trace(
        go.Bar(x=x, y=pnl[pos], name="P&L per trade", marker={"color": np.where(pnl[pos] >= 0, UP, DOWN).tolist()}),
        1, 1,
    )  # fmt: skip
    fig.add_trace(go.Scatter(x=x, y=cum[pos], name="cumulative P&L", line={"color": PURPLE, "width": 1.6}), 2, 1)
    fig.update_xaxes(title_text="trade #", row=2, col=1)
    fig.update_yaxes(title_text=money_title("P&L", currency), tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(title_text=money_title("Cumulative", currency), tickformat=",.0f", row=2, col=1)
    note = _note(len(x), len(trades), "trades")
    return Chart(_layout(fig, "Trade P&L" + note, height), bool(note), note)


# ---------------------------------------------------------------------------- regime view


def regime_area_chart(probs: pd.DataFrame, *, height: int = 380) -> Chart:
    """Stacked areas of the regime probabilities (rows sum to 1), each column thinned on the same stamps."""
    n = len(probs)
    idx = np.arange(n)
    if n > MAX_POINTS:
        idx = np.linspace(0, n - 1, MAX_POINTS).astype(int)
    shown = probs.iloc[idx]
    fig = go.Figure()
    x = local_index(shown.index)
    for col in probs.columns:
        fig.add_trace(
            go.Scatter(
                x=x, y=shown[col].to_numpy(), name=str(col), stackgroup="p", mode="lines",
                line={"width": 0.5, "color": REGIME_COLORS.get(str(col), MUTED)},
            )
        )  # fmt: skip
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    note = _note(len(shown), n, "bars (every k-th bar)")
    _layout(fig, "Regime probabilities" + note, height + 44)  # two legend rows below
    legend_below(fig, 120)
    end_at_data(fig, local_index(probs.index))
    return Chart(fig, bool(note), note)


def regime_timeline_chart(close: pd.Series, dominant: pd.Series, *, height: int = 420) -> Chart:
    """Close price (top) over a strip of the dominant regime per bar (bottom)."""
    n = len(close)
    idx = np.arange(n) if n <= MAX_POINTS else np.linspace(0, n - 1, MAX_POINTS).astype(int)
    c = close.iloc[idx]
    d = dominant.iloc[idx].astype(str)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.78, 0.22], vertical_spacing=0.03)
    c.index = local_index(c.index)
    d.index = local_index(d.index)
    fig.add_trace(go.Scatter(x=c.index, y=c.to_numpy(), name="close", line={"color": WHITE, "width": 1.2}), 1, 1)
    for name, color in REGIME_COLORS.items():
        mask = (d == name).to_numpy()
        if mask.any():
            fig.add_trace(
                go.Scatter(
                    x=d.index[mask], y=np.ones(int(mask.sum())), mode="markers", name=name,
                    marker={"symbol": "square", "size": 9, "color": color}, hovertemplate=f"{name}<extra></extra>",
                ),
                2, 1,
            )  # fmt: skip
    fig.update_yaxes(visible=False, row=2, col=1)
    note = _note(len(c), n, "bars (every k-th bar)")
    _layout(fig, "Price and dominant regime" + note, height + 44)  # two legend rows below
    legend_below(fig, 120)
    end_at_data(fig, local_index(close.index))
    return Chart(fig, bool(note), note)


def figure_spec(fig: go.Figure) -> dict[str, Any]:
    """The figure as a plain dict (what Streamlit sends to the browser), for tests and exports."""
    import json

    import plotly.io as pio

    return dict(json.loads(pio.to_json(fig, validate=False)))
