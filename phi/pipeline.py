"""``phi.run``: the one place where the stages of a backtest are wired together.

data (cache first) -> indicators -> blend -> engine (metrics) -> run history.

The CLI, the workbench and the tuner all call :func:`run` (or the functions it calls), so a
run saved from any of them re-runs bit for bit from its ``config.json`` (:func:`rerun`).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from phi import __version__
from phi.backtest.engine import BacktestResult, EngineConfig, run_backtest, run_backtest_many
from phi.backtest.run_config import RunConfig
from phi.blending.blender import PhiAIFit, Scorer, apply_phiai, blend, phiai_fit
from phi.errors import ConfigError, DataError, shown, unknown_choice

if TYPE_CHECKING:
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.data.store import Dataset
    from phi.options.simulator import OptionsResult
    from phi.portfolio_pipeline import PortfolioRunResult

__all__ = ["STAGES", "DataChangedWarning", "RunResult", "engine_scorer", "rerun", "run"]

#: Progress stages, with the fraction of the run done when each starts.
STAGES: dict[str, float] = {
    "data": 0.0,
    "indicators": 0.25,
    "blend": 0.45,
    "engine": 0.65,
    "save": 0.9,
    "done": 1.0,
}

Progress = Callable[[str, float], None]


class DataChangedWarning(UserWarning):
    """A re-run used data whose content hash differs from the one its config recorded."""


@dataclass
class RunResult(BacktestResult):
    """A :class:`~phi.backtest.engine.BacktestResult` plus where it came from.

    Attributes
    ----------
    run_id : str or None
        The saved run's id (``None`` when not saved, or when saving failed).
    save_error : str or None
        Why saving failed, in one line (e.g. ``could not save the run: /x/runs is read-only
        (PHI_HOME=/x)``); ``None`` when saved or not asked to save. The result is complete
        either way.
    config : RunConfig or None
        The config as run: the data's content hash and the running phi version filled in.
    data : dict
        The dataset's metadata (vendor, adjustment, synthetic, health, content hash, ...).
    signals : DataFrame or None
        Each enabled indicator's signal (one column each) before blending.
    phiai : PhiAIFit or None
        The walk-forward weight schedule of a ``phiai`` blend.
    options : OptionsResult or None
        An options run's legs, greeks and P&L by greek (``config.mode == "options"``).
    tuning : dict or None
        The PhiAI tuning report of a config with a ``phiai`` section (saved as ``tuning.json``).
    """

    run_id: str | None = None
    save_error: str | None = None
    config: RunConfig | None = None
    data: dict[str, Any] = field(default_factory=dict)
    signals: pd.DataFrame | None = None
    phiai: PhiAIFit | None = None
    options: OptionsResult | None = None
    tuning: dict[str, Any] | None = None


def engine_scorer(ohlcv: pd.DataFrame, config: EngineConfig, metric: str, warmup: int = 0) -> Scorer:
    """phiai scorer: each signal column backtested alone by the real engine on the training bars.

    The training slice ``signals.iloc[a:b]`` is run on ``ohlcv.iloc[a:b]`` only, so nothing at or
    after bar ``b`` is seen (a signal on the last training bar cannot even fill). The indicators'
    warm-up is excluded from the score like from any run's metrics.
    """
    from phi.backtest.engine import SWEEP_METRICS

    if not isinstance(ohlcv, pd.DataFrame):
        raise ConfigError(f"engine_scorer: ohlcv must be a DataFrame of bars, got {shown(ohlcv)}")
    if not isinstance(config, EngineConfig):
        raise ConfigError(f"engine_scorer: config must be an EngineConfig, got {shown(config)}")
    if not isinstance(metric, str) or metric not in SWEEP_METRICS:
        raise ConfigError("engine_scorer: " + unknown_choice("metric", metric, SWEEP_METRICS))
    if isinstance(warmup, bool) or not isinstance(warmup, int | np.integer) or warmup < 0:
        raise ConfigError(f"engine_scorer: warmup must be a whole number of bars >= 0, got {shown(warmup)}")

    def score(train: pd.DataFrame) -> np.ndarray:
        a = int(ohlcv.index.get_indexer(train.index[:1])[0])
        b = a + len(train)
        cfg = dataclasses.replace(config, warmup_bars=max(0, warmup - a))
        table = run_backtest_many(ohlcv.iloc[a:b], train, cfg)
        return table[metric].to_numpy(dtype=np.float64)

    return score


def _check_dataset_is_the_configs(meta: dict[str, Any], spec: Any) -> None:
    """A dataset handed to :func:`run` must be the one its config asks for: other bars would be
    run and saved under the config's symbol, range and timeframe."""
    wanted = {
        "vendor": spec.vendor,
        "symbol": spec.symbol.upper(),
        "timeframe": spec.timeframe,
        "requested_start": spec.start,
        "requested_end": spec.end,
    }
    got = {k: meta.get(k) for k in wanted}
    got["symbol"] = str(got["symbol"]).upper()
    if spec.vendor == "csv" and meta.get("source_path") is not None:
        wanted["source_path"], got["source_path"] = str(spec.path), str(meta["source_path"])
    differ = [k for k in wanted if got[k] != wanted[k]]
    if differ:
        k = differ[0]
        raise ConfigError(
            f"dataset is not the config's: its {k} is {shown(got[k])}, config.dataset asks for "
            f"{shown(wanted[k])}; pass the Dataset of config.dataset (or none: run loads it)"
        )


