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

from phi.data.schema import OHLCV_COLUMNS, conform_ohlcv
from phi.errors import DataError
from phi.regime import _nb
from phi.regime._features_nb import gate_store_nb
from phi.regime.config import MFTConfig, feature_names, level_names
from phi.regime.experts import _signal_array, expert_warmup
from phi.regime.features import (
    _frame,
    _raw_feature_rows,
    feature_first_valid,
    normalise_array,
    regime_bars,
)
from phi.regime.fused import FusedPass
from phi.regime.levels import VOLUME_FEATURES, level_features, volume_gate
from phi.regime.mixer import MIX_COLUMNS
from phi.regime.probability_field import Field, probability_field
from phi.regime.projections import project
from phi.regime.taxonomy import (
    NODES,
    REGIMES,
    SPECIES_IDS,
    energy_matrix,
    level_matrix,
    logit_blocks,
)

__all__ = ["RegimeEngine", "RegimeResult", "engine_warmup", "top_two_margin"]


def engine_warmup(config: MFTConfig | None = None) -> int:
    """Number of leading NaN rows of every engine output (features and experts warming up)."""
    if config is not None and not isinstance(config, MFTConfig):
        from phi.errors import ConfigError

        raise ConfigError(f"engine_warmup expects an MFTConfig or None, got {type(config).__name__}")
    cfg = config or MFTConfig()
    feat = max(feature_first_valid(cfg.features).values())
    return max(feat, expert_warmup(list(cfg.experts.validity)))


