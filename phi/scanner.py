"""The Phi-Bot universe scanner: the regime engine on every symbol of a universe, ranked.

>>> res = scan(["SPY", "QQQ", "GLD"], vendor="demo")          # doctest: +SKIP
>>> res.table()[["symbol", "score", "dominant_regime"]]      # doctest: +SKIP

For each symbol: the engine's score, composite, confidences, dominant regime and its
probability, the three most probable species and the 8 regime probabilities of the last bar
(the heatmap across the universe). Bars come through :func:`phi.data.store.get_dataset`, so a
cached range is reused and not fetched again. A symbol that fails (bad symbol, vendor error,
too few bars) is reported with its one-line reason and the scan goes on. Level-2 features
(:mod:`phi.data.l2`) join the table when a quote source is given; otherwise they are missing
(NaN, "unavailable"), never zeros.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from phi.errors import ConfigError, PhiError, shown

__all__ = ["DEFAULT_UNIVERSE", "L2_COLUMNS", "RANK_BY", "ScanResult", "read_universe", "scan"]

#: The seed dashboard's default universe.
DEFAULT_UNIVERSE: Final = ("SPY", "QQQ", "AAPL", "NVDA", "TSLA", "MSFT", "AMZN", "GLD")
RANK_BY: Final = ("score", "abs_score", "composite", "confidence")
L2_COLUMNS: Final = ("book_imbalance", "spread_bps", "ofi", "depth_ratio", "depth_trend")
MAX_SYMBOLS: Final = 1000
_MIX = ("score", "composite", "confidence", "c_field", "c_consensus", "c_liquidity")

Progress = Callable[[str, int, int], None]
#: Level-2 features of a symbol (keys :data:`L2_COLUMNS`), or None when not available.
L2Source = Callable[[str], Mapping[str, float] | None]


@dataclass
class ScanResult:
    """Ranked rows (one per scanned symbol), failures, and the universe's regime heatmap."""

    rows: list[dict[str, Any]]
    failures: list[tuple[str, str]]
    rank_by: str = "score"
    l2_status: str = "L2 quotes: not requested"
    regimes: tuple[str, ...] = field(default_factory=tuple)

    def table(self) -> pd.DataFrame:
        """One row per symbol, best first (rank 1)."""
        cols = ["rank", "symbol", *_MIX, "dominant_regime", "dominant_prob", "top_species", "last_bar", "bars",
                "from_cache", "synthetic", *L2_COLUMNS]  # fmt: skip
        return pd.DataFrame(self.rows, columns=cols)

    def heatmap(self) -> pd.DataFrame:
        """Regime probabilities of the last bar: symbols (ranked) x the 8 regimes."""
        data = {r["symbol"]: r["regime_probs"] for r in self.rows}
        return pd.DataFrame.from_dict(data, orient="index", columns=list(self.regimes))


def read_universe(path: str | Path) -> list[str]:
    """Symbols from a text file: one per line or separated by commas/spaces; ``#`` starts a
    comment; duplicates dropped (first kept)."""
    from phi._io import read_user_text

    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"a universe file path must be a str or Path, got {shown(path)}")
    text = read_user_text(path, "universe file")
    symbols = parse_symbols(line.split("#", 1)[0] for line in text.splitlines())
    if not symbols:
        raise ConfigError(f"universe file {str(path)!r} lists no symbols; put one symbol per line")
    return symbols


def parse_symbols(parts: Iterable[str] | str) -> list[str]:
    """Split on commas and whitespace, upper-case, de-duplicate in order (one string is one
    list of symbols, ``"SPY, QQQ"``, never its letters)."""
    if isinstance(parts, str):
        parts = [parts]
    if isinstance(parts, Mapping | pd.DataFrame) or not isinstance(parts, Iterable):
        raise ConfigError(f"symbols must be a list of tickers, got {shown(parts)}")
    out: dict[str, None] = {}
    for part in parts:
        if not isinstance(part, str):
            raise ConfigError(f"symbols must be strings, got {type(part).__name__} {shown(part)}")
        for token in part.replace(",", " ").split():
            out.setdefault(token.strip().upper(), None)
    return list(out)


def _top_species(species: pd.Series, k: int = 3) -> str:
    from phi.regime.taxonomy import SPECIES

    names = {s.id: f"{s.id} {s.regime}{'/' + s.vol_tag if s.vol_tag else ''}" for s in SPECIES}
    top = species.dropna().sort_values(ascending=False, kind="stable").head(k)
    return ", ".join(f"{names.get(str(i), i)} {p:.2f}" for i, p in top.items())


def _scan_one(symbol: str, lo: str, hi: str, timeframe: str, vendor: str, engine: Any) -> dict[str, Any]:
    from phi.data.store import get_dataset

    ds = get_dataset(symbol, lo, hi, timeframe, vendor)
    res = engine.run(ds.frame)
    latest = res.latest()
    probs = latest["regime_probs"]
    if not all(math.isfinite(v) for v in probs.values()):
        raise PhiError(f"the regime engine has no reading on the last bar of {symbol} (warm-up)")
    dom = latest["dominant_regime"]
    return {
        "symbol": ds.metadata.get("symbol", symbol),
        **{k: float(latest[k]) for k in _MIX},
        "dominant_regime": dom,
        "dominant_prob": float(probs[dom]),
        "top_species": _top_species(res.species_probs.iloc[-1]),
        "regime_probs": probs,
        "last_bar": ds.frame.index[-1],
        "bars": len(ds.frame),
        "from_cache": ds.from_cache,
        "synthetic": ds.synthetic,
    }


