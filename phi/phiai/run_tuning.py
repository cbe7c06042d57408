"""Tune a run config's ``phiai`` section on the run's bars (called by :func:`phi.run`)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from phi.backtest.run_config import RunConfig

__all__ = ["tune_run_config"]


def tune_run_config(config: RunConfig, frame: pd.DataFrame) -> tuple[RunConfig, dict[str, Any]]:
    """The config with PhiAI's choices filled in, and the tuning report (``tuning.json``).

    ``config.phiai.full_auto``: the indicators and weights become PhiAI's (blend
    ``weighted_sum``). Otherwise each enabled indicator with ``auto_tune`` gets its best
    parameters; the others and every weight stay as given. In both cases
    ``engine.warmup_bars`` is raised to the hold-out's first bar, so the run's metrics are those
    of the bars no tuning step saw. Seeded by ``config.seed``; the same config on the same bars
    gives the same result.
    """
    from phi.phiai.auto import phiai_full_auto
    from phi.phiai.report import tuning_report

    p = config.phiai
    assert p is not None  # RunConfig fills in the section when an indicator has auto_tune
    common: dict[str, Any] = {
        "n_trials": p.n_trials,
        "metric": p.metric,
        "seed": config.seed,
        "engine": dataclasses.replace(config.engine, warmup_bars=0),
        "dataset": config.dataset,
        "sampler": p.sampler,
        "folds": p.folds,
        "scheme": p.scheme,
        "holdout": p.holdout,
        "constraints": p.constraints,
    }
    if p.full_auto:
        result = phiai_full_auto(
            frame, max_indicators=p.max_indicators, candidates=p.candidates, **common
        )
        indicators = result.run_config.indicators
        blend = result.run_config.blend
    else:
        names = [i.name for i in config.enabled_indicators if i.auto_tune]
        result = phiai_full_auto(
            frame, max_indicators=len(names), candidates=names, select=False, **common
        )
        indicators = tuple(
            dataclasses.replace(i, params=dict(result.tuning[i.name].best_params))
            if i.name in result.tuning
            else i
            for i in config.indicators
        )
        blend = config.blend
    h0 = result.run_config.engine.warmup_bars
    engine = dataclasses.replace(config.engine, warmup_bars=max(config.engine.warmup_bars, h0))
    tuned = config.replace(indicators=indicators, blend=blend, engine=engine)
    return tuned, tuning_report(result)