def top_two_margin(probs: np.ndarray) -> np.ndarray:
    """Per row of ``probs`` (bars, bins): the largest probability minus the second largest, in
    [0, 1] for probabilities; NaN on a row holding a NaN (the engine's warm-up). Vectorised."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise DataError(f"top_two_margin takes a (bars, bins) array with at least 2 bins, got shape {p.shape}")
    # the two largest of each row in the last two places (a NaN sorts last: the row's margin is NaN)
    top = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return top[:, 1] - top[:, 0]


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
    ``dominant_margin`` is the hysteresis of :meth:`dominant_regime`; :attr:`margin` the per-bar
    top-two margin of ``regime_probs``, a second "how sure" figure beside ``confidence``.

    ``features`` are the rolling robust z-scores of the 26 MFT features (those the taxonomy
    does not read are computed on first access, see :attr:`features`).

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
    #: the normalised features: ``run`` z-scores the columns the taxonomy reads, this adds the
    #: others on first access
    _features: Callable[[], dict[str, pd.DataFrame]] | None = field(default=None, repr=False, compare=False)

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
    def features(self) -> pd.DataFrame:
        """The 26 normalised features (bars, 26; float32; volume features x the volume gate).
        ``run`` z-scores the features the taxonomy reads; the others (no energy weight, not
        the direction input) are z-scored on first access, from the raw values ``run`` kept."""
        return self._lazy("features", "_features_cache", self._features)

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
    def margin(self) -> pd.Series:
        """Top-two margin per bar: the largest regime probability minus the second (0..1; NaN in
        the warm-up; :func:`top_two_margin`, computed on access). It ranks the dominant regime's
        right calls better than ``confidence``, which stays the trading gate (README, "Does the
        confidence say when the dominant regime is right?"). Not the hysteresis ``dominant_margin``."""
        values = top_two_margin(self.regime_probs.to_numpy(dtype=np.float64))
        return pd.Series(values, index=self.regime_probs.index, name="margin")

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
        """Summary of the last bar: regime probabilities, dominant regime, mix values and the
        top-two ``margin`` (:attr:`margin`)."""
        probs = self.regime_probs.iloc[-1]
        return {
            "timestamp": self.regime_probs.index[-1],
            "regime_probs": {k: float(v) for k, v in probs.items()},
            "dominant_regime": str(self.dominant_regime().iloc[-1]),
            "volume_used": float(self.volume_gate.iloc[-1]),
            **{k: float(v) for k, v in self.mix.iloc[-1].items()},
            "margin": float(top_two_margin(self.regime_probs.iloc[-1:].to_numpy(dtype=np.float64))[0]),
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
        if not isinstance(ohlcv, pd.DataFrame):
            raise DataError(f"the regime engine takes an OHLCV DataFrame, got {type(ohlcv).__name__}")
        ohlcv = conform_ohlcv(ohlcv, OHLCV_COLUMNS)
        if len(ohlcv) <= self.warmup:
            raise DataError(
                f"the regime engine needs more than {self.warmup} bars (its warm-up); the frame "
                f"has {len(ohlcv)}. Use a longer date range"
            )
        experts = list(cfg.experts.validity)
        # field, weights and mixer in one pass, fed block by block with the sticky logits (the
        # same values as probability_field, expert_weights and mix: phi.regime.fused)
        front = _front(ohlcv, cfg, keep=False, experts=experts)
        assert front.fused is not None and front.signals is not None
        node_probs, regime_a, w, mixed = front.fused
        s = _f32(front.signals)

        idx = ohlcv.index
        k = self.warmup

        def frame(values: np.ndarray, columns: Any) -> pd.DataFrame:
            values[:k] = np.nan  # arrays computed above, owned here: mask the warm-up in place
            return pd.DataFrame(values, index=idx, columns=list(columns), copy=False)

        bars = ohlcv[["open", "high", "low", "close", "volume"]].copy()
        regimes = frame(regime_a, REGIMES)
        return RegimeResult(
            node_probs=frame(node_probs, NODES),
            regime_probs=regimes,
            signals=pd.DataFrame(s, index=idx, columns=experts, copy=False),
            weights=frame(w, experts),
            mix=frame(mixed, MIX_COLUMNS),
            warmup=k,
            levels=front.levels,
            volume_gate=pd.Series(front.gate, index=idx, name="volume_gate", copy=False),
            dominant_margin=cfg.probability.dominant_margin,
            _recompute=functools.partial(_internals, bars, cfg, k),
            _project=functools.partial(_projections, bars, regimes, cfg, k),
            _features=functools.partial(_features, front.features, front.lazy_raw, front.lazy_gate, cfg, idx),
        )


def z_columns(cfg: MFTConfig) -> tuple[list[str], list[str]]:
    """``(read, unread)``: the features whose z-scores the taxonomy reads (a non-zero energy
    weight, the volume and gap z-scores of the mixer, the direction input if normalised), and
    the others, each in :func:`~phi.regime.config.feature_names` order."""
    names = feature_names(cfg.features)
    alpha = energy_matrix(cfg.taxonomy, names)
    need = {f for f, row in zip(names, alpha, strict=True) if row.any()} | {"volume_zscore", "gap_score"}
    if not cfg.probability.direction_raw:
        need.add(cfg.probability.direction_feature)
    return [f for f in names if f in need], [f for f in names if f not in need]


def _features(
    feats: np.ndarray, lazy_raw: np.ndarray, gate: np.ndarray | None, cfg: MFTConfig, idx: pd.Index
) -> dict[str, pd.DataFrame]:
    """The features frame: the z-scores ``run`` left out (raw values ``lazy_raw``, the last
    columns of :func:`z_columns`' order), computed as ``run`` computes the others, stored into
    ``feats`` (float32, feature_names order)."""
    names = feature_names(cfg.features)
    lazy = z_columns(cfg)[1]
    if lazy:
        z = normalise_array(lazy_raw, cfg.features)
        for i, f in enumerate(lazy):
            col = z[:, i]
            if f in VOLUME_FEATURES:
                assert gate is not None
                col = col * gate
            with np.errstate(over="ignore"):
                feats[:, names.index(f)] = col
    return {"features": _frame(feats, idx, cfg.features)}


@dataclass(frozen=True)
class _Front:
    """The pipeline up to the probability field (see :func:`_front`)."""

    features: np.ndarray  # z-scores x volume gate, float32 (bars, 26); unread columns not filled
    lazy_raw: np.ndarray  # float64 raw values of the unread columns (bars, k)
    lazy_gate: np.ndarray | None  # the gate, if an unread column is a volume feature
    gate: np.ndarray
    levels: pd.DataFrame  # float32
    fused: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None  # FusedPass outputs (run)
    signals: np.ndarray | None  # the expert signals (run), float64
    field: Field | None  # only if kept
    raw: np.ndarray | None  # float32, only if kept
    energy: np.ndarray | None  # float32, only if kept
    logits: np.ndarray | None  # float32, only if kept


def _front(ohlcv: pd.DataFrame, cfg: MFTConfig, keep: bool, experts: list[str] | None = None) -> _Front:
    """Features, level features, volume gate, energies, logits and, given the ``experts``
    (``run``), their signals and the fused probability pass block by block of bars (the logits
    of all bars are never held at once); ``keep=True`` keeps the raw features, energies, logits and the
    probability field instead.

    Only the features the taxonomy reads are z-scored (:func:`z_columns`); the others' raw
    values are returned for :attr:`RegimeResult.features`. Each block of bars is gated,
    turned into logits, fed to the fused pass and stored as float32 while in cache."""
    fc = cfg.features
    names = feature_names(fc)
    used, lazy = z_columns(cfg)
    order = used + lazy
    col = {f: i for i, f in enumerate(order)}
    nu = len(used)
    n = len(ohlcv)
    lnames = level_names(cfg.levels)
    ne = len(experts) if experts is not None else 0
    # one buffer holds the raw read features, then (once they are z-scored) the expert signals
    # and the level features: its pages are touched once, not once per array; the unread raw
    # features have their own rows (kept for RegimeResult.features)
    buf = np.empty((max(nu, ne + len(lnames)), n))
    lazy_rows = np.empty((len(lazy), n))
    ohlcv = regime_bars(ohlcv)
    _raw_feature_rows(ohlcv, fc, {f: (buf[i] if i < nu else lazy_rows[i - nu]) for i, f in enumerate(order)})
    raw_a = buf[:nu].T  # (bars, read features), F-ordered
    z = normalise_array(raw_a, fc)  # (bars, read features), owned here
    dname = cfg.probability.direction_feature
    direction = (raw_a if cfg.probability.direction_raw else z)[:, col[dname]].copy()
    lazy_raw = lazy_rows.T  # (bars, unread features), F-ordered
    # the levels' and the gate's log returns too (a copy if its row is about to be reused)
    r_col = col["log_return"]
    returns = lazy_rows[r_col - nu] if r_col >= nu else buf[r_col].copy()
    raw = None
    if keep:
        raw = np.empty((len(names), n), dtype=np.float32).T
        with np.errstate(over="ignore"):
            for j, f in enumerate(names):
                raw[:, j] = buf[col[f]] if col[f] < nu else lazy_rows[col[f] - nu]
    del raw_a
    gate = volume_gate(ohlcv, cfg.levels, returns)
    lv = level_features(ohlcv, cfg.levels, returns, out=buf[ne : ne + len(lnames)])
    del returns
    vz, gz = picked = np.empty((2, n))  # the gated volume and gap z-scores, for the fused pass
    # the signals last: their kernels' large temporaries, freed, shrink the heap (later small
    # arrays would find its pages unmapped and fault them in again)
    signals = _signal_array(ohlcv, experts, out=buf[:ne].T) if experts is not None else None
    del buf
    lv_a = lv.to_numpy(dtype=np.float64)
    beta = level_matrix(cfg.levels.energy, level_names(cfg.levels))
    vol = np.array([col[f] for f in VOLUME_FEATURES if f in col and col[f] < nu], dtype=np.int64)
    pick = np.array([col["volume_zscore"], col["gap_score"]], dtype=np.int64)
    feats = np.empty((len(names), n), dtype=np.float32).T  # (bars, 26), F-ordered
    lv32 = np.empty((lv_a.shape[1], n), dtype=np.float32).T
    dst = np.array([names.index(f) for f in used], dtype=np.int64)

    def prepare(a: int, b: int) -> None:
        # before the block's logits: gate its volume z-scores, store them as float32, pick the
        # volume and gap z-scores for the fused pass (one pass while the block is in cache)
        with np.errstate(over="ignore"):
            gate_store_nb(z[a:b], gate[a:b], vol, feats, dst, a, pick, picked)
    fused = FusedPass(n, direction, signals, vz, gz, cfg) if signals is not None else None
    energy = np.empty((n if keep else 0, len(NODES)), dtype=np.float32)
    logits = np.empty((n, len(NODES))) if keep else None
    blocks = logit_blocks(z, cfg.taxonomy, used, lv_a, beta, energy=energy, logits=logits, prepare=prepare)
    for a, b, block in blocks:
        if fused is not None:
            fused.add(block, a)
        with np.errstate(over="ignore"):
            lv32[a:b] = lv_a[a:b]
    del lv_a
    levels = pd.DataFrame(lv32, index=lv.index, columns=lv.columns, copy=False)
    lazy_gate = gate.copy() if any(f in VOLUME_FEATURES for f in lazy) else None
    if not keep:
        assert fused is not None
        return _Front(feats, lazy_raw, lazy_gate, gate, levels, fused.outputs, signals, None, None, None, None)
    assert logits is not None
    fld = probability_field(logits, direction, cfg, keep_log_probs=True)
    return _Front(feats, lazy_raw, lazy_gate, gate, levels, None, None, fld, raw, energy, _f32(logits))


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
    s = _signal_array(bars, experts)
    expected, variance = project(s, regimes.to_numpy(dtype=np.float64), cfg.projection)
    idx = bars.index

    def frame(values: np.ndarray) -> pd.DataFrame:
        values[:k] = np.nan
        return pd.DataFrame(values, index=idx, columns=experts, copy=False)

    return {"expected": frame(expected), "variance": frame(variance)}
