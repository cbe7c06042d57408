"""The result tables of ``phi batch run`` and ``phi batch sweep``, laid out for the terminal.

A row shows only what tells it apart from the other rows (the grid's parameters, or the symbol
and indicators of a mixed batch; what every row shares is one line above the table), its key
numbers right-aligned and its run id whole. A table wider than the terminal loses its least
needed parts first (the config index, the trade count), then folds the config between its words
(never inside a ``key=value``), then the numbers other than the ranking metric; a line under the
table names what is not shown.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from phi.backtest.run_config import RunConfig

#: The numbers of every row: metric -> column header.
HEADLINE: Final = {"total_return": "Ret %", "sharpe": "Sharpe", "max_drawdown": "DD %", "n_trades": "Trades"}
#: The column of a ranking metric that is not a headline one.
EXTRA_HEADERS: Final = {"sortino": "Sortino", "cagr": "CAGR %", "win_rate": "Win %", "final_equity": "Equity"}
#: Steps of :func:`fit_table`: the config's columns become one column folded between its words,
#: into at most two lines a row (FOLD_2) or as many as it takes (FOLD).
FOLD_2: Final = "<fold in 2 lines>"
FOLD: Final = "<fold>"
#: What a too wide table gives up, first to last (a header, or a fold).
DROP_ORDER: Final = ("#", "Trades", FOLD_2, "DD %", FOLD, "Ret %", "Sharpe")
#: More varying fields than this (or different indicators): one config column, not one per field.
MAX_FIELD_COLUMNS: Final = 4
#: Config fields that do not change a run's numbers.
_NOT_SHOWN: Final = ("schema_version", "phi_version", "description", "tags", "dataset.content_hash")


@dataclass
class Column:
    """One column: ``right`` for numbers; ``config``: part of the config (FOLD replaces these)."""

    header: str
    cells: list[str]
    right: bool = True
    config: bool = False
    words: bool = False  # may wrap between its words, never inside one
    keep: bool = False  # never dropped (the ranking metric)
    fold_last: bool = False  # folded (whole) rather than cut short when nothing else can give


def value_text(value: object) -> str:
    """A config value, short and exact: ``14``, ``30`` (for 30.0), ``0.0005``, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str | int):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def config_fields(config: RunConfig) -> dict[str, Any]:
    """What a run depends on, by display name, in reading order: ``symbol``, ``indicators``
    (``"rsi_band+macd"``), each enabled indicator's parameters and weight (``"macd.fast"``),
    the rest of the dataset, the blend (``"blend"``, ``"blend.<param>"``), the engine's fields by
    their own names, then anything else by its path."""
    from phi.backtest.run_config import flatten_config

    d = config.to_dict()
    out: dict[str, Any] = {"symbol": d["dataset"]["symbol"]}
    names: list[str] = []
    for ind in d.get("indicators", []):
        if not ind.get("enabled", True):
            continue
        name = ind["name"] if ind["name"] not in names else f"{ind['name']}#{sum(n.split('#')[0] == ind['name'] for n in names) + 1}"
        names.append(name)
        for k, v in ind.get("params", {}).items():
            out[f"{name}.{k}"] = v
        if ind.get("weight", 1.0) != 1.0:  # 1 is the default: shown only when it is not
            out[f"{name}.weight"] = ind["weight"]
    out = {"symbol": out.pop("symbol"), "indicators": "+".join(names), **out}
    rest = {k: v for k, v in d.items() if k != "indicators"}
    for path, v in flatten_config(rest).items():
        if path in _NOT_SHOWN or path.split(".")[0].split("[")[0] in _NOT_SHOWN or path == "dataset.symbol":
            continue
        for prefix, short in (("dataset.", ""), ("engine.", ""), ("blend.params.", "blend."), ("blend.mode", "blend")):
            if path.startswith(prefix):
                path = short + path[len(prefix):]
                break
        out[path] = v
    return out