def _warn_if_every_entry_was_skipped(result: Any, engine: EngineConfig) -> None:
    """0 trades because every entry's size came out as zero (0.5 units in whole units, a cash
    amount below one share) reads like a strategy that never signalled: say so (an options run
    says why in its ledger's ``skipped_note``); the count stays in ``skipped_entries``."""
    skipped = result.assumptions.get("skipped_entries")
    if not isinstance(skipped, int) or skipped <= 0 or result.metrics.get("n_trades") or result.metrics.get("n_open_trades"):
        return
    units = "" if engine.fractional else ", in whole units"
    fixes = ["raise the size or the capital"]
    if not engine.fractional:
        fixes.append("allow fractional units")
    if engine.commission_fixed > 0:
        fixes.append(f"lower commission_fixed ({engine.commission_fixed:,.2f} a fill)")
    warnings.warn(
        f"all {skipped} entries were skipped: each one's size came out as zero "
        f"({result.assumptions.get('sizing', engine.sizing)}{units}); " + ", or ".join(fixes),
        stacklevel=3,
    )


def _check_bars_after_warmup(n_bars: int, warmup: int, engine_warmup: int, indicator_warmup: int) -> None:
    """A trade is decided at a bar's close after the warm-up and filled at the next bar's open,
    so a run needs two bars after its warm-up; fewer would report 0 trades and NaN metrics
    as if the strategy had been measured."""
    if n_bars - warmup >= 2:
        return
    if engine_warmup >= warmup:
        why = f"engine.warmup_bars is {engine_warmup:,}"
    elif indicator_warmup >= warmup:
        why = f"the indicators' warm-up is {indicator_warmup:,} bars"
    else:
        why = f"the blended signal has its first value at bar {warmup:,}"
    raise DataError(
        f"{why}, which leaves {max(n_bars - warmup, 0):,} of the {n_bars:,} bars to trade on; a trade "
        "needs 2 (decided at one bar's close, filled at the next open): use a longer date range"
        + (" or a smaller engine.warmup_bars" if engine_warmup >= warmup else "")
    )


def _check_options(save: object, progress: object, allow_data_change: object) -> None:
    """Refuse run options of the wrong type before any work (a truthy list is not ``save=True``)."""
    for name, value in (("save", save), ("allow_data_change", allow_data_change)):
        if not isinstance(value, bool | np.bool_):
            raise ConfigError(f"{name} must be True or False, got {shown(value)}")
    if progress is not None and not callable(progress):
        raise ConfigError(f"progress must be a function progress(stage, fraction) or None, got {shown(progress)}")


