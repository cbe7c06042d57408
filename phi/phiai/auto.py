"""``phiai_full_auto``: select, tune, blend, and score the untouched hold-out once.

Also :func:`load_bars` (the bars :func:`phi.run` uses for a dataset) and
:func:`blended_holdout` (a config's metrics computed exactly as :func:`phi.run` computes them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from phi.backtest.engine import EngineConfig
from phi.errors import ConfigError, shown
from phi.phiai import stats as st
from phi.phiai.evaluate import nanmean

if TYPE_CHECKING:
    from phi.backtest.run_config import DatasetSpec, RunConfig
    from phi.phiai.tuner import PhiAIResult

__all__ = ["blended_holdout", "load_bars", "phiai_full_auto"]


def load_bars(dataset: DatasetSpec) -> pd.DataFrame:
    """The bars ``phi.run`` uses for ``dataset`` (same frame, same ``attrs``), so a tuned
    config re-runs to exactly the metrics the tuner reports."""
    from phi.data.store import get_dataset

    ds = get_dataset(
        dataset.symbol,
        dataset.start,
        dataset.end,
        dataset.timeframe,
        dataset.vendor,
        path=dataset.path,
    )
    frame = ds.frame.copy(deep=False)
    frame.attrs = {
        "adjustment": ds.metadata.get("adjustment", "unknown"),
        **{k: ds.metadata[k] for k in ("symbol", "exchange_tz") if ds.metadata.get(k)},
    }
    return frame


def _default_dataset(ohlcv: pd.DataFrame) -> DatasetSpec:
    from phi.backtest.run_config import DatasetSpec

    idx = ohlcv.index
    start, end = (
        (f"{idx[0]:%Y-%m-%d}", f"{idx[-1]:%Y-%m-%d}")
        if isinstance(idx, pd.DatetimeIndex)
        else ("2020-01-01", "2024-12-31")
    )
    try:
        return DatasetSpec(str(ohlcv.attrs.get("symbol", "DATA")), start=start, end=end)
    except Exception:  # noqa: BLE001 - a symbol the vendor would refuse: a neutral label
        return DatasetSpec("DATA", start=start, end=end)


def blended_holdout(ohlcv: pd.DataFrame, config: RunConfig) -> tuple[dict[str, float], pd.Series]:
    """Metrics of ``config`` on ``ohlcv`` computed exactly as :func:`phi.run` does, plus the signal."""
    import dataclasses

    from phi.backtest.engine import run_backtest
    from phi.blending.blender import blend
    from phi.indicators.registry import compute_all_signals, get_indicator

    signals = compute_all_signals(ohlcv, config.selection)
    warm = max(int(get_indicator(n).warmup(p)) for n, p in config.selection.items())
    blended = blend(
        signals,
        config.blend.mode,
        config.weights,
        dead_zone=config.blend.params.get("dead_zone", 0.05),
    )
    valid = np.flatnonzero(blended.notna().to_numpy())
    warmup = max(config.engine.warmup_bars, warm, int(valid[0]) if len(valid) else 0)
    res = run_backtest(ohlcv, blended, dataclasses.replace(config.engine, warmup_bars=warmup))
    assert not isinstance(res, list)
    return {k: float(v) for k, v in res.metrics.items() if isinstance(v, int | float)}, blended


def _check_tuner_options(options: Mapping[str, Any], tuner: type) -> None:
    """:class:`ConfigError` for a keyword that :class:`PhiAITuner` does not take (a typo such as
    ``fold=3`` is named with the closest option, not a TypeError from ``__init__``)."""
    import inspect

    from phi.errors import did_you_mean

    own = {"ohlcv", "engine", "metric", "seed", "candidates"}  # phiai_full_auto's own arguments
    valid = [p for p in inspect.signature(tuner).parameters if p not in own]
    for key in options:
        if key not in valid:
            raise ConfigError(
                f"phiai_full_auto got an unknown option {shown(key)}.{did_you_mean(key, valid)} "
                f"Tuner options: {', '.join(valid)}"
            )


def phiai_full_auto(
    ohlcv: pd.DataFrame,
    max_indicators: int = 3,
    n_trials: int = 200,
    metric: str = "sharpe",
    seed: int = 0,
    *,
    engine: EngineConfig | None = None,
    dataset: DatasetSpec | None = None,
    candidates: Sequence[str] | None = None,
    sampler: str = "tpe",
    select: bool = True,
    **tuner_options: Any,
) -> PhiAIResult:
    """Select up to ``max_indicators``, tune each, blend them, score the hold-out once.

    The blend is ``weighted_sum`` with weights proportional to each tuned indicator's
    walk-forward out-of-sample score (clipped at 0; equal weights if none is positive). The
    returned ``run_config`` has ``engine.warmup_bars`` at the hold-out's first bar, so
    ``phi.run(result.run_config)`` on the same bars reproduces ``result.holdout`` exactly.
    ``dataset`` names those bars (default: built from ``ohlcv``'s dates and ``attrs``; use
    :func:`load_bars` to get the bars of a dataset). Extra keyword arguments go to
    :class:`PhiAITuner` (folds, scheme, n_jobs, storage, constraints, holdout, progress, ...).
    ``select=False`` tunes every name in ``candidates`` without the selection step.
    """
    import dataclasses

    from phi.backtest.run_config import BlendConfig, IndicatorConfig, RunConfig
    from phi.phiai.explain import explain
    from phi.phiai.tuner import (  # tuner re-exports this module
        SAMPLERS,
        PhiAIResult,
        PhiAITuner,
        check_n_trials,
    )

    if sampler not in SAMPLERS:
        from phi.errors import unknown_choice

        raise ConfigError(unknown_choice("sampler", sampler, SAMPLERS))
    if (
        isinstance(max_indicators, bool)
        or not isinstance(max_indicators, int)
        or max_indicators < 1
    ):
        raise ConfigError(f"max_indicators must be an integer >= 1, got {shown(max_indicators)}")
    check_n_trials(n_trials)  # before the selection step spends any time
    if not isinstance(select, bool | np.bool_):
        raise ConfigError(f"select must be True or False, got {shown(select)}")
    _check_tuner_options(tuner_options, PhiAITuner)
    tuner = PhiAITuner(
        ohlcv, engine=engine, metric=metric, seed=seed, candidates=candidates, **tuner_options
    )
    if select:
        selection = tuner.select_indicators(candidates, top_n=max_indicators)
    else:
        if not candidates:
            raise ConfigError("select=False needs the indicators to tune in candidates")
        names = list(dict.fromkeys(candidates))
        selection = pd.DataFrame(
            {
                "name": names,
                "is_score": math.nan,
                "oos_score": math.nan,
                "trades": 0,
                "chosen": True,
                "why": "given by the user",
                "params": [{}] * len(names),
                "trials": 0,
            }
        )
    chosen = selection.loc[selection["chosen"], "name"].tolist()
    tuning = {
        name: tuner.tune_indicator(name, n_trials=n_trials, sampler=sampler) for name in chosen
    }
    scores = np.array(
        [
            max(tuning[n].oos_score, 0.0) if math.isfinite(tuning[n].oos_score) else 0.0
            for n in chosen
        ]
    )
    if tuner.direction != "maximize" or not scores.sum() > 0:
        scores = np.ones(len(chosen))
    weights = scores / scores.sum()
    inds = [
        IndicatorConfig(n, tuning[n].best_params, weight=round(float(w), 6))
        for n, w in zip(chosen, weights, strict=True)
        if w > 0
    ]
    h0 = tuner.plan.holdout_start
    config = RunConfig(
        dataset=dataset or _default_dataset(ohlcv),
        indicators=tuple(inds),
        blend=BlendConfig("weighted_sum"),
        engine=dataclasses.replace(tuner.engine, warmup_bars=h0),
        seed=seed,
        description=f"PhiAI full auto ({metric}, {tuner.n_trials_total} trials): metrics on the hold-out from bar {h0}",
        tags=("phiai",),
    )
    holdout, blended = blended_holdout(tuner.ohlcv, config)  # the bars converted once
    # the blend on the development region, for DSR/PSR/PBO against every trial run
    sig = blended.to_numpy(dtype=np.float64)[:, None]
    dev_run = tuner.evaluator.run_full(sig, tuner.plan.dev)[0]
    eq = dev_run.equity.to_numpy(dtype=np.float64)
    stats = tuner._luck_stats(eq[1:] / eq[:-1] - 1.0)
    is_score = float(dev_run.metrics[metric])
    # the out-of-sample figure is the tuned indicators' walk-forward scores, weighted
    oos = (
        float(sum(w * tuning[n].oos_score for n, w in zip(chosen, weights, strict=True)))
        if chosen
        else math.nan
    )
    stats.update(
        is_score=is_score,
        oos_score=oos,
        oos_is_efficiency=st.oos_is_efficiency(oos, is_score),
        holdout_score=holdout.get(metric, math.nan),
        holdout_sharpe=holdout.get("sharpe", math.nan),
        n_params=sum(len(t.best_params) for t in tuning.values()),
        dev_trades=int(dev_run.metrics["n_trades"]),
        stability=nanmean([t.stats["stability"] for t in tuning.values()]),
    )
    folds = (
        pd.concat([t.folds.assign(indicator=n) for n, t in tuning.items()], ignore_index=True)
        if tuning
        else pd.DataFrame()
    )
    result = PhiAIResult(config, stats, selection, tuning, "", holdout, folds)
    result.explanation = explain(result, tuner)
    return result