def varying(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The fields whose value is not the same in every row (absent counts as a value), in order."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return [k for k in keys if len({value_text(r[k]) if k in r else None for r in rows}) > 1]


def short_names(keys: Sequence[str]) -> dict[str, str]:
    """Indicator fields without their indicator (``"period"`` for ``"rsi_band.period"``) where no
    other key of ``keys`` ends the same; the rest unchanged."""
    def tail(k: str) -> str:
        return k.rsplit(".", 1)[-1]

    ends = [tail(k) for k in keys]
    return {k: tail(k) if ends.count(tail(k)) == 1 and "." in k else k for k in keys}


def common_text(rows: Sequence[Mapping[str, Any]], vary: Sequence[str]) -> str:
    """What every row shares: ``"DEMO 1D from demo, 2020-01-01..2024-12-31; rsi_band(lower=30,
    upper=70)"`` (the varying fields left out; engine settings not listed)."""
    if not rows:
        return ""
    first, fixed = rows[0], [k for k in rows[0] if k not in vary]
    data = " ".join(value_text(first[k]) for k in ("symbol", "timeframe") if k in fixed)
    if "vendor" in fixed:
        data += f" from {value_text(first['vendor'])}"
    if "start" in fixed and "end" in fixed:
        data += f", {value_text(first['start'])}..{value_text(first['end'])}"
    parts = [data.strip(" ,")] if data.strip(" ,") else []
    if "indicators" in fixed and first["indicators"]:
        inds = []
        for name in str(first["indicators"]).split("+"):
            params = [f"{k.split('.', 1)[1]}={value_text(first[k])}" for k in fixed
                      if k.startswith(f"{name}.") and not k.endswith(".weight")]  # fmt: skip
            weight = first.get(f"{name}.weight")
            inds.append((f"{name}({', '.join(params)})" if params else name) + (f" x{value_text(weight)}" if f"{name}.weight" in fixed else ""))
        parts.append(" + ".join(inds))
    return "; ".join(parts)


def config_columns(rows: Sequence[Mapping[str, Any]], vary: Sequence[str]) -> tuple[list[Column], Column | None]:
    """The config part of the table: one column per varying field (when few and the rows share
    their indicators), and the same as one foldable ``config`` column of words (``DEMO3
    bollinger_band(period=20, nbdev=2)`` when the indicators differ, else ``fast=8 slow=30``)."""
    if not vary:
        return [], None
    names = short_names(vary)
    inds = {n for r in rows for n in str(r.get("indicators", "")).split("+") if n}
    of_indicator = {k: k.rsplit(".", 1)[0] for k in vary if "." in k and k.rsplit(".", 1)[0] in inds}
    by_set = "indicators" in vary
    texts = []
    for r in rows:
        words = [value_text(r["symbol"])] if "symbol" in vary and "symbol" in r else []
        for name in str(r.get("indicators", "")).split("+") if r.get("indicators") else []:
            mine = [f"{names[k] if not by_set else k.split('.', 1)[1]}={value_text(r[k])}"
                    for k in vary if k in r and of_indicator.get(k) == name]  # fmt: skip
            words += [f"{name}({', '.join(mine)})" if mine else name] if by_set else mine
        words += [f"{names[k]}={value_text(r[k])}" for k in vary
                  if k in r and k not in of_indicator and k not in ("symbol", "indicators")]  # fmt: skip
        texts.append(" ".join(words))
    text_col = Column("config", texts, right=False, config=True, words=True)
    if by_set or len(vary) > MAX_FIELD_COLUMNS:
        return [text_col], text_col
    cols = []
    for k in vary:
        cells = [value_text(r[k]) if k in r else "-" for r in rows]
        cols.append(Column(names[k], cells, right=all(_numeric(c) or c in ("-", "none") for c in cells), config=True))
    return cols, text_col


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return False
    return True


def metric_columns(metrics: Sequence[Mapping[str, Any]], metric: str) -> list[Column]:
    """Ret %, Sharpe, DD %, Trades, and the ranking metric when it is none of them (kept always)."""
    from phi.cli._format import fmt_metric

    names = [*HEADLINE, *([metric] if metric not in HEADLINE else [])]
    cols = []
    for m in names:
        header = HEADLINE.get(m) or EXTRA_HEADERS.get(m, m)
        cols.append(Column(header, [fmt_metric(m, r.get(m)) for r in metrics], keep=m == metric))
    return cols


def fit_table(title: str, columns: Sequence[Column], width: int, folded: Column | None = None,
              drops: Sequence[str] = DROP_ORDER) -> tuple[Table, list[str]]:  # fmt: skip
    """The table at most ``width`` wide if it can be: the steps of ``drops`` are taken in turn
    until it fits. A header drops that column (unless ``keep``); FOLD puts ``folded`` in place of
    the config columns, folded between its words as far as needed, and FOLD_2 does so only if
    no row then takes more than two lines. Returns the table and the headers dropped."""
    cols, dropped, folding = list(columns), [], False
    table = _table(title, cols)
    for step in drops:
        over = natural_width(table) - width
        if over <= 0:
            break
        if step in (FOLD, FOLD_2):
            if folded is None or not any(c.config for c in cols):
                continue
            at = next(i for i, c in enumerate(cols) if c.config)
            trial = [c for c in cols[:at] if not c.config] + [folded] + [c for c in cols[at:] if not c.config]
            fold_to = _fold_width(folded, natural_width(_table(title, trial)) - width)
            if step == FOLD_2 and any(len(Text(c).wrap(_WIDE, fold_to)) > 2 for c in folded.cells):
                continue
            cols, folding = trial, True
        elif any(c.header == step and not c.keep for c in cols):
            cols = [c for c in cols if c.header != step or c.keep]
            dropped.append(step)
        else:
            continue
        table = _table(title, cols)
        if folding and folded is not None:
            table = _table(title, cols, _fold_width(folded, natural_width(table) - width))
    return table, dropped


def _fold_width(col: Column, over: int) -> int:
    """The width of a words column ``over`` columns narrower, but not below its longest word."""
    texts = [col.header, *col.cells]
    natural = max(cell_len(x) for x in texts)
    least = max(cell_len(w) for x in texts for w in [*x.split(), ""])
    return max(least, natural - max(0, over))


def _table(title: str, cols: Sequence[Column], fold_to: int | None = None) -> Table:
    table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, padding=(0, 1), collapse_padding=True)  # fmt: skip
    for c in cols:
        if c.words:
            table.add_column(c.header, width=_fold_width(c, 0) if fold_to is None else fold_to, overflow="fold")
        else:
            table.add_column(c.header, justify="right" if c.right else "left", no_wrap=not c.fold_last,
                             overflow="fold" if c.fold_last else "ellipsis")  # fmt: skip
    for i in range(len(cols[0].cells) if cols else 0):
        table.add_row(*(Text(c.cells[i]) for c in cols))
    return table


#: A console wide enough for any table on one line (for measuring, never printed to).
_WIDE: Final = Console(width=10_000, file=io.StringIO())


def natural_width(table: Table) -> int:
    """The width ``table`` takes on a terminal wide enough for every cell on one line."""
    return Measurement.get(_WIDE, _WIDE.options, table).maximum
