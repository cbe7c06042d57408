"""Optuna search spaces generated from the registry's :class:`~phi.indicators.params.ParamSpec`.

Parameters are declared once, in :mod:`phi.indicators.registry`; this module only reads them.
``int`` parameters become ``suggest_int(low, high, step)``, ``float`` ones
``suggest_float(low, high, step)``. The ordering constraint the registry states for a
``fast``/``slow`` pair is built into the sampling (``slow`` is drawn from ``fast + step``
upward), so no trial is wasted on an invalid pair; any other registry constraint is checked
after sampling and such a trial is reported invalid, never evaluated.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from phi.indicators.params import IndicatorSpec, ParamSpec
from phi.indicators.registry import get_indicator

if TYPE_CHECKING:
    import optuna

__all__ = ["ORDERED_PAIRS", "SearchSpace", "search_space"]

#: Parameter pairs ``(smaller, larger)`` whose order the sampler enforces when both exist.
ORDERED_PAIRS: tuple[tuple[str, str], ...] = (("fast", "slow"),)


#: ``id(spec) -> (spec, warmup_max)``: the spec is kept, so an id is never reused while cached.
_WARMUPS: dict[int, tuple[IndicatorSpec, int]] = {}


def _grid_values(p: ParamSpec, count: int) -> list[int | float]:
    """At most ``count`` values of ``p`` on its step grid, evenly spread, both ends included."""
    n_steps = int(math.floor((p.high - p.low) / p.step + 1e-9))
    if n_steps + 1 <= count:
        idx = list(range(n_steps + 1))
    else:
        idx = sorted({round(i * n_steps / (count - 1)) for i in range(count)}) if count > 1 else [0]
    return [
        p.kind(p.low + i * p.step) if p.kind is int else round(p.low + i * p.step, 12) for i in idx
    ]


@dataclass(frozen=True)
class SearchSpace:
    """The search space of one indicator, read from its registry spec."""

    spec: IndicatorSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def params(self) -> tuple[ParamSpec, ...]:
        return self.spec.params

    @property
    def spans(self) -> list[float]:
        """``high - low`` of every parameter (for neighbourhoods)."""
        return [float(p.high - p.low) for p in self.params]

    def _bounds(self, p: ParamSpec, chosen: Mapping[str, Any]) -> tuple[int | float, int | float]:
        low = p.low
        for small, large in ORDERED_PAIRS:
            if p.name == large and small in chosen:
                low = max(low, chosen[small] + p.step)
        return low, p.high

    def row_bounds(
        self, p: ParamSpec, chosen: Mapping[str, np.ndarray], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_bounds` of ``p`` for ``n`` parameter sets at once (``chosen``: the values
        already drawn, arrays), ``low`` capped at ``high`` (a single value) and ``high`` lowered
        onto ``low``'s step grid, as Optuna's distributions do (used by :mod:`phi.phiai.tpe`)."""
        low = np.full(n, float(p.low))
        high = np.full(n, float(p.high))
        for small, large in ORDERED_PAIRS:
            if p.name == large and small in chosen:
                low = np.maximum(low, np.asarray(chosen[small], dtype=np.float64) + p.step)
        low = np.minimum(low, high)
        on_grid = low + np.floor((high - low) / p.step + 1e-9) * p.step
        return low, np.where(np.abs(on_grid - high) < 1e-9 * p.step, high, on_grid)

    def suggest(self, trial: optuna.Trial) -> dict[str, int | float]:
        """Draw one parameter set with ``trial.suggest_*`` (ordered pairs respected)."""

        def pick(name: str, kind: type, low: Any, high: Any, step: Any) -> Any:
            if kind is int:
                return trial.suggest_int(name, low, high, step=step)
            return trial.suggest_float(name, low, high, step=step)

        return self._draw(pick)

    def _draw(self, pick: Callable[[str, type, Any, Any, Any], Any]) -> dict[str, int | float]:
        """One parameter set: ``pick(name, kind, low, high, step)`` per parameter, in
        :meth:`_ordered` order, with each pair's larger member drawn above the smaller."""
        out: dict[str, int | float] = {}
        for p in self._ordered():
            low, high = self._bounds(p, out)
            low = min(low, high)
            if p.kind is int:
                out[p.name] = pick(p.name, int, int(low), int(high), int(p.step))
            else:
                out[p.name] = pick(p.name, float, float(low), float(high), float(p.step))
        return {p.name: out[p.name] for p in self.params}

    def optuna_random(self, seed: int, n: int) -> list[dict[str, int | float]]:
        """The parameter sets that ``n`` trials of ``optuna.samplers.RandomSampler(seed=seed)``
        suggest through :meth:`suggest`, in order, without a study.

        The sampler's own arithmetic (Optuna 5): each parameter's ``IntDistribution`` /
        ``FloatDistribution`` (built by Optuna, so its range adjustments apply); a single-valued
        one takes its value without a draw; otherwise one ``RandomState(seed).uniform`` draw
        between the bounds widened by half a step, rounded to the step grid and clipped. Tests
        hold it equal to Optuna's ask/suggest for every registry space.
        """
        from optuna.distributions import FloatDistribution, IntDistribution

        rng = np.random.RandomState(seed)  # what RandomSampler(seed) draws from
        dists: dict[tuple[Any, ...], Any] = {}

        def pick(name: str, kind: type, low: Any, high: Any, step: Any) -> Any:
            key = (kind, low, high, step)
            d: Any = dists.get(key)
            if d is None:
                d = dists[key] = (
                    IntDistribution(low, high, step=step)
                    if kind is int
                    else FloatDistribution(low, high, step=step)
                )
            if d.single():
                return d.low
            half = 0.5 * d.step
            x = float(rng.uniform(float(d.low) - half, float(d.high) + half))
            if kind is int:
                v = math.floor((x - d.low) / d.step + 0.5) * d.step + d.low
                return min(max(v, d.low), d.high)
            return float(np.clip(np.round((x - d.low) / d.step) * d.step + d.low, d.low, d.high))

        return [self._draw(pick) for _ in range(n)]

    def _ordered(self) -> list[ParamSpec]:
        """Parameters with every pair's smaller member first."""
        names = [p.name for p in self.params]
        for small, large in ORDERED_PAIRS:
            if small in names and large in names and names.index(small) > names.index(large):
                names.remove(small)
                names.insert(names.index(large), small)
        return [self.spec.param(n) for n in names]

    def sample(self, rng: Any) -> dict[str, int | float]:
        """Draw one parameter set uniformly on the step grid with a numpy ``Generator``."""
        out: dict[str, int | float] = {}
        for p in self._ordered():
            low, high = self._bounds(p, out)
            low = min(low, high)
            k = int(math.floor((high - low) / p.step + 1e-9))
            v = low + int(rng.integers(0, k + 1)) * p.step
            out[p.name] = int(v) if p.kind is int else round(float(v), 12)
        return {p.name: out[p.name] for p in self.params}

    def problem(self, params: Mapping[str, Any]) -> str | None:
        """The registry's message when ``params`` break a constraint, else ``None``."""
        return self.spec.constraint(params) if self.spec.constraint is not None else None

    def grid(self, max_points: int) -> list[dict[str, int | float]]:
        """Valid parameter sets on a regular grid of at most about ``max_points`` points.

        Each parameter gets ``k`` values (both ends included) with ``k`` the largest count whose
        full product, after dropping invalid combinations, stays within ``max_points``.
        """
        if not self.params:
            return [{}]
        best: list[dict[str, int | float]] = []
        for k in range(2, 10_000):
            values = [_grid_values(p, k) for p in self.params]
            combos = [
                dict(zip([p.name for p in self.params], v, strict=True))
                for v in itertools.product(*values)
            ]
            valid = [c for c in combos if self.problem(c) is None]
            if len(valid) > max_points or (best and len(valid) == len(best)):
                break
            best = valid
        return best or [self.spec.defaults]

    def warmup_max(self) -> int:
        """The longest warm-up of any parameter set in the space (evaluated at the highs);
        computed once per registered spec (a composite's warm-up takes milliseconds)."""
        hit = _WARMUPS.get(id(self.spec))
        if hit is not None and hit[0] is self.spec:
            return hit[1]
        value = self._warmup_max()
        _WARMUPS[id(self.spec)] = (self.spec, value)
        return value

    def _warmup_max(self) -> int:
        highs = {p.name: p.high for p in self.params}
        lows = {p.name: p.low for p in self.params}
        return max(
            int(self.spec.warmup(highs)),
            int(self.spec.warmup({**highs, **lows})),
            int(self.spec.warmup(self.spec.defaults)),
        )

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)


def search_space(name: str) -> SearchSpace:
    """The :class:`SearchSpace` of registry indicator ``name``."""
    return SearchSpace(get_indicator(name))
