"""Exports of one run: its config (JSON), its trades (CSV) and a self-contained HTML report.

The report embeds plotly.js once (inline, no CDN) so it opens offline, followed by the run's
KPIs, grouped metrics, assumption ledger, config and charts.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

from app_streamlit import charts
from app_streamlit.results import KPIS, METRIC_KIND, ResultData, label
from app_streamlit.styles import CHARCOAL, GRID, MUTED, ORANGE, PANEL, PURPLE, TEXT


def config_json(data: ResultData) -> str:
    """The run's ``config.json`` (re-runnable with ``phi backtest --config``)."""
    return str(data.config.to_json())


def trades_csv(data: ResultData) -> str:
    """Every trade, one row each (engine ``TRADE_COLUMNS``)."""
    return str(data.trades.to_csv(index=False))


def _fmt(value: object, kind: str) -> str:
    from app_streamlit.ui import fmt_value

    return fmt_value(value, kind)


def _table(rows: list[tuple[str, str]], head: tuple[str, str] | None = None) -> str:
    thead = f"<tr><th>{html.escape(head[0])}</th><th>{html.escape(head[1])}</th></tr>" if head else ""
    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{thead}{body}</table>"


def html_report(data: ResultData) -> str:
    """A single self-contained HTML page describing the run (plotly.js inline, works offline)."""
    figs = [charts.equity_chart(data.equity, data.initial_capital, currency=data.currency).figure]
    if data.frame is not None:
        figs.append(charts.price_chart(data.frame, data.title, data.trades, currency=data.currency).figure)
    if len(data.trades):
        figs.append(charts.trade_pnl_chart(data.trades, currency=data.currency).figure)
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, fig in enumerate(figs)
    ]
    net = data.final_equity - data.initial_capital
    from phi.backtest.summary import trade_count

    def kpi(m: str) -> str:
        if m == "n_trades":  # "N closed + M open", as in the workbench
            return trade_count(data.metrics).text
        return _fmt(data.metrics.get(m), METRIC_KIND.get(m, "num"))

    kpis = "".join(
        f'<div class="card"><div class="k">{html.escape(label(m))}</div><div class="v">{html.escape(kpi(m))}</div></div>'
        for m in KPIS
    )
    groups = "".join(
        f"<h3>{html.escape(g)}</h3>" + _table([(lab, _fmt(v, kind)) for lab, v, kind in rows])
        for g, rows in data.grouped_metrics().items()
    )
    ledger = _table([(str(k), str(v)) for k, v in data.assumptions.items()], ("assumption", "value"))
    synthetic = data.data.get("synthetic") or data.config.dataset.vendor == "demo"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Phi-nance run {html.escape(str(data.run_id))}</title>
<style>
body {{ background:{CHARCOAL}; color:{TEXT}; font-family: Inter, system-ui, sans-serif; margin: 2rem; }}
h1 {{ color:{PURPLE}; margin-bottom:0.2rem; }} h2 {{ color:{ORANGE}; margin-top:2rem; }}
.sub {{ color:{MUTED}; }} .synthetic {{ color:{ORANGE}; font-weight:700; }}
.cards {{ display:flex; flex-wrap:wrap; gap:0.8rem; }}
.card {{ background:{PANEL}; border:1px solid {GRID}; border-radius:10px; padding:0.5rem 0.9rem; min-width:150px; }}
.card .k {{ color:{MUTED}; font-size:0.8rem; text-transform:uppercase; }} .card .v {{ font-size:1.3rem; font-weight:650; }}
table {{ border-collapse:collapse; margin:0.4rem 0; }} td, th {{ border:1px solid {GRID}; padding:0.3rem 0.6rem; text-align:left; vertical-align:top; }}
pre {{ background:{PANEL}; padding:1rem; border-radius:8px; overflow-x:auto; }}
</style></head><body>
<h1>Phi-nance backtest report</h1>
<div class="sub">Run {html.escape(str(data.run_id))} · {html.escape(data.title)} · generated {generated}</div>
{'<p class="synthetic">SYNTHETIC DEMO DATA — generated locally, not market prices.</p>' if synthetic else ''}
<h2>Summary</h2>
<div class="cards">
<div class="card"><div class="k">Start capital</div><div class="v">{_fmt(data.initial_capital, "money")}</div></div>
<div class="card"><div class="k">End capital</div><div class="v">{_fmt(data.final_equity, "money")}</div></div>
<div class="card"><div class="k">Net P/L</div><div class="v">{_fmt(net, "money")}</div></div>
{kpis}
</div>
<h2>Charts</h2>
{''.join(parts)}
<h2>Metrics</h2>
{groups}
<h2>Assumptions</h2>
{ledger}
<h2>Config</h2>
<pre>{html.escape(json.dumps(data.config.to_dict(), indent=2, sort_keys=True))}</pre>
</body></html>
"""
