"""``RegimeEngine(config).run(ohlcv) -> RegimeResult``: the whole MFT pipeline for one ticker.

::

    OHLCV -> features (26 raw -> rolling robust z; volume ones x gate)   features.py
          -> level features (15, scale-free, 10-500 bars), volume gate  levels.py
          -> gates -> energies (+ level energies) -> class context
             -> sticky logits                                            taxonomy.py
          -> sibling softmaxes (calibrated temperatures) -> 28 species
             -> 8 regime bins (sum to 1)                                  probability_field.py
          -> expert signals and weights (validity + affinity)            experts.py
          -> composite in [-1, 1] and confidences in [0, 1]               mixer.py
          -> per-regime AR(1) projections                                 projections.py

Causal end to end: the outputs at bar t depend on bars <= t only, so running on ``ohlcv[:k]``
gives the same values at those bars as running on the whole frame. No fit step (the level
weights are calibrated offline, :mod:`phi.regime.calibration`). Rows before
``result.warmup`` (the slowest feature's normalisation or expert signal) are NaN.

>>> from phi.data.demo import generate_demo
>>> df = generate_demo("DEMO", "2015-01-01", "2020-12-31")
>>> res = RegimeEngine().run(df)
>>> res.regime_probs.columns.tolist()[:3]
['TREND_UP', 'TREND_DN', 'RANGE']
>>> bool(abs(res.regime_probs.iloc[-1].sum() - 1.0) < 1e-9)
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from phi.errors import DataError
from phi.regime import _nb
from phi.regime.config import MFTConfig, feature_names, level_names
from phi.regime.experts import expert_signal_array, expert_warmup
from phi.regime.features import _frame, feature_first_valid, normalise_array, raw_feature_array
from phi.regime.fused import field_weights_mix
from phi.regime.levels import VOLUME_FEATURES, level_features, volume_gate
from phi.regime.mixer import MIX_COLUMNS
from phi.regime.probability_field import Field, probability_field
from phi.regime.projections import project
from phi.regime.taxonomy import NODES, REGIMES, SPECIES_IDS, level_matrix, node_logits

__all__ = ["RegimeEngine", "RegimeResult", "engine_warmup"]


def engine_warmup(config: MFTConfig | None = None) -> int:
    """Number of leading NaN rows of every engine output (features and experts warming up)."""
    cfg = config or MFTConfig()
    feat = max(feature_first_valid(cfg.features).values())
    return max(feat, expert_warmup(list(cfg.experts.validity)))


def direction_input(raw: pd.DataFrame, feats: pd.DataFrame, cfg: MFTConfig) -> np.ndarray:
    """The feature that splits TREND / BREAKOUT mass up and down (raw or normalised)."""
    source = raw if cfg.probability.direction_raw else feats
    return source[cfg.probability.direction_feature].to_numpy(dtype=np.float64)


def _f32(a: np.ndarray) -> np.ndarray:
    """``a`` as float32 (a magnitude beyond float32's 3.4e38 becomes +-inf, silently)."""
    with np.errstate(over="ignore"):
        return a.astype(np.float32)


@dataclass(frozen=True)
class RegimeResult:
    """Every stage's output, each a DataFrame indexed like the input bars.

    ``regime_probs`` has the 8 columns of :data:`phi.regime.taxonomy.REGIMES` and sums to 1
    on every bar from ``warmup`` on; ``node_probs`` holds marginal node probabilities (each
    level sums to 1), ``node_log_probs`` the log-probabilities within each sibling group
    (classes conditional on their kingdom). ``mix`` has ``composite`` in [-1, 1] and
    ``c_field``, ``c_consensus``, ``c_liquidity``, ``confidence`` (= c_field * c_consensus),
    ``score`` in [-1, 1]. ``levels`` holds the scale-free level features
    (:mod:`phi.regime.levels`); ``volume_gate`` the per-bar weight (0..1) given to the volume
    features: 0 where volume is absent, constant or unrelated to price activity.
    ``dominant_margin`` is the hysteresis of :meth:`dominant_regime`.

    ``regime_probs``, ``mix`` and ``volume_gate`` are float64; the wide internals (features,
    level features, energies, logits, node and species probabilities, expert signals, weights
    and projections) are float32 (about 7 significant digits), which halves the memory of a
    1,000,000-bar result. They are computed in float64 and rounded when stored. The internals
    nothing downstream reads (``raw_features``, ``energy``, ``logits``, ``node_log_probs``,
    ``species_probs``) are not kept by ``run``: the first access to any of them re-runs the
    front of the pipeline on a copy of the bars (deterministic: the same values ``run``
    computed) and keeps them. The projections (``expected``, ``variance``) are likewise
    computed on first access, from the expert signals recomputed in float64 on those bars and
    the regime bins.
    """

    features: pd.DataFrame
    node_probs: pd.DataFrame
    regime_probs: pd.DataFrame
    signals: pd.DataFrame
    weights: pd.DataFrame
    mix: pd.DataFrame
    warmup: int
    levels: pd.DataFrame
    volume_gate: pd.Series
    dominant_margin: float = 0.0
    #: recomputes the internals not kept by ``run`` (raw features, energies, logits, node
    #: log-probabilities, species probabilities): the front of the pipeline on the same bars
    _recompute: Callable[[], dict[str, pd.DataFrame]] | None = field(default=None, repr=False, compare=False)
    #: computes the projections (``expected``, ``variance``) on first access
    _project: Callable[[], dict[str, pd.DataFrame]] | None = field(default=None, repr=False, compare=False)

    def _internal(self, name: str) -> pd.DataFrame:
        return self._lazy(name, "_internal_cache", self._recompute)

    def _lazy(
        self, name: str, slot: str, compute: Callable[[], dict[str, pd.DataFrame]] | None
    ) -> pd.DataFrame:
        cache: dict[str, pd.DataFrame] | None = self.__dict__.get(slot)
        if cache is None:
            if compute is None:
                raise AttributeError(f"this RegimeResult was built without its {name}")
            cache = compute()
            object.__setattr__(self, slot, cache)  # frozen: set once, on first use
        return cache[name]

    @property
    def expected(self) -> pd.DataFrame:
        """Mixture mean of the experts' one-step projections (bars, experts; float32;
        computed on first access)."""
        return self._lazy("expected", "_projection_cache", self._project)

    @property
    def variance(self) -> pd.DataFrame:
        """Mixture variance of the experts' one-step projections (float32; computed on
        first access)."""
        return self._lazy("variance", "_projection_cache", self._project)

    @property
    def raw_features(self) -> pd.DataFrame:
        """The 26 raw features (float32; computed on first access, see the class doc)."""
        return self._internal("raw_features")

    @property
    def energy(self) -> pd.DataFrame:
        """Node energies (bars, 28; float32; computed on first access)."""
        return self._internal("energy")

    @property
    def logits(self) -> pd.DataFrame:
        """Sticky node logits (bars, 28; float32; computed on first access)."""
        return self._internal("logits")

    @property
    def node_log_probs(self) -> pd.DataFrame:
        """Log-probabilities within each sibling group (float32; computed on first access)."""
        return self._internal("node_log_probs")

    @property
    def species_probs(self) -> pd.DataFrame:
        """The 28 species probabilities (float32; computed on first access)."""
        return self._internal("species_probs")

    @property
    def composite(self) -> pd.Series:
        """The composite signal in [-1, +1] (+1 = buy)."""
        return self.mix["composite"]

    @property
    def projections(self) -> dict[str, pd.DataFrame]:
        """``{"expected": ..., "variance": ...}`` one-step projections of every expert."""
        return {"expected": self.expected, "variance": self.variance}

    def dominant_regime(self) -> pd.Series:
        """The dominant of the 8 regimes on every bar (None during the warm-up), with
        hysteresis: it changes only when another bin's probability exceeds the current
        one's by more than ``dominant_margin`` (0: the most probable bin). Causal."""
        p = np.ascontiguousarray(self.regime_probs.to_numpy(dtype=np.float64))
        code = _nb.dominant_nb(p, float(self.dominant_margin))
        names = np.array(REGIMES, dtype=object)[np.maximum(code, 0)]
        names[code < 0] = None
        return pd.Series(names, index=self.regime_probs.index, name="dominant_regime")

    def latest(self) -> dict[str, Any]:
        """Summary of the last bar: regime probabilities, dominant regime, mix values."""
        probs = self.regime_probs.iloc[-1]
        return {
            "timestamp": self.regime_probs.index[-1],
            "regime_probs": {k: float(v) for k, v in probs.items()},
            "dominant_regime": str(self.dominant_regime().iloc[-1]),
            "volume_used": float(self.volume_gate.iloc[-1]),
            **{k: float(v) for k, v in self.mix.iloc[-1].items()},
        }


class RegimeEngine:
    """The MFT regime engine. Stateless apart from its config; no fit step.

    Parameters
    ----------
    config
        An :class:`~phi.regime.config.MFTConfig` (default: the calibrated defaults).
    """

    def __init__(self, config: MFTConfig | None = None) -> None:
        if config is not None and not isinstance(config, MFTConfig):
            from phi.errors import ConfigError

            raise ConfigError(f"RegimeEngine expects an MFTConfig, got {type(config).__name__}")
        self.config = config or MFTConfig()
        self.warmup = engine_warmup(self.config)

    def run(self, ohlcv: pd.DataFrame) -> RegimeResult:
        """Run every stage on ``ohlcv`` (open, high, low, close, volume; any timeframe).

        Raises
        ------
        DataError
            Missing columns, non-finite or non-positive closes, or fewer bars than the
            warm-up plus one.
        """
        cfg = self.config
        if isinstance(ohlcv, pd.DataFrame) and len(ohlcv) <= self.warmup:
            raise DataError(
                f"the regime engine needs more than {self.warmup} bars (its warm-up); the frame "
                f"has {len(ohlcv)}. Use a longer date range"
            )
        front = _front(ohlcv, cfg, keep=False)
        z, gate, front_levels = front.z, front.gate, front.levels
        assert front.logits64 is not None and front.direction is not None
        experts = list(cfg.experts.validity)
        s = expert_signal_array(ohlcv, experts)
        # field, weights and mixer in one pass (the same values as probability_field,
        # expert_weights and mix: phi.regime.fused); column-major outputs, wrapped uncopied
        node_probs, regime_a, w, mixed = field_weights_mix(
            front.logits64, front.direction, s, front.volume_z, front.gap_z, cfg
        )
        del front
        s = _f32(s)

        idx = ohlcv.index
        k = self.warmup

        def frame(values: np.ndarray, columns: Any) -> pd.DataFrame:
            values[:k] = np.nan  # arrays computed above, owned here: mask the warm-up in place
            return pd.DataFrame(values, index=idx, columns=list(columns), copy=False)

        bars = ohlcv[["open", "high", "low", "close", "volume"]].copy()
        regimes = frame(regime_a, REGIMES)
        return RegimeResult(
            features=_frame(z, idx, cfg.features),
            node_probs=frame(node_probs, NODES),
            regime_probs=regimes,
            signals=pd.DataFrame(s, index=idx, columns=experts, copy=False),
            weights=frame(w, experts),
            mix=frame(mixed, MIX_COLUMNS),
            warmup=k,
            levels=front_levels,
            volume_gate=pd.Series(gate, index=idx, name="volume_gate"),
            dominant_margin=cfg.probability.dominant_margin,
            _recompute=functools.partial(_internals, bars, cfg, k),
            _project=functools.partial(_projections, bars, regimes, cfg, k),
        )



@dataclass(frozen=True)
class _Front:
    """The pipeline up to the probability field (see :func:`_front`)."""

    z: np.ndarray  # normalised features x volume gate, float32 (bars, 26)
    volume_z: np.ndarray  # its volume_zscore and gap_score columns in float64
    gap_z: np.ndarray
    gate: np.ndarray
    levels: pd.DataFrame  # float32
    field: Field | None  # only if kept (run computes it with the weights and mixer)
    raw: np.ndarray | None  # float32, only if kept
    energy: np.ndarray | None  # float32, only if kept
    logits: np.ndarray | None  # float32, only if kept
    logits64: np.ndarray | None = None  # float64, only if not kept (for run)
    direction: np.ndarray | None = None  # only if not kept (for run)


def _front(ohlcv: pd.DataFrame, cfg: MFTConfig, keep: bool) -> _Front:
    """Features, level features, volume gate, energies, logits and the probability field;
    ``keep=False`` drops the raw features, energies and logits as soon as they are used."""
    names = feature_names(cfg.features)
    col = {f: i for i, f in enumerate(names)}
    raw_a = raw_feature_array(ohlcv, cfg.features)
    z = normalise_array(raw_a, cfg.features)  # (bars, 26), F-ordered, owned here
    direction = raw_a if cfg.probability.direction_raw else z
    direction = direction[:, col[cfg.probability.direction_feature]].copy()
    raw = _f32(raw_a) if keep else None
    del raw_a
    gate = volume_gate(ohlcv, cfg.levels)
    for f in VOLUME_FEATURES:
        z[:, col[f]] *= gate
    lv = level_features(ohlcv, cfg.levels)
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    energy, logits = node_logits(z, cfg.taxonomy, names, lv.to_numpy(), beta, keep_energy=keep)
    kept_energy = energy if keep else None
    del energy
    vz, gz = z[:, col["volume_zscore"]].copy(), z[:, col["gap_score"]].copy()
    z = _f32(z)  # free the float64 z before the probability field allocates
    with np.errstate(over="ignore"):
        lv = lv.astype(np.float32)
    if not keep:  # run: the probability field comes with the weights and mixer
        return _Front(z, vz, gz, gate, lv, None, None, None, None, logits, direction)
    fld = probability_field(logits, direction, cfg, keep_log_probs=True)
    return _Front(z, vz, gz, gate, lv, fld, raw, kept_energy, _f32(logits))


def _internals(bars: pd.DataFrame, cfg: MFTConfig, k: int) -> dict[str, pd.DataFrame]:
    """The internals ``run`` does not keep, recomputed from its bars (the same values)."""
    f = _front(bars, cfg, keep=True)
    assert f.raw is not None and f.energy is not None and f.logits is not None and f.field is not None
    idx = bars.index

    def frame(values: np.ndarray, columns: Any) -> pd.DataFrame:
        values[:k] = np.nan
        return pd.DataFrame(values, index=idx, columns=list(columns), copy=False)

    return {
        "raw_features": _frame(f.raw, idx, cfg.features),
        "energy": frame(f.energy, NODES),
        "logits": frame(f.logits, NODES),
        "node_log_probs": frame(f.field.node_log_probs, NODES),
        "species_probs": frame(f.field.species, SPECIES_IDS),
    }


def _projections(bars: pd.DataFrame, regimes: pd.DataFrame, cfg: MFTConfig, k: int) -> dict[str, pd.DataFrame]:
    """The projections ``run`` leaves for first access: the expert signals recomputed (float64)
    from its bars and the regime bins it returned (the rows it masked to NaN are masked again in
    the output, and project_nb reads each bar's own bins only)."""
    experts = list(cfg.experts.validity)
    s = expert_signal_array(bars, experts)
    expected, variance = project(s, regimes.to_numpy(dtype=np.float64), cfg.projection)
    idx = bars.index

    def frame(values: np.ndarray) -> pd.DataFrame:
        values[:k] = np.nan
        return pd.DataFrame(values, index=idx, columns=experts, copy=False)

    return {"expected": frame(expected), "variance": frame(variance)}
