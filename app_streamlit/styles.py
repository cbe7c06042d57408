"""The workbench's look: the spec's dark purple / orange / charcoal theme in one place.

``THEME`` is the single source of the palette: ``.streamlit/config.toml`` mirrors it (a test
checks they agree) and ``phi workbench`` passes it to Streamlit as ``--theme.*`` flags, so the
theme holds whatever directory the workbench is started from. :func:`inject_css` adds the
custom CSS, :data:`PLOTLY_LAYOUT` styles every chart (the exported HTML report too).
"""

from __future__ import annotations

from typing import Any, Final

PURPLE: Final = "#a855f7"
ORANGE: Final = "#f97316"
CHARCOAL: Final = "#0a0a12"
PANEL: Final = "#141420"
TEXT: Final = "#e5e7eb"
MUTED: Final = "#9ca3af"
GRID: Final = "#262638"
GREEN: Final = "#22c55e"
RED: Final = "#ef4444"

#: Streamlit theme options (``[theme]`` of config.toml).
THEME: Final[dict[str, str]] = {
    "base": "dark",
    "primaryColor": PURPLE,
    "backgroundColor": CHARCOAL,
    "secondaryBackgroundColor": PANEL,
    "textColor": TEXT,
}

#: Colours of the 8 regime bins (regime view), in the engine's order.
REGIME_COLORS: Final[dict[str, str]] = {
    "TREND_UP": "#22c55e",
    "TREND_DN": "#ef4444",
    "RANGE": "#60a5fa",
    "BREAKOUT_UP": PURPLE,
    "BREAKOUT_DN": ORANGE,
    "EXHAUST_REV": "#eab308",
    "LOWVOL": "#14b8a6",
    "HIGHVOL": "#f43f5e",
}

#: Trace colours in order (first indicator purple, second orange, ...).
COLORWAY: Final = [PURPLE, ORANGE, "#60a5fa", "#22c55e", "#eab308", "#f43f5e", "#14b8a6", "#c084fc"]

PLOTLY_LAYOUT: Final[dict[str, Any]] = {
    "paper_bgcolor": CHARCOAL,
    "plot_bgcolor": CHARCOAL,
    "font": {"color": TEXT, "family": "Inter, system-ui, sans-serif", "size": 12},
    "colorway": COLORWAY,
    # the title on the first line of the top margin, the legend on the second (just above the
    # plot, left): a long legend (8 regimes) never runs into the title or the hover toolbar
    "margin": {"l": 50, "r": 20, "t": 58, "b": 30},
    "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0, "bgcolor": "rgba(0,0,0,0)"},
    "hovermode": "x unified",
    "xaxis": {"gridcolor": GRID, "zerolinecolor": GRID},
    "yaxis": {"gridcolor": GRID, "zerolinecolor": GRID},
}

CSS: Final = f"""
<style>
.stApp {{ background: {CHARCOAL}; }}
h1, h2, h3 {{ letter-spacing: 0.2px; }}
.phi-title {{ font-size: 1.9rem; font-weight: 700; margin: 0 0 0.2rem 0;
  background: linear-gradient(90deg, {PURPLE}, {ORANGE}); -webkit-background-clip: text;
  -webkit-text-fill-color: transparent; }}
.phi-sub {{ color: {MUTED}; margin-bottom: 0.6rem; }}
.phi-step {{ border-left: 3px solid {PURPLE}; padding: 0.1rem 0 0.1rem 0.7rem; margin: 1.2rem 0 0.5rem 0;
  font-size: 1.25rem; font-weight: 650; }}
.phi-step span {{ color: {ORANGE}; margin-right: 0.4rem; }}
.phi-ribbon {{ display: flex; gap: 0.8rem; flex-wrap: wrap; margin: 0.4rem 0 0.8rem 0; }}
.phi-card {{ background: {PANEL}; border: 1px solid {GRID}; border-radius: 10px; padding: 0.55rem 0.9rem;
  min-width: 150px; }}
.phi-card .k {{ color: {MUTED}; font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.5px; }}
.phi-card .v {{ font-size: 1.25rem; font-weight: 650; }}
.phi-pos {{ color: {GREEN}; }}
.phi-neg {{ color: {RED}; }}
.phi-synthetic {{ color: {ORANGE}; font-weight: 700; }}
div[data-testid="stExpander"] details {{ border-color: {GRID}; }}
</style>
"""


def inject_css() -> None:
    """Add the workbench CSS to the page (call once per script run)."""
    import streamlit as st

    st.html(CSS)


def streamlit_flags() -> list[str]:
    """``--theme.<option>=<value>`` flags for ``streamlit run`` (used by ``phi workbench``)."""
    return [f"--theme.{k}={v}" for k, v in THEME.items()]