def _progress(progress: Progress | None, stage: str) -> None:
    if progress is not None:
        progress(stage, STAGES[stage])


def _blend_text(config: RunConfig) -> str:
    mode, params = config.blend.mode, config.blend.params
    if mode == "phiai":
        window = "an expanding" if params["window"] == "expanding" else f"a rolling {params['train_bars']}-bar"
        return (
            f"phiai: weights ∝ max({params['metric']}, 0) of each indicator backtested alone on "
            f"{window} window ending before the bars they apply to, refreshed every "
            f"{params['step']} bars; the first {params['train_bars']} bars are warm-up"
        )
    weights = ", ".join(f"{k}={v:g}" for k, v in config.weights.items())
    extra = f", dead zone {params['dead_zone']:g}" if mode == "voting" else ""
    if mode == "regime_weighted":
        regime = config.blend.regime
        custom = ", ".join(f"{sec}.{k}={v}" for sec, kv in (regime or {}).items() for k, v in kv.items())
        extra += f"; regime engine: calibrated defaults{' except ' + custom if custom else ''}"
        extra += "; custom regime matrix" if config.blend.regime_weights else "; default regime matrix"
    return f"{mode} ({weights}{extra}); NaN while any weighted indicator is in warm-up"


def extra_files(result: RunResult) -> dict[str, bytes]:
    """Files saved beside a run's own (``legs.csv`` of an options run, ``tuning.json``)."""
    extra = {}
    if result.options is not None:  # legs.csv beside trades.csv, checksummed like it
        extra["legs.csv"] = result.options.legs.to_csv(index=False).encode("utf-8")
    if result.tuning is not None:  # the PhiAI report beside the run (phi.phiai.report)
        extra["tuning.json"] = (json.dumps(result.tuning, indent=2, sort_keys=True, allow_nan=False) + "\n").encode()
    return extra


