"""Plain sentences for a PhiAI result: what was chosen, why, and how much to trust it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phi.phiai.tuner import PhiAIResult, PhiAITuner

__all__ = ["LUCK_ALPHA", "PBO_HIGH", "explain", "verdict"]

#: DSR p-value below which a result is called distinguishable from luck.
LUCK_ALPHA = 0.05
#: PBO above which the in-sample winner is more often overfit than not (Bailey et al. 2015).
PBO_HIGH = 0.5
#: Fewest development-region trades per tuned parameter before a warning.
TRADES_PER_PARAM = 10


def _f(x: float, fmt: str = ".2f") -> str:
    return format(x, fmt) if isinstance(x, int | float) and math.isfinite(x) else "n/a"


def verdict(stats: dict[str, Any]) -> str:
    """One sentence: is the result distinguishable from luck (by the deflated Sharpe ratio)?
    When it is but PBO is above :data:`PBO_HIGH`, the sentence says that the chosen
    parameters are overfit among the trials (the two figures answer different questions)."""
    p, n = stats.get("dsr_pvalue", math.nan), stats.get("n_trials_total", 0)
    if isinstance(p, float) and math.isfinite(p) and p < LUCK_ALPHA:
        pbo = stats.get("pbo", math.nan)
        but = (
            f"; but PBO {pbo:.0%} is high: the in-sample best trial mostly ranked in the bottom "
            "half out of sample, so the chosen parameters are overfit among the trials: expect "
            "less out of sample than in sample, and judge by the hold-out"
            if isinstance(pbo, float) and pbo > PBO_HIGH
            else ""
        )
        return (
            f"Distinguishable from luck: after {n} trial{'s' if n != 1 else ''} the in-sample Sharpe ratio still beats the best "
            f"that luck alone would give (deflated Sharpe p-value {_f(p, '.3f')} < {LUCK_ALPHA}){but}."
        )
    return (
        f"Not distinguishable from luck: the best of {n} trial{'s' if n != 1 else ''} on random data would show a Sharpe ratio "
        f"this high (deflated Sharpe p-value {_f(p, '.3f')} >= {LUCK_ALPHA}); do not trade it on this evidence."
    )


def pbo_sentence(pbo: float) -> str:
    """What the probability of backtest overfitting says."""
    if not math.isfinite(pbo):
        return "PBO could not be computed (too few trials or bars)."
    level = (
        "high: the in-sample winner was mostly overfit"
        if pbo > PBO_HIGH
        else "moderate"
        if pbo > 0.2
        else "low"
    )
    return (
        f"Probability of backtest overfitting {pbo:.0%} ({level}): in that share of the combinatorial "
        "splits, the in-sample winner ranked in the bottom half out of sample."
    )


def explain(result: PhiAIResult, tuner: PhiAITuner) -> str:
    """The explanation of :func:`phiai_full_auto`'s result."""
    s = result.stats
    metric = tuner.metric
    chosen = result.selection[result.selection["chosen"]]
    if tuner.direction == "maximize":  # best first
        chosen = chosen.sort_values("oos_score", ascending=False, na_position="last")
    lines = []
    picks = "; ".join(f"{r['name']} ({r['why']})" for _, r in chosen.iterrows())
    lines.append(
        f"Selected {len(chosen)} of {len(result.selection)} indicators on walk-forward folds: {picks}."
    )
    for ind in result.run_config.enabled_indicators:
        t = result.tuning[ind.name]
        params = ", ".join(f"{k}={v}" for k, v in t.best_params.items()) or "no parameters"
        lines.append(
            f"{ind.name}: tuned to {params} over {t.stats['n_trials']} trials; {metric} in-sample "
            f"{_f(t.is_score)}, walk-forward out-of-sample {_f(t.oos_score)}; weight {ind.weight:.2f}; "
            f"neighbourhood stability {_f(t.stats['stability'])}."
        )
    lines.append(
        f"The blend scores {metric} {_f(s['is_score'])} on the development bars; on the untouched hold-out "
        f"({tuner.plan.n_bars - tuner.plan.holdout_start} bars, never seen by selection or tuning) "
        f"{metric} {_f(s['holdout_score'])}"
        + ("." if metric == "sharpe" else f" and Sharpe {_f(s['holdout_sharpe'])}.")
    )
    lines.append(
        f"Out-of-sample over in-sample efficiency {_f(s['oos_is_efficiency'])}; probabilistic Sharpe "
        f"ratio (vs 0) {_f(s['psr'], '.3f')}; deflated Sharpe ratio {_f(s['dsr'], '.3f')} counting all "
        f"{s['n_trials_total']} trials (selection included)."
    )
    lines.append(pbo_sentence(s["pbo"]))
    lines.append(verdict(s))
    trades = result.holdout.get("n_trades", math.nan)
    n_params = s.get("n_params", 0)
    dev_trades = s.get("dev_trades", 0)  # the blend's trades on the development bars
    if n_params and dev_trades / n_params < TRADES_PER_PARAM:
        lines.append(
            f"Warning: {n_params} tuned parameters for about {dev_trades} development trades "
            f"(fewer than {TRADES_PER_PARAM} per parameter): the sample is small for this many parameters."
        )
    if isinstance(trades, float) and math.isfinite(trades) and trades < 5:
        n = int(trades)
        lines.append(
            f"Warning: only {n} trade{'' if n == 1 else 's'} on the hold-out; its figures are noisy."
        )
    return "\n".join(lines)
