"""Leave-one-family-out: calibrate without a family, score the engine on that family.

For every family of :data:`phi.regime.families.FAMILIES`, the kingdom and phylum level energies
are refitted (:func:`phi.regime.calibration.fit_levels`) on the *other* families plus the demo
symbols, and the harness (:mod:`phi.regime.evaluate`) scores that config on fresh series of
the family left out (other seeds than the calibration's). The result has one row per family
(the out-of-family figures) and a ``worst`` row: for each figure, the worst left-out family's
value (lowest AUC / accuracy / run, and the baselines of that same family beside it), with the
family named in :attr:`LofoResult.worst_family`. Real series passed as ``extra`` are scored
with the config fitted on every family (none of them is real data, so they are out of family
too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from phi.regime.calibration import (
    CAL_BARS,
    CAL_SEED,
    RIDGE,
    TRAIN_SYMBOLS,
    calibration_base,
    fit_levels,
    training_series,
)
from phi.regime.config import MFTConfig
from phi.regime.evaluate import SKIP, evaluate_families
from phi.regime.families import FAMILIES, Labelled

__all__ = ["LofoResult", "leave_one_family_out"]

#: the engine figure whose worst left-out family is reported, with its baseline column
WORST_KEYS: tuple[tuple[str, str], ...] = (
    ("auc_trend", "er30_auc_trend"),
    ("auc_highvol", "rv_auc_highvol"),
    ("auc_lowvol", "rv_auc_lowvol"),
    ("bal_acc", "base_bal_acc"),
)


@dataclass(frozen=True)
class LofoResult:
    """Out-of-family figures: ``table`` (one row per left-out family, ``extra`` series and a
    ``worst`` row), ``configs`` (the config fitted without each family) and ``worst_family``
    (figure -> the family with the smallest engine-minus-baseline margin on it)."""

    table: pd.DataFrame
    configs: dict[str, MFTConfig]
    worst_family: dict[str, str]


def leave_one_family_out(
    families: Sequence[str] = tuple(FAMILIES),
    n: int = 6000,
    seeds: Sequence[int] = (0,),
    *,
    cal_bars: int = CAL_BARS,
    cal_seed: int = CAL_SEED,
    demo_symbols: Sequence[str] = TRAIN_SYMBOLS,
    extra: dict[str, Labelled] | None = None,
    base: MFTConfig | None = None,
    ridge: float = RIDGE,
    skip: int = SKIP,
) -> LofoResult:
    """Run the protocol of the module doc (deterministic)."""
    cfg0 = calibration_base(base)
    data = training_series(cfg0, list(FAMILIES), demo_symbols, cal_bars, cal_seed)
    rows: dict[str, pd.Series] = {}
    configs: dict[str, MFTConfig] = {}
    for fam in families:
        train = [s for name, series in data.items() if name != fam for s in series]
        cfg = fit_levels(cfg0, train, ridge)
        configs[fam] = cfg
        rows[fam] = evaluate_families(cfg, n, seeds, families=[fam], skip=skip).loc[fam]
    if extra:
        full = fit_levels(cfg0, [s for series in data.values() for s in series], ridge)
        table = evaluate_families(full, n, seeds, families=(), extra=extra, skip=skip)
        for name in table.index:
            rows[str(name)] = table.loc[name]
    table = pd.DataFrame(rows).T
    fam_rows = table.loc[list(families)]
    worst: dict[str, float] = {}
    worst_family: dict[str, str] = {}
    for eng, bas in WORST_KEYS:
        margin = (fam_rows[eng] - fam_rows[bas]).dropna()
        if margin.empty:
            continue
        name = str(margin.idxmin())
        worst_family[eng] = name
        worst[eng], worst[bas] = float(fam_rows.at[name, eng]), float(fam_rows.at[name, bas])
    for col in table.columns:
        if col not in worst:
            worst[col] = float(fam_rows[col].min())
    table.loc["worst"] = pd.Series(worst)
    return LofoResult(table, configs, worst_family)