def _save(config: RunConfig, result: RunResult, meta: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(run_id, None)``, or ``(None, why)`` when saving failed: a finished result is never lost."""
    from phi.backtest.run_history import save_run
    from phi.errors import PhiError

    try:
        return save_run(config, result, data_metadata=meta, extra_files=extra_files(result)), None
    except PhiError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever breaks the save, keep the result
        return None, f"could not save the run: {type(exc).__name__}: {exc}"


@overload
def run(config: RunConfig, *, save: bool = ..., progress: Progress | None = ..., allow_data_change: bool = ..., dataset: Dataset | None = ...) -> RunResult: ...
@overload
def run(config: PortfolioRunConfig, *, save: bool = ..., progress: Progress | None = ..., allow_data_change: bool = ..., dataset: Dataset | None = ...) -> PortfolioRunResult: ...
def run(
    config: RunConfig | PortfolioRunConfig,
    *,
    save: bool = True,
    progress: Progress | None = None,
    allow_data_change: bool = False,
    dataset: Dataset | None = None,
) -> RunResult | PortfolioRunResult:
    """Run a backtest described by ``config`` end to end and (by default) save it.

    Parameters
    ----------
    config : RunConfig or PortfolioRunConfig
        A portfolio config runs through :func:`phi.portfolio_pipeline.run_portfolio_config`.
    save : bool
        Save to the run history; the result's ``run_id`` is then set. A failed save never
        loses the result: ``run_id`` stays ``None`` and ``save_error`` says why in one line.
    progress : callable, optional
        ``progress(stage, fraction)`` at the start of each stage in :data:`STAGES`.
    allow_data_change : bool
        When ``config.dataset.content_hash`` is set and the loaded bars differ, run on the
        new bars with a :class:`DataChangedWarning` instead of raising :class:`DataError`.
    dataset : Dataset, optional
        The bars of ``config.dataset`` already loaded by :func:`phi.data.store.get_dataset`
        (a batch loads them once for many configs); by default they are loaded here.

    Returns
    -------
    RunResult
        The engine's result plus ``run_id`` (or ``save_error``), the config as run, the data's
        metadata and the per-indicator signals.

    Examples
    --------
    >>> from phi.backtest.run_config import DatasetSpec, RunConfig
    >>> cfg = RunConfig(DatasetSpec("DEMO", start="2021-01-01", end="2022-12-31"), ["rsi", "macd"])
    >>> res = run(cfg, save=False)  # doctest: +SKIP
    >>> res.metrics["sharpe"]  # doctest: +SKIP
    """
    from phi.backtest.portfolio_run_config import PortfolioRunConfig
    from phi.data.store import Dataset, get_dataset
    from phi.indicators.registry import compute_all_signals, get_indicator

    _check_options(save, progress, allow_data_change)
    if isinstance(config, PortfolioRunConfig):  # a multi-asset run (phi.portfolio_pipeline)
        from phi.portfolio_pipeline import run_portfolio_config

        if dataset is not None:  # it loads each symbol's bars itself: a dataset would be ignored
            raise ConfigError("dataset is for a RunConfig; a PortfolioRunConfig loads the bars of each of its symbols")
        return run_portfolio_config(config, save=save, progress=progress, allow_data_change=allow_data_change)
    if not isinstance(config, RunConfig):
        raise ConfigError(f"run() needs a RunConfig, got {type(config).__name__}")
    ds_spec = config.dataset

    _progress(progress, "data")
    ds = dataset
    if ds is not None and not isinstance(ds, Dataset):
        raise ConfigError(f"dataset must be a Dataset from phi.data.store.get_dataset, got {type(ds).__name__}")
    if ds is not None:
        _check_dataset_is_the_configs(ds.metadata, ds_spec)
    if ds is None:
        ds = get_dataset(ds_spec.symbol, ds_spec.start, ds_spec.end, ds_spec.timeframe, ds_spec.vendor, path=ds_spec.path)
    got = ds.content_hash
    if ds_spec.content_hash and ds_spec.content_hash != got:
        msg = (
            f"the bars of {ds_spec.vendor} {ds_spec.symbol} {ds_spec.timeframe} {ds_spec.start}..{ds_spec.end} "
            f"changed since this config was run (content hash {got[:12]}, recorded {ds_spec.content_hash[:12]})"
        )
        if not allow_data_change:
            raise DataError(msg + "; pass allow_data_change=True (CLI: --allow-data-change) to run on the new bars")
        warnings.warn(msg + "; running on the new bars", DataChangedWarning, stacklevel=2)
    config = config.with_content_hash(got).replace(phi_version=__version__)
    frame = ds.frame.copy(deep=False)
    frame.attrs = {"adjustment": ds.metadata.get("adjustment", "unknown"), **{k: ds.metadata[k] for k in ("symbol", "exchange_tz") if ds.metadata.get(k)}}  # symbol/tz: the engine's market calendar

    _progress(progress, "indicators")
    tuning = None
    if config.phiai is not None:  # PhiAI tunes first, seeded by config.seed (phi.phiai.run_tuning)
        from phi.phiai.run_tuning import tune_run_config

        config, tuning = tune_run_config(config, frame)
    selection = config.selection
    signals = compute_all_signals(frame, selection)
    warm = max(int(get_indicator(name).warmup(params)) for name, params in selection.items())

    _progress(progress, "blend")
    bp = config.blend.params
    fit = None
    if config.blend.mode == "phiai":
        scorer = engine_scorer(frame, config.engine, bp["metric"], warm)
        fit = phiai_fit(signals, score_fn=scorer, train_bars=bp["train_bars"], step=bp["step"], window=bp["window"])
        blended = apply_phiai(signals, fit)
    else:
        regime_probs = None
        if config.blend.mode == "regime_weighted":  # the MFT engine's 8 bins (issue 04)
            from phi.regime.engine import RegimeEngine

            regime_probs = RegimeEngine(config.blend.regime_config()).run(frame).regime_probs
        blended = blend(
            signals,
            config.blend.mode,
            config.weights,
            dead_zone=bp.get("dead_zone", 0.05),
            regime_probs=regime_probs,
            regime_weights=config.blend.regime_weights,
        )
    valid = np.flatnonzero(blended.notna().to_numpy())
    if len(valid) == 0:
        raise DataError(
            f"the blended signal has no value on any of the {len(frame)} bars (indicator warm-up "
            f"{warm} bars{', phiai training ' + str(bp['train_bars']) + ' bars' if fit else ''}); "
            "use a longer date range"
        )
    warmup = max(config.engine.warmup_bars, warm, int(valid[0]))
    _check_bars_after_warmup(len(frame), warmup, config.engine.warmup_bars, warm)

    _progress(progress, "engine")
    engine_cfg = dataclasses.replace(config.engine, warmup_bars=warmup)
    options = None
    base: BacktestResult | list[BacktestResult]
    if config.mode == "options":  # the option structure on the blended signal
        from phi.options.simulator import run_options_backtest

        base = options = run_options_backtest(frame, blended, config.options, engine_cfg)
    else:
        base = run_backtest(frame, blended, engine_cfg)
        _warn_if_every_entry_was_skipped(base, engine_cfg)
    assert isinstance(base, BacktestResult)  # a Series signal gives one result
    meta = dict(ds.metadata)
    base.assumptions.update(
        data=(
            f"{meta.get('vendor', ds_spec.vendor)} {meta.get('symbol', ds_spec.symbol)} {ds_spec.timeframe}, "
            f"{len(frame)} bars {frame.index[0]:%Y-%m-%d}..{frame.index[-1]:%Y-%m-%d}"
            + (", SYNTHETIC demo data (not market prices)" if ds.synthetic else "")
        ),
        data_fingerprint=got,
        blend=_blend_text(config),
        indicator_warmup_bars=warm,
    )
    result = RunResult(
        **{f.name: getattr(base, f.name) for f in dataclasses.fields(BacktestResult)},
        config=config,
        data=meta,
        signals=signals,
        phiai=fit,
        options=options,
        tuning=tuning,
    )
    if save:
        _progress(progress, "save")
        result.run_id, result.save_error = _save(config, result, meta)
    _progress(progress, "done")
    return result


def rerun(
    run_id: str,
    *,
    save: bool = True,
    progress: Progress | None = None,
    allow_data_change: bool = False,
) -> RunResult | PortfolioRunResult:
    """Run a saved run's ``config.json`` again (same data -> identical trades and metrics).

    Raises :class:`DataError` if the bars changed since (see ``allow_data_change`` in :func:`run`).
    """
    from phi.backtest.run_history import load_run

    _check_options(save, progress, allow_data_change)
    saved = load_run(run_id)
    check_chain_unchanged(saved, allow_data_change)
    return run(saved.config, save=save, progress=progress, allow_data_change=allow_data_change)


def check_chain_unchanged(saved: Any, allow_data_change: bool = False) -> None:
    """The option chain of a saved options run must be the file it ran on, as its bars must:
    a re-run on edited quotes gave other trades without a word. Compares the file's SHA-256
    with the run's recorded ``chain_fingerprint``; :class:`DataError` if they differ (a
    :class:`DataChangedWarning` with ``allow_data_change``). A missing file is left to the run."""
    import hashlib
    import os
    import stat as stat_

    recorded = saved.assumptions.get("chain_fingerprint")
    options = getattr(saved.config, "options", None)
    path = getattr(options, "chain", None)
    if not isinstance(recorded, str) or not isinstance(path, str) or getattr(saved.config, "mode", None) != "options":
        return
    try:
        if not stat_.S_ISREG(os.stat(path).st_mode):
            return
        with open(path, "rb") as fh:
            now = hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return
    if now == recorded:
        return
    msg = (
        f"the option chain {path} changed since run {saved.run_id} was made "
        f"(fingerprint {now[:12]}, recorded {recorded[:12]})"
    )
    if not allow_data_change:
        raise DataError(msg + "; pass allow_data_change=True (CLI: --allow-data-change) to run on the new quotes")
    warnings.warn(msg + "; running on the new quotes", DataChangedWarning, stacklevel=3)
