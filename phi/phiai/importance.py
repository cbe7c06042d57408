"""How much each parameter matters to a tuning study's score: fANOVA importance.

fANOVA (Hutter, Hoos and Leyton-Brown 2014) fits a random forest to the trials' scores and splits
the variance of its prediction over the parameters: a parameter's importance is the share of
the variance its own main effect explains (normalised to sum to 1 here). Computed by Optuna's
:class:`~optuna.importance.FanovaImportanceEvaluator` (seeded) on the trials of a
:class:`~phi.phiai.tuner.TuneResult`, each parameter over its whole registry range, after the
search (a study's speed does not pay for it).

>>> param_importance(tuner.tune_indicator("dual_sma"))  # doctest: +SKIP
{'slow': 0.81, 'fast': 0.19}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from phi.phiai.tuner import TuneResult

__all__ = ["param_importance"]


def param_importance(result: TuneResult, seed: int = 0) -> dict[str, float]:
    """Each tuned parameter's fANOVA importance for the mean in-sample score, largest first.

    The trials used are the feasible ones with a finite score (all of them if none is
    feasible). Shares sum to 1; a single parameter gets 1. Every share is nan when fewer than
    two trials or one distinct score leave nothing to attribute. ``{}`` without parameters.
    """
    import optuna
    from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    from phi.phiai.spaces import search_space

    params = search_space(result.name).params
    names = [p.name for p in params if p.name in result.trials.columns]
    if not names:
        return {}
    trials = result.trials
    if "feasible" in trials and bool(trials["feasible"].any()):
        trials = trials[trials["feasible"]]
    scores = trials["is_score"].to_numpy(dtype=np.float64)
    trials = trials[np.isfinite(scores)]
    scores = scores[np.isfinite(scores)]
    if len(trials) < 2 or np.ptp(scores) == 0.0:
        return dict.fromkeys(names, math.nan)
    if len(names) == 1:
        return {names[0]: 1.0}
    dists: dict[str, BaseDistribution] = {}
    for p in params:
        if p.name not in names:
            continue
        seen = trials[p.name].to_numpy(dtype=np.float64)
        inside = bool(seen.min() >= p.low and seen.max() <= p.high)
        if p.kind is int and inside:
            dists[p.name] = IntDistribution(int(p.low), int(p.high), step=int(p.step))
        elif p.kind is int:  # values set by hand outside the registry's range
            dists[p.name] = IntDistribution(int(min(p.low, seen.min())), int(max(p.high, seen.max())))
        else:  # on its step grid when every value is and the range holds whole steps
            steps = (float(p.high) - float(p.low)) / float(p.step) if p.step else math.nan
            k = (seen - float(p.low)) / float(p.step) if p.step else seen
            on_grid = (
                inside
                and math.isfinite(steps)
                and abs(steps - round(steps)) < 1e-9
                and bool(np.all(np.abs(k - np.round(k)) < 1e-9))
            )
            dists[p.name] = FloatDistribution(
                float(min(p.low, seen.min())),
                float(max(p.high, seen.max())),
                step=float(p.step) if on_grid else None,
            )
    rows = [
        optuna.trial.create_trial(
            params={n: int(v) if isinstance(dists[n], IntDistribution) else float(v)
                    for n, v in zip(names, row, strict=True)},  # fmt: skip
            distributions=dists,
            value=float(value),
        )
        for row, value in zip(trials[names].itertuples(index=False, name=None), scores, strict=True)
    ]
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line
    try:
        study = optuna.create_study(direction="maximize")
        study.add_trials(rows)
        got = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    finally:
        optuna.logging.set_verbosity(level)
    return {n: float(v) for n, v in got.items()}
