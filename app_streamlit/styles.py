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
AMBER: Final = "#f59e0b"  # a warning: works, with a limitation

#: Streamlit theme options (``[theme]`` of config.toml).
THEME: Final[dict[str, str]] = {
    "base": "dark",
    "primaryColor": PURPLE,
    "backgroundColor": CHARCOAL,
    "secondaryBackgroundColor": PANEL,
    "textColor": TEXT,
}

#: One colour-blind-safe palette (Okabe & Ito, 2008), its black swapped for light grey on the
#: dark theme. Every chart takes its series colours from here, and no two series of one chart
#: share a colour.
OI_ORANGE: Final = "#E69F00"
OI_SKY: Final = "#56B4E9"
OI_GREEN: Final = "#009E73"
OI_YELLOW: Final = "#F0E442"
OI_BLUE: Final = "#0072B2"
OI_VERMILLION: Final = "#D55E00"
OI_PURPLE: Final = "#CC79A7"
OI_GREY: Final = "#BBBBBB"
WHITE: Final = "#FFFFFF"

#: Colours of the 8 regime bins (regime view), in the engine's order: eight distinct hues.
REGIME_COLORS: Final[dict[str, str]] = {
    "TREND_UP": OI_GREEN,
    "TREND_DN": OI_VERMILLION,
    "RANGE": OI_SKY,
    "BREAKOUT_UP": OI_YELLOW,
    "BREAKOUT_DN": OI_PURPLE,
    "EXHAUST_REV": OI_ORANGE,
    "LOWVOL": OI_BLUE,
    "HIGHVOL": OI_GREY,
}

#: Trace colours in order (indicators, compared runs, confidences ...).
COLORWAY: Final = [OI_SKY, OI_ORANGE, OI_GREEN, OI_YELLOW, OI_PURPLE, OI_VERMILLION, OI_BLUE, OI_GREY]
#: Colours of the price chart: candles up/down, long/short entries, exits (all distinct).
UP: Final = OI_GREEN
DOWN: Final = OI_VERMILLION
LONG_ENTRY: Final = OI_SKY
SHORT_ENTRY: Final = OI_PURPLE
EXIT: Final = OI_YELLOW
#: The blended signal, drawn over the indicators' colours.
BLEND: Final = WHITE

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
.block-container {{ padding-top: 2.2rem; padding-bottom: 2rem; }}
/* on a laptop screen (sidebar open) the main area is narrow: give its 5rem side margins to the
   forms and tables (dates, selects and table columns were clipped at 1024 px) */
@media (max-width: 1280px) {{
  [data-testid="stMainBlockContainer"] {{ padding-left: 1.5rem; padding-right: 1.5rem; }}
}}
/* narrower still (1024 px, sidebar open): the Summary strip's eight labels and the export
   buttons wrap onto a second line instead of ending in "..." ("Profit fac...", "HTML re...") */
@media (max-width: 1100px) {{
  label[data-testid="stMetricLabel"] {{ grid-template-columns: minmax(0, 1fr); height: auto; }}
  label[data-testid="stMetricLabel"] div, label[data-testid="stMetricLabel"] p {{
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
    min-width: 0; }}
  [data-testid="stDownloadButton"] button, [data-testid="stDownloadButton"] button * {{ white-space: normal;
    overflow: visible; text-overflow: clip; }}
  [data-testid="stDownloadButton"] button {{ padding-left: 0.4rem; padding-right: 0.4rem; }}
}}
section[data-testid="stSidebar"] .block-container {{ padding-top: 1rem; }}
section[data-testid="stSidebar"] {{ min-width: 320px; }}
.phi-side-head {{ font-weight: 650; font-size: 1.0rem; border-left: 3px solid {PURPLE}; padding-left: 0.5rem;
  margin: 0.4rem 0 0.1rem 0; }}
.phi-run-name {{ font-size: 1.15rem; font-weight: 650; margin: 0.1rem 0 0.2rem 0; }}
.phi-run-name .phi-synthetic {{ font-size: 0.8rem; margin-left: 0.6rem; }}
.phi-run-id {{ color: {MUTED}; font-size: 0.75rem; font-weight: 400; margin-left: 0.8rem; }}
.phi-title {{ font-size: 1.6rem; font-weight: 700; margin: 0 0 0.2rem 0;
  background: linear-gradient(90deg, {PURPLE}, {ORANGE}); -webkit-background-clip: text;
  -webkit-text-fill-color: transparent; }}
.phi-sub {{ color: {MUTED}; margin-bottom: 0.6rem; }}
.phi-step {{ border-left: 3px solid {PURPLE}; padding: 0.1rem 0 0.1rem 0.7rem; margin: 1.2rem 0 0.5rem 0;
  font-size: 1.25rem; font-weight: 650; }}
.phi-step span {{ color: {ORANGE}; margin-right: 0.4rem; }}
.phi-ribbon {{ display: flex; gap: 0.6rem; flex-wrap: wrap; margin: 0.3rem 0 0.5rem 0; }}
.phi-card {{ background: {PANEL}; border: 1px solid {GRID}; border-radius: 10px; padding: 0.45rem 0.8rem;
  min-width: 140px; }}
.phi-card .k {{ color: {MUTED}; font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.5px; }}
.phi-card .v {{ font-size: 1.2rem; font-weight: 650; white-space: nowrap; }}
.phi-card .n {{ color: {MUTED}; font-size: 0.78rem; white-space: nowrap; }}
.phi-pos {{ color: {GREEN}; }}
.phi-neg {{ color: {RED}; }}
.phi-warn {{ color: {AMBER}; }}
.phi-synthetic {{ color: {ORANGE}; font-weight: 700; }}
div[data-testid="stMetricValue"] {{ font-size: 1.35rem; }}
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