def _date(name: str, value: Any) -> str:
    """``value`` as ``YYYY-MM-DD`` (a date, a timestamp or a date string), else a ConfigError."""
    try:
        if not isinstance(value, str | datetime.date | np.datetime64):  # 7 would be 1970-01-01
            raise TypeError
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        stamp = pd.NaT
    if pd.isna(stamp):
        raise ConfigError(f"{name} {shown(value)} is not a date; use YYYY-MM-DD")
    return str(stamp.strftime("%Y-%m-%d"))


def _l2_row(l2: L2Source | None, symbol: str) -> dict[str, float]:
    """The L2 columns of ``symbol``: NaN (unavailable) without a source, where the source has
    no value, or where its value is not a finite number (or the source failed)."""
    try:
        feats = l2(symbol) if l2 is not None else None
    except Exception:  # noqa: BLE001 - a quote source's failure leaves the columns unavailable
        feats = None

    def num(v: Any) -> float:
        try:
            x = float(v)
        except (TypeError, ValueError):
            return math.nan
        return x if math.isfinite(x) else math.nan

    return {c: num(feats[c]) if isinstance(feats, Mapping) and c in feats else math.nan for c in L2_COLUMNS}


def _sort_key(rank_by: str) -> Callable[[dict[str, Any]], tuple[float, str]]:
    def key(row: dict[str, Any]) -> tuple[float, str]:
        value = abs(row["score"]) if rank_by == "abs_score" else row[rank_by]
        return (-value if math.isfinite(value) else math.inf, row["symbol"])

    return key


def scan(
    symbols: Sequence[str],
    *,
    vendor: str = "demo",
    timeframe: str = "1D",
    start: Any = None,
    end: Any = None,
    rank_by: str = "score",
    config: Any = None,
    l2: L2Source | None = None,
    l2_status: str | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Run the regime engine on every symbol and rank them.

    Parameters
    ----------
    symbols
        Tickers (duplicates dropped), at most :data:`MAX_SYMBOLS` (1,000).
    vendor, timeframe, start, end
        The bars to use (default: the last two years up to today).
    rank_by
        ``score`` (default, highest first), ``abs_score``, ``composite`` or ``confidence``.
    config
        An :class:`~phi.regime.config.MFTConfig` (default: calibrated).
    l2
        Level-2 features per symbol (see :mod:`phi.data.l2`); ``None``: columns unavailable.
    l2_status
        One line on the L2 source, shown with the results.
    progress
        ``progress(symbol, done, total)`` before each symbol.
    """
    from phi.regime.engine import RegimeEngine
    from phi.regime.taxonomy import REGIMES

    if not isinstance(rank_by, str):
        raise ConfigError(f"rank_by must be one of {', '.join(RANK_BY)}, got {shown(rank_by)}")
    if rank_by not in RANK_BY:
        from phi.errors import unknown_choice

        raise ConfigError(unknown_choice("ranking", rank_by, RANK_BY))
    for what, fn in (("l2", l2), ("progress", progress)):
        if fn is not None and not callable(fn):
            raise ConfigError(f"{what} must be a callable or None, got {type(fn).__name__}")
    if l2_status is not None and not isinstance(l2_status, str):
        raise ConfigError(f"l2_status must be a string or None, got {shown(l2_status)}")
    from phi.data.fetchers import normalize_vendor
    from phi.data.timeframes import normalize_timeframe

    vendor, timeframe = normalize_vendor(vendor), normalize_timeframe(timeframe)  # once, not once per symbol
    names = parse_symbols(symbols)
    if not names:
        raise ConfigError("no symbols to scan; give tickers (e.g. SPY QQQ) or a universe file")
    if len(names) > MAX_SYMBOLS:
        raise ConfigError(f"{len(names)} symbols is more than the scanner's limit of {MAX_SYMBOLS}; split the universe")
    today = pd.Timestamp.now(tz="UTC").normalize()
    hi = _date("end", end) if end is not None else today.strftime("%Y-%m-%d")
    lo = _date("start", start) if start is not None else (pd.Timestamp(hi) - pd.DateOffset(years=2)).strftime("%Y-%m-%d")
    if pd.Timestamp(lo) > pd.Timestamp(hi):
        raise ConfigError(f"start {lo} is after end {hi}; swap them")
    engine = RegimeEngine(config)
    rows, failures = [], []
    for i, sym in enumerate(names):
        if progress is not None:
            progress(sym, i, len(names))
        try:
            row = _scan_one(sym, lo, hi, timeframe, vendor, engine)
        except PhiError as exc:
            failures.append((sym, str(exc)))
            continue
        except Exception as exc:  # a bug or a vendor library's surprise: reported, the scan goes on
            failures.append((sym, f"unexpected error ({type(exc).__name__}): {exc}"))
            continue
        row.update(_l2_row(l2, sym))
        rows.append(row)
    if progress is not None:
        progress("", len(names), len(names))
    rows.sort(key=_sort_key(rank_by))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    status = l2_status or ("L2 quotes: not requested (columns unavailable)" if l2 is None else "L2 quotes: connected")
    return ScanResult(rows, failures, rank_by, status, tuple(REGIMES))
