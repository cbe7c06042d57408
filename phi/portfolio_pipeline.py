"""``run_portfolio_config``: a :class:`~phi.backtest.portfolio_run_config.PortfolioRunConfig`
end to end — data (cache first) -> weights -> portfolio engine -> run history.

:func:`phi.run` hands a portfolio config to this function, so a portfolio run is saved,
listed, reopened and re-run like any other. Beside the run's own files the run folder holds
``holdings.csv`` (units per symbol and bar), ``fills.csv``, ``weights.csv`` (the targets),
``contribution.csv`` (:func:`contribution`) and ``missing_data.json``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from phi import __version__
from phi.backtest.portfolio import PortfolioResult, align_sessions, run_portfolio
from phi.backtest.portfolio_run_config import PortfolioRunConfig
from phi.errors import ConfigError, DataError, PhiError, shown

__all__ = ["PORTFOLIO_FILES", "PortfolioRunResult", "contribution", "load_portfolio_files", "run_portfolio_config"]

#: Files a saved portfolio run holds beside config.json, results.json, trades.csv and equity.parquet.
PORTFOLIO_FILES: Final = ("holdings.csv", "fills.csv", "weights.csv", "contribution.csv", "missing_data.json")
Progress = Callable[[str, float], None]


@dataclass
class PortfolioRunResult(PortfolioResult):
    """A :class:`~phi.backtest.portfolio.PortfolioResult` plus where it came from.

    Attributes
    ----------
    run_id, save_error : str or None
        As in :class:`phi.pipeline.RunResult`.
    config : PortfolioRunConfig or None
        The config as run (content hashes and phi version filled in).
    data : dict
        The run's data summary (vendor, timeframe, synthetic, per-symbol content hash).
    closes : DataFrame
        The symbols' closes on the aligned bars (NaN where a symbol has no bar).
    """

    run_id: str | None = None
    save_error: str | None = None
    config: PortfolioRunConfig | None = None
    data: dict[str, Any] = field(default_factory=dict)
    closes: pd.DataFrame = field(default_factory=pd.DataFrame)

    def contribution(self) -> pd.DataFrame:
        """Per-symbol P&L, costs and fills (see :func:`contribution`)."""
        return contribution(self, self.closes)

    def run_files(self) -> dict[str, bytes]:
        """The per-symbol files saved beside the run (:data:`PORTFOLIO_FILES`)."""

        def csv(frame: pd.DataFrame, index: bool = True) -> bytes:
            return frame.to_csv(index=index).encode("utf-8")

        missing = {sym: {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in d.items()}
                   for sym, d in self.missing_data.items()}  # fmt: skip
        return {
            "holdings.csv": csv(self.holdings.rename_axis("timestamp")),
            "fills.csv": csv(self.fills, index=False),
            "weights.csv": csv(self.weights.rename_axis("timestamp")),
            "contribution.csv": csv(self.contribution().rename_axis("symbol")),
            "missing_data.json": (json.dumps(missing, indent=2, sort_keys=True) + "\n").encode("utf-8"),
        }


def contribution(result: PortfolioResult, closes: pd.DataFrame, initial_capital: float | None = None) -> pd.DataFrame:
    """Per symbol: ``pnl`` (the cash its fills brought in, costs included, plus its holding at
    the last mark), ``contribution`` (pnl / ``initial_capital``; the column sums to the total
    return), ``costs``, ``fills`` and ``final_value``.

    ``closes`` (bars x symbols) gives the marks: each symbol's last close at or before the last
    bar, as in the engine's accounting.
    ``initial_capital`` defaults to the ledger's (set by :func:`run_portfolio_config`).
    """
    if not isinstance(result, PortfolioResult):
        raise ConfigError(f"result must be a PortfolioResult, got {type(result).__name__}")
    if not isinstance(closes, pd.DataFrame):
        raise ConfigError(f"closes must be a DataFrame (bars x symbols), got {type(closes).__name__}")
    if initial_capital is not None and (
        isinstance(initial_capital, bool)
        or not isinstance(initial_capital, int | float | np.integer | np.floating)
        or not 0.0 < float(initial_capital) < math.inf
    ):
        raise ConfigError(f"initial_capital must be a finite number > 0 or None, got {shown(initial_capital)}")
    symbols = list(result.holdings.columns)
    if initial_capital is None:
        value = result.assumptions.get("initial_capital")
        initial_capital = float(value) if isinstance(value, int | float) else math.nan
    initial = float(initial_capital)
    fills = result.fills
    by = fills.groupby("symbol", sort=False) if len(fills) else None
    cash_in = by["cash_change"].sum() if by is not None else pd.Series(dtype=float)
    costs = by["costs"].sum() if by is not None else pd.Series(dtype=float)
    count = by.size() if by is not None else pd.Series(dtype=int)
    marks = closes.ffill().iloc[-1].reindex(symbols).fillna(0.0).to_numpy(dtype=np.float64)
    final_value = result.holdings.iloc[-1].to_numpy(dtype=np.float64) * marks if len(result.holdings) else np.zeros(len(symbols))
    out = pd.DataFrame(index=pd.Index(symbols, name="symbol"))
    out["final_value"] = final_value
    out["pnl"] = cash_in.reindex(symbols).fillna(0.0).to_numpy() + final_value
    out["contribution"] = out["pnl"] / initial
    out["costs"] = costs.reindex(symbols).fillna(0.0).to_numpy()
    out["fills"] = count.reindex(symbols).fillna(0).astype(np.int64).to_numpy()
    return out


def _load(config: PortfolioRunConfig, allow_data_change: bool) -> tuple[dict[str, pd.DataFrame], dict[str, str], bool]:
    from phi.data.store import get_dataset

    bars: dict[str, pd.DataFrame] = {}
    hashes: dict[str, str] = {}
    synthetic = False
    for sym in config.symbols:
        try:
            ds = get_dataset(sym, config.start, config.end, config.timeframe, config.vendor)
        except PhiError as exc:
            raise type(exc)(f"{sym}: {exc}") from None
        recorded = (config.content_hashes or {}).get(sym)
        if recorded and recorded != ds.content_hash:
            msg = (f"the bars of {config.vendor} {sym} {config.timeframe} {config.start}..{config.end} changed since this "
                   f"config was run (content hash {ds.content_hash[:12]}, recorded {recorded[:12]})")  # fmt: skip
            if not allow_data_change:
                raise DataError(msg + "; pass allow_data_change=True (CLI: --allow-data-change) to run on the new bars")
            from phi.pipeline import DataChangedWarning

            warnings.warn(msg + "; running on the new bars", DataChangedWarning, stacklevel=3)
        frame = ds.frame.copy(deep=False)
        frame.attrs = {"adjustment": ds.metadata.get("adjustment", "unknown"), "symbol": sym, "timeframe": config.timeframe}
        bars[sym] = frame
        hashes[sym] = ds.content_hash
        synthetic = synthetic or bool(ds.synthetic)
    return bars, hashes, synthetic


def _check_bars(config: PortfolioRunConfig, n_bars: int) -> None:
    """A lookback rule needs its window plus a bar to trade on."""
    lookback = config.weights.params.get("lookback")
    if lookback is not None and n_bars <= lookback + 1:
        what = "volatility" if config.weights.rule == "inverse_vol" else "momentum"
        raise DataError(
            f"weight rule {config.weights.text()} needs more than {lookback + 1} bars (a {lookback}-bar "
            f"{what} and a bar to trade on); the data has {n_bars}. Use a longer date range"
        )


def run_portfolio_config(
    config: PortfolioRunConfig,
    *,
    save: bool = True,
    progress: Progress | None = None,
    allow_data_change: bool = False,
) -> PortfolioRunResult:
    """Run a portfolio config end to end and (by default) save it to the run history.

    The weights are ``config.weights`` on the symbols' closes aligned on the union of their
    stamps, run by :func:`phi.backtest.portfolio.run_portfolio` with ``config.portfolio``:
    the result equals calling those two directly on the same bars. A failed save keeps the
    result (``save_error`` says why).
    """
    from phi.pipeline import STAGES

    def step(stage: str) -> None:
        if progress is not None:
            progress(stage, STAGES[stage])

    if not isinstance(config, PortfolioRunConfig):
        raise ConfigError(f"run_portfolio_config() needs a PortfolioRunConfig, got {type(config).__name__}")
    for name, flag in (("save", save), ("allow_data_change", allow_data_change)):
        if not isinstance(flag, bool):
            raise ConfigError(f"{name} must be True or False, got {shown(flag)}")
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress must be a callable (stage, fraction), got {type(progress).__name__}")
    step("data")
    bars, hashes, synthetic = _load(config, allow_data_change)
    config = config.replace(content_hashes=hashes, phi_version=__version__)
    step("indicators")
    bars = align_sessions(bars)  # daily bars on their session dates, as run_portfolio does
    closes = pd.DataFrame({sym: df["close"] for sym, df in bars.items()}).sort_index()
    _check_bars(config, len(closes))
    weights = config.weights.weights(closes)
    step("engine")
    base = run_portfolio(bars, weights, config.portfolio)
    base.assumptions.update(
        data=(
            f"{config.vendor} {config.label()} {config.timeframe}, {len(closes)} bars "
            f"{closes.index[0]:%Y-%m-%d}..{closes.index[-1]:%Y-%m-%d}"
            + (", SYNTHETIC demo data (not market prices)" if synthetic else "")
        ),
        data_fingerprint=config.data_fingerprint,
        weights=config.weights.text(),
        initial_capital=config.portfolio.initial_capital,
    )
    meta = {"vendor": config.vendor, "timeframe": config.timeframe, "synthetic": synthetic,
            "content_hash": config.data_fingerprint, "symbols": hashes}  # fmt: skip
    result = PortfolioRunResult(
        **{f.name: getattr(base, f.name) for f in dataclasses.fields(PortfolioResult)},
        config=config,
        data=meta,
        closes=closes,
    )
    if save:
        step("save")
        result.run_id, result.save_error = save_portfolio_run(result)
    step("done")
    return result


def save_portfolio_run(result: PortfolioRunResult, extra_files: dict[str, bytes] | None = None) -> tuple[str | None, str | None]:
    """Save a portfolio run with its per-symbol files: ``(run_id, None)`` or ``(None, why)``."""
    from phi.backtest.run_history import save_run

    assert result.config is not None
    try:
        files = {**result.run_files(), **(extra_files or {})}
        return save_run(result.config, result, data_metadata=result.data, extra_files=files), None
    except PhiError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever breaks the save, keep the result
        return None, f"could not save the run: {type(exc).__name__}: {exc}"


def load_portfolio_files(run: Any) -> dict[str, pd.DataFrame]:
    """A saved portfolio run's ``holdings``, ``weights``, ``fills`` and ``contribution`` frames
    (each file checked against its checksum; absent files are left out). ``run``: a run id or
    the :class:`~phi.backtest.run_history.SavedRun` of one."""
    from phi.backtest.run_history import SavedRun, load_run, saved_file

    if isinstance(run, str):
        run = load_run(run)
    if not isinstance(run, SavedRun):
        raise ConfigError(f"run must be a run id or a SavedRun (phi.backtest.run_history.load_run), got {type(run).__name__}")
    out: dict[str, pd.DataFrame] = {}
    for name in ("holdings", "weights", "fills", "contribution"):
        raw = saved_file(run, f"{name}.csv")
        if raw is None:
            continue
        if name in ("holdings", "weights"):
            frame = pd.read_csv(io.BytesIO(raw), index_col="timestamp")
            frame.index = pd.to_datetime(frame.index, utc=True)
        elif name == "contribution":
            frame = pd.read_csv(io.BytesIO(raw), index_col="symbol")
        else:
            frame = pd.read_csv(io.BytesIO(raw))
        out[name] = frame
    return out
