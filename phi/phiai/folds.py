"""Walk-forward folds and the untouched hold-out.

Bars ``[0, first)`` are warm-up only (``first`` >= the longest indicator warm-up in the search,
so every candidate is scored on the same bars). The last ``holdout`` share of all bars is the
hold-out: no selection or tuning step sees it. The bars in between (the development region)
are cut into ``folds + 1`` equal blocks; fold ``i`` (1..folds) tests on block ``i`` and trains on
block ``i-1`` (``rolling``) or on blocks ``0..i-1`` (``anchored``). Every segment is simulated on
its own from flat, with the signal (computed on all bars up to each bar) taken from earlier
bars, so a segment's score depends only on its own bars' prices.
"""

from __future__ import annotations

from dataclasses import dataclass

from phi.errors import ConfigError, shown

__all__ = ["SCHEMES", "Fold", "FoldPlan", "make_folds"]

SCHEMES: tuple[str, ...] = ("rolling", "anchored")
#: Fewest bars a test block may have.
MIN_BLOCK_BARS = 20


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: train on bars ``[train_start, train_end)``, test on ``[train_end, test_end)``."""

    number: int
    train_start: int
    train_end: int
    test_end: int

    @property
    def train(self) -> tuple[int, int]:
        return self.train_start, self.train_end

    @property
    def test(self) -> tuple[int, int]:
        return self.train_end, self.test_end


@dataclass(frozen=True)
class FoldPlan:
    """The folds, the development region ``[first, holdout_start)`` and the hold-out ``[holdout_start, n_bars)``."""

    folds: tuple[Fold, ...]
    first: int
    holdout_start: int
    n_bars: int
    scheme: str

    @property
    def dev(self) -> tuple[int, int]:
        return self.first, self.holdout_start

    @property
    def holdout(self) -> tuple[int, int]:
        return self.holdout_start, self.n_bars


def make_folds(
    n_bars: int, first: int, folds: int = 5, scheme: str = "rolling", holdout: float = 0.2
) -> FoldPlan:
    """Plan ``folds`` walk-forward folds and a final hold-out on ``n_bars`` bars.

    Parameters
    ----------
    n_bars : int
        Number of bars.
    first : int
        First bar that may be scored (>= 1, after every candidate's warm-up).
    folds : int
        Number of folds, >= 1.
    scheme : {"rolling", "anchored"}
    holdout : float
        Share of all bars kept back at the end, in [0, 0.9).

    Raises :class:`ConfigError` when the bars are too few for the plan.
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"scheme must be one of {', '.join(SCHEMES)}, got {shown(scheme)}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise ConfigError(f"folds must be an integer >= 1, got {shown(folds)}")
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0.0 <= holdout < 0.9:
        raise ConfigError(f"holdout must be a share in [0, 0.9), got {shown(holdout)}")
    first = max(1, int(first))
    h0 = n_bars - int(round(holdout * n_bars))
    block = (h0 - first) // (folds + 1)
    if block < MIN_BLOCK_BARS or (holdout > 0 and n_bars - h0 < MIN_BLOCK_BARS):
        raise ConfigError(
            f"{n_bars} bars are too few for {folds} folds after a warm-up of {first} bars and a "
            f"{holdout:.0%} hold-out (each block needs >= {MIN_BLOCK_BARS} bars); use more bars, "
            "fewer folds or indicators with shorter periods"
        )
    edges = [first + i * block for i in range(folds + 1)] + [h0]
    out = []
    for i in range(1, folds + 1):
        start = edges[i - 1] if scheme == "rolling" else first
        out.append(Fold(i, start, edges[i], edges[i + 1]))
    return FoldPlan(tuple(out), first, h0, n_bars, scheme)
