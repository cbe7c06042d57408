"""One typed configuration of the MFT regime engine, loadable from and savable to JSON or TOML.

:class:`MFTConfig` holds every default of ``MFT.md`` (the *union* of both energy blocks of
§1.4, the MSL matrices, gates, sticky-logit rates, confidence and projection parameters) plus
the calibration this project added (a temperature per taxonomy level and a direction scale,
see :mod:`phi.regime.calibration`). Everything is a plain frozen dataclass; ``to_dict`` /
``from_dict`` and :func:`load_config` / :func:`save_config` round-trip exactly.

File rules: a key the schema does not know is a :class:`~phi.errors.ConfigError` (with a
did-you-mean); so is a duplicate key (JSON or TOML), a value of the wrong type, or an
out-of-range value. Keys a file omits keep their defaults; a table a file gives (``energy``,
``affinity``, ...) *replaces* the default table as a whole, so ``energy`` must list every level
and node (an empty node table is allowed).

>>> cfg = MFTConfig()
>>> cfg.taxonomy.energy["kingdom"]["DIR"]["drift_tscore_30"]   # from the 1st block
0.4
>>> cfg.taxonomy.energy["kingdom"]["DIR"]["ofi_proxy"]         # from the 2nd block
0.25
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import numbers
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Final

from phi._io import atomic_write_text
from phi.errors import ConfigError, did_you_mean, shown, unknown_choice
from phi.regime import calibrated, tables
from phi.regime.taxonomy import LEVEL_NODES, LEVELS, NODES, REGIMES

__all__ = [
    "ConfidenceConfig",
    "ExpertConfig",
    "FeatureConfig",
    "MFTConfig",
    "ProbabilityConfig",
    "ProjectionConfig",
    "LevelConfig",
    "TaxonomyConfig",
    "feature_names",
    "level_names",
    "load_config",
    "overrides",
    "save_config",
]


#: the longest window (in bars) any setting may name: longer ones need more memory than bars exist
MAX_WINDOW = 100_000


def _d(obj: Any) -> Any:
    """A default factory returning a deep copy of ``obj`` (so instances never share tables)."""
    return field(default_factory=lambda: copy.deepcopy(obj))


@dataclass(frozen=True)
class FeatureConfig:
    """Feature windows (in bars) and normalisation (MFT.md §1.2, config ``features:``).

    Rolling windows whose minimum number of values MFT.md does not state use ``W // 2``.
    """

    #: windows of drift_tscore_W = mean_W(r) sqrt(W) / (std_W(r) + eps)
    drift: tuple[int, ...] = (15, 30, 60)
    #: windows of rv_W = std_W(r); rv_delta = rv_(vol[0]) - rv_(vol[1]); exactly two
    vol: tuple[int, ...] = (30, 120)
    #: windows of er_W (Kaufman efficiency on log returns)
    er: tuple[int, ...] = (30, 60, 120)
    autocorr_lag: int = 10
    autocorr_window: int = 40
    autocorr_min: int = 15
    #: window of flip_rate (min flip_min)
    flip: int = 30
    flip_min: int = 15
    median_cross: int = 30
    impulse_revert: int = 30
    #: a move is an impulse when |r_(t-1)| > impulse_sigma * std_30,(t-1)(r)
    impulse_sigma: float = 1.5
    illiquidity: int = 60
    volume_z: int = 200
    volume_z_min: int = 100
    #: floor of volume_zscore's MAD
    volume_mad_floor: float = 1e-6
    entropy: int = 30
    entropy_bins: int = 10
    entropy_min: int = 10
    range_expansion: int = 30
    dissipation: int = 30
    #: window of the rolling robust z-score of every feature (min max(window // 3, 5))
    robust_norm: int = 60
    #: floor of every normalisation scale
    mad_floor: float = 1e-8
    #: the EWMA std replaces 1.4826 * MAD where MAD < mad_floor * mad_small_multiplier
    mad_small_multiplier: float = 10.0
    ewma_norm_span: int = 30
    #: the 1e-10 guard of every ratio
    epsilon: float = 1e-10

    def __post_init__(self) -> None:
        _typed(self, "features.")
        for name in ("drift", "vol", "er"):
            ws = getattr(self, name)
            if not ws or any(w < 2 for w in ws) or len(set(ws)) != len(ws):
                raise ConfigError(f"features.{name} must be distinct windows >= 2 bars, got {list(ws)}")
        if len(self.vol) != 2:
            raise ConfigError(f"features.vol must be exactly two windows (short, long), got {list(self.vol)}")
        for name in ("drift", "vol", "er"):
            if max(getattr(self, name)) > MAX_WINDOW:
                raise ConfigError(f"features.{name} windows must be <= {MAX_WINDOW:,} bars, got {list(getattr(self, name))}")
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.type == "int" and not 1 <= v <= MAX_WINDOW:
                raise ConfigError(f"features.{f.name} must be in 1..{MAX_WINDOW:,}, got {v}")
        _positive("features", self, "impulse_sigma", "volume_mad_floor", "mad_floor", "epsilon",
                  "mad_small_multiplier")
        if not 2 <= self.entropy_bins <= 1000:
            raise ConfigError(f"features.entropy_bins must be in 2..1,000, got {self.entropy_bins}")
        for small, big in (("autocorr_min", "autocorr_window"), ("flip_min", "flip"),
                           ("volume_z_min", "volume_z"), ("entropy_min", "entropy")):
            if getattr(self, small) > getattr(self, big):
                raise ConfigError(
                    f"features.{small} ({getattr(self, small)}) must not exceed features.{big} "
                    f"({getattr(self, big)})"
                )
        if self.autocorr_lag >= self.autocorr_window:
            raise ConfigError(
                f"features.autocorr_lag ({self.autocorr_lag}) must be below autocorr_window "
                f"({self.autocorr_window})"
            )


def feature_names(fc: FeatureConfig) -> tuple[str, ...]:
    """The 26 feature columns (with the default windows) in engine order."""
    short, long_ = fc.vol
    return (
        "log_return",
        *(f"drift_tscore_{w}" for w in fc.drift),
        f"rv_{short}",
        f"rv_{long_}",
        "rv_delta",
        "true_range",
        "range_expansion",
        *(f"er_{w}" for w in fc.er),
        "autocorr",
        "flip_rate",
        "median_cross",
        "impulse_revert",
        "illiquidity",
        "volume_zscore",
        "gap_score",
        "entropy",
        "d_lambda",
        "mass",
        "d_mass_dt",
        "ofi_proxy",
        "absorption_score",
        "dissipation_proxy",
    )


#: Largest |weight| of a level feature in a node's energy (the calibrated ones are below 10): the
#: level features are not bounded, so 1e308 x a feature above 1.8 overflowed to NaN probabilities.
MAX_LEVEL_WEIGHT: Final = 1e6


@dataclass(frozen=True)
class LevelConfig:
    """Scale-free level features over long windows and the volume gate (:mod:`phi.regime.levels`).

    ``energy[node][feature]`` adds ``weight * feature`` to a node's energy (in logit units, not
    divided by the level's temperature); the shipped weights come from
    ``python -m phi.regime.calibration --write``.
    """

    #: windows of lvl_er_W (the shortest is the "short" one of lvl_er_shift)
    er: tuple[int, ...] = (10, 20, 30, 60, 120, 250)
    #: window of lvl_abs_t, lvl_vr_5, lvl_ac1 and the long drift of lvl_rev
    trend_window: int = 120
    #: window of lvl_vr_10
    vr_long: int = 250
    #: window of the short drift of lvl_rev
    short_window: int = 20
    #: EWM spans of the fast, slow and reference volatilities
    vol_fast: int = 10
    vol_slow: int = 40
    vol_ref: int = 500
    #: a squared return counts at most (jump_clip * slow sigma)^2
    jump_clip: float = 4.0
    #: EWM span (in occurrences of a time-of-day slot) of the intraday volatility factor
    season_span: int = 50
    #: window of the volume-|return| correlation of the volume gate, and its ramp
    volume_window: int = 250
    volume_corr_floor: float = 0.10
    volume_corr_full: float = 0.25
    #: node -> level feature -> weight (calibrated)
    energy: dict[str, dict[str, float]] = _d(calibrated.LEVEL_ENERGY)

    def __post_init__(self) -> None:
        _typed(self, "levels.")
        if not self.er or any(not 2 <= w <= MAX_WINDOW for w in self.er) or len(set(self.er)) != len(self.er):
            raise ConfigError(f"levels.er must be distinct windows of 2..{MAX_WINDOW:,} bars, got {list(self.er)}")
        for name in ("trend_window", "vr_long", "short_window", "vol_fast", "vol_slow", "vol_ref",
                     "season_span", "volume_window"):
            if not 2 <= getattr(self, name) <= MAX_WINDOW:
                raise ConfigError(f"levels.{name} must be in 2..{MAX_WINDOW:,} bars, got {getattr(self, name)}")
        _positive("levels", self, "jump_clip")
        if not self.volume_corr_floor < self.volume_corr_full:
            raise ConfigError(
                f"levels.volume_corr_floor ({self.volume_corr_floor}) must be below "
                f"volume_corr_full ({self.volume_corr_full})"
            )
        _known_keys("levels.energy", self.energy, NODES)
        names = level_names(self)
        for node, row in self.energy.items():
            _known_keys(f"levels.energy.{node}", row, names)
            for feat, w in row.items():  # w x an unbounded level feature must stay finite
                if not abs(w) <= MAX_LEVEL_WEIGHT:
                    raise ConfigError(
                        f"levels.energy.{node}.{feat} must be within +-{MAX_LEVEL_WEIGHT:,.0f}, "
                        f"got {w!r}"
                    )


def level_names(lc: LevelConfig) -> tuple[str, ...]:
    """The level feature columns (see :mod:`phi.regime.levels`) in engine order."""
    w, long_ = lc.trend_window, lc.vr_long
    return (
        *(f"lvl_er_{x}" for x in lc.er),
        f"lvl_abs_t_{w}",
        f"lvl_vr_5_{w}",
        f"lvl_vr_10_{long_}",
        f"lvl_ac1_{w}",
        "lvl_er_shift",
        "lvl_rev",
        "lvl_vol_fast",
        "lvl_vol_slow",
        "lvl_vol_trend",
    )


@dataclass(frozen=True)
class TaxonomyConfig:
    """Gates, energies, sticky logits and softmax temperatures (MFT.md §1.3-1.5)."""

    #: sticky-logit rate eta per level: l_t = (1 - eta) l_(t-1) + eta E_t
    smoothing: dict[str, float] = _d(calibrated.SMOOTHING)
    #: gate steepness gamma of features not in gate_steepness
    gate_default: float = 1.0
    #: per-feature gamma of phi_j = tanh(gamma z_j) (mass: 1 - tanh(gamma |z|))
    gate_steepness: dict[str, float] = _d(tables.GATE_STEEPNESS)
    #: scale of the MSL -> kingdom and MSL -> class matrices
    msl_kingdom_scale: float = 0.8
    #: drop the volatility features (``VOL_FEATURES``) from the DIR and NDR energies of every
    #: table, so that the direction kingdom does not move with volatility alone (MFT.md's
    #: tables give DIR/NDR weights on rv_30, rv_delta, true_range, range_expansion)
    vol_free_direction: bool = True
    msl_kingdom: dict[str, dict[str, float]] = _d(tables.MSL_KINGDOM)
    msl_class: dict[str, dict[str, float]] = _d(tables.MSL_CLASS)
    #: energy weights alpha[level][node][feature]: the union of both blocks of MFT.md §1.4
    energy: dict[str, dict[str, dict[str, float]]] = _d(tables.ENERGY)
    #: calibrated correction added to ``energy`` (same layout; empty = MFT.md's tables only)
    energy_correction: dict[str, dict[str, dict[str, float]]] = _d(calibrated.ENERGY_CORRECTION)
    #: calibrated constant added to a node's energy (absent = 0)
    bias: dict[str, float] = _d(calibrated.BIAS)
    #: temperature per level: divides the MFT.md (z-score) energies of the level's nodes before
    #: the softmax over each sibling group (calibrated; 1.0 everywhere reproduces the reference's
    #: near-uniform probabilities); level energies and biases are not divided
    #: 1.0 everywhere reproduces the reference's near-uniform probabilities)
    temperature: dict[str, float] = _d(calibrated.TEMPERATURE)

    def __post_init__(self) -> None:
        _typed(self, "taxonomy.")
        for name, valid in (("smoothing", LEVELS), ("temperature", LEVELS)):
            table = getattr(self, name)
            _known_keys(f"taxonomy.{name}", table, valid)
            missing = [lvl for lvl in LEVELS if lvl not in table]
            if missing:
                raise ConfigError(f"taxonomy.{name} has no value for level(s) {', '.join(missing)}")
        for lvl, eta in self.smoothing.items():
            if not 0.0 < eta <= 1.0:
                raise ConfigError(f"taxonomy.smoothing.{lvl} must be in (0, 1], got {eta}")
        for lvl, temp in self.temperature.items():
            if not temp > 0.0:
                raise ConfigError(f"taxonomy.temperature.{lvl} must be > 0, got {temp}")
        for name in ("energy", "energy_correction"):
            table = getattr(self, name)
            _known_keys(f"taxonomy.{name}", table, LEVELS)
            for lvl, nodes in table.items():
                _known_keys(f"taxonomy.{name}.{lvl}", nodes, LEVEL_NODES[lvl])
        for lvl in LEVELS:
            missing = [n for n in LEVEL_NODES[lvl] if n not in self.energy.get(lvl, {})]
            if missing:
                raise ConfigError(
                    f"taxonomy.energy.{lvl} has no table for node(s) {', '.join(missing)}; a given "
                    "energy table replaces the default, so list every node (an empty table is allowed)"
                )
        _known_keys("taxonomy.bias", self.bias, NODES)
        _known_keys("taxonomy.msl_kingdom", self.msl_kingdom, LEVEL_NODES["kingdom"])
        _known_keys("taxonomy.msl_class", self.msl_class, LEVEL_NODES["class"])
        if self.gate_default <= 0 or any(g <= 0 for g in self.gate_steepness.values()):
            raise ConfigError("taxonomy gate steepness values must be > 0")

    def feature_refs(self) -> dict[str, set[str]]:
        """Every feature name the tables reference -> the places that reference it."""
        refs: dict[str, set[str]] = {}
        for name in ("energy", "energy_correction"):
            for lvl, nodes in getattr(self, name).items():
                for node, weights in nodes.items():
                    for feat in weights:
                        refs.setdefault(feat, set()).add(f"taxonomy.{name}.{lvl}.{node}")
        for name in ("msl_kingdom", "msl_class"):
            for node, weights in getattr(self, name).items():
                for feat in weights:
                    refs.setdefault(feat, set()).add(f"taxonomy.{name}.{node}")
        for feat in self.gate_steepness:
            refs.setdefault(feat, set()).add("taxonomy.gate_steepness")
        return refs


@dataclass(frozen=True)
class ProbabilityConfig:
    """The probability field's up/down split (MFT.md §1.5).

    ``u = sigmoid(direction_scale * x)`` with x the ``direction_feature``; TREND and BREAKOUT
    mass is split ``u`` up, ``1 - u`` down. MFT.md uses the normalised feature; by default we
    use the raw drift t-statistic (already scale-free): the rolling robust z-score re-centres
    it on its 60-bar median, so a long trend loses its direction (up-vs-down AUC on the demo
    data 0.69 normalised vs 0.79 raw).
    """

    direction_feature: str = "drift_tscore_30"
    #: use the raw feature (True) or its robust z-score (False, MFT.md)
    direction_raw: bool = True
    #: calibrated (MFT.md: 1.0)
    direction_scale: float = calibrated.DIRECTION_SCALE
    #: hysteresis of the dominant regime: it changes only when another bin's probability
    #: exceeds the current one's by more than this (0 = plain argmax)
    dominant_margin: float = 0.1

    def __post_init__(self) -> None:
        _typed(self, "probability.")
        _positive("probability", self, "direction_scale")
        if not 0.0 <= self.dominant_margin < 1.0:
            raise ConfigError(f"probability.dominant_margin must be in [0, 1), got {self.dominant_margin}")


@dataclass(frozen=True)
class ConfidenceConfig:
    """Mixer and confidence parameters (MFT.md §1.9, config ``confidence:``)."""

    epsilon: float = 1e-8
    liquidity_volume_scale: float = 0.5
    liquidity_gap_scale: float = 0.5
    #: beta of w = clip((1 - beta) w_val + beta w_aff, 0, 2)
    affinity_blend: float = 0.5
    #: alpha of S = alpha S_raw + (1 - alpha) S_int
    interaction_alpha: float = 0.7
    #: the reference's trading gate on C_field * C_consensus (reported, not enforced)
    trade_floor: float = 0.30
    #: c_field = 1 - H(8 regime bins) / ln 8 ("regimes") or MFT.md's 1 - max(normalised
    #: entropy of kingdom, phylum and each class group) ("levels")
    field_entropy: str = "regimes"

    def __post_init__(self) -> None:
        _typed(self, "confidence.")
        _positive("confidence", self, "epsilon", "liquidity_volume_scale", "liquidity_gap_scale")
        if self.field_entropy not in ("regimes", "levels"):
            raise ConfigError(
                "confidence.field_entropy: " + unknown_choice("choice", self.field_entropy, ("regimes", "levels"))
            )
        for name in ("affinity_blend", "interaction_alpha", "trade_floor"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"confidence.{name} must be in [0, 1], got {v}")


@dataclass(frozen=True)
class ExpertConfig:
    """The engine's expert indicators: validity patterns, affinity and interaction (§1.7-1.9).

    Expert names are phi registry indicators (default parameters, phi's sign convention:
    +1 = buy, mean-reversion oscillators inverted) plus ``vol_profile_dev``.
    """

    #: indicator -> species patterns (S##, DIR, HIGHVOL, K.P, K.*.C) where it is valid
    validity: dict[str, tuple[str, ...]] = _d(tables.VALIDITY)
    #: affinity A[node][indicator] (absent = 0)
    affinity: dict[str, dict[str, float]] = _d(tables.AFFINITY)
    #: symmetric couplings "a:b" -> M[a, b]; the diagonal is 1
    interaction: dict[str, float] = _d(tables.INTERACTION)

    def __post_init__(self) -> None:
        _typed(self, "experts.")
        from phi.regime.taxonomy import match_pattern

        if not self.validity:
            raise ConfigError("experts.validity must name at least one indicator")
        for name, patterns in self.validity.items():
            for pat in patterns:
                try:
                    match_pattern(pat)
                except ValueError as exc:
                    raise ConfigError(f"experts.validity.{name}: {exc}") from None
        _known_keys("experts.affinity", self.affinity, NODES)
        experts = list(self.validity)
        for node, row in self.affinity.items():
            _known_keys(f"experts.affinity.{node}", row, experts)
        for key, value in self.interaction.items():
            if not -1.0 <= value <= 1.0:
                raise ConfigError(f"experts.interaction.{key} must be in [-1, 1], got {value}")
            parts = key.split(":")
            if len(parts) != 2 or parts[0] == parts[1]:
                raise ConfigError(f"experts.interaction key {key!r} must be 'a:b' with a != b")
            for p in parts:
                if p not in experts:
                    raise ConfigError(
                        f"experts.interaction.{key}: {unknown_choice('expert', p, experts)}"
                    )


@dataclass(frozen=True)
class ProjectionConfig:
    """Per-regime AR(1) one-step projection x_r = mu + phi (x - mu) + beta dx (§1.10)."""

    regimes: dict[str, dict[str, float]] = _d(
        {r: dict(zip(("mu", "phi", "beta", "sigma"), v, strict=True)) for r, v in tables.PROJECTION.items()}
    )

    def __post_init__(self) -> None:
        _typed(self, "projection.")
        _known_keys("projection.regimes", self.regimes, REGIMES)
        for r in REGIMES:
            row = self.regimes.get(r)
            if row is None:
                raise ConfigError(f"projection.regimes has no parameters for {r}")
            _known_keys(f"projection.regimes.{r}", row, ("mu", "phi", "beta", "sigma"))
            missing = [k for k in ("mu", "phi", "beta", "sigma") if k not in row]
            if missing:
                raise ConfigError(f"projection.regimes.{r} is missing {', '.join(missing)}")
            if row["sigma"] < 0:
                raise ConfigError(f"projection.regimes.{r}.sigma must be >= 0, got {row['sigma']}")


@dataclass(frozen=True)
class MFTConfig:
    """The whole engine configuration. ``MFTConfig()`` is the calibrated default."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    levels: LevelConfig = field(default_factory=LevelConfig)
    taxonomy: TaxonomyConfig = field(default_factory=TaxonomyConfig)
    probability: ProbabilityConfig = field(default_factory=ProbabilityConfig)
    confidence: ConfidenceConfig = field(default_factory=ConfidenceConfig)
    experts: ExpertConfig = field(default_factory=ExpertConfig)
    projection: ProjectionConfig = field(default_factory=ProjectionConfig)

    def __post_init__(self) -> None:
        _typed(self, "")
        names = feature_names(self.features)
        for feat, places in sorted(self.taxonomy.feature_refs().items()):
            if feat not in names:
                where = ", ".join(sorted(places))
                raise ConfigError(
                    f"{where} references feature {feat!r}, which the feature windows do not "
                    f"produce.{did_you_mean(feat, names)} Features: {', '.join(names)}"
                )
        if self.probability.direction_feature not in names:
            raise ConfigError(
                "probability.direction_feature: " + unknown_choice("feature", self.probability.direction_feature, names)
            )

    # ---- (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        """A plain nested dict (lists for tuples) that :meth:`from_dict` reads back exactly."""
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MFTConfig:
        """Build a config from a (partial) nested mapping merged over the defaults.

        Raises :class:`ConfigError` for unknown keys, wrong types or invalid values.
        """
        return typing.cast(MFTConfig, _build(cls, data, "config"))

    @classmethod
    def reference(cls) -> MFTConfig:
        """MFT.md's defaults without this project's additions: no level features, energy
        correction or bias, temperature 1 and MFT.md's sticky rates at every level, MFT.md's
        volatility weights in the direction kingdom, the normalised direction feature at scale
        1, a plain-argmax dominant regime and MFT.md's c_field (near-uniform probabilities,
        confidence ~0)."""
        base = cls()
        tax = dataclasses.replace(
            base.taxonomy,
            energy_correction={},
            bias={},
            temperature={lvl: 1.0 for lvl in LEVELS},
            smoothing=dict(tables.SMOOTHING),
            vol_free_direction=False,
        )
        prob = dataclasses.replace(
            base.probability, direction_scale=1.0, direction_raw=False, dominant_margin=0.0
        )
        conf = dataclasses.replace(base.confidence, field_entropy="levels")
        lvl = dataclasses.replace(base.levels, energy={})
        return dataclasses.replace(base, levels=lvl, taxonomy=tax, probability=prob, confidence=conf)


# ---------------------------------------------------------------------------- helpers


def overrides(config: MFTConfig, base: MFTConfig | None = None) -> dict[str, Any]:
    """The settings of ``config`` that differ from ``base`` (default: the calibrated defaults)
    as a partial ``{section: {setting: value}}`` dict, so that
    ``MFTConfig.from_dict(overrides(c)) == c``. A table-valued setting (e.g. the per-level
    temperatures) is given whole, as :meth:`MFTConfig.from_dict` replaces it whole."""
    new, old = config.to_dict(), (base or MFTConfig()).to_dict()
    out: dict[str, Any] = {}
    for section, values in new.items():
        changed = {k: v for k, v in values.items() if v != old[section][k]}
        if changed:
            out[section] = changed
    return out


def _typed(obj: Any, section: str) -> None:
    """Check (and normalise in place) every field of the frozen dataclass ``obj`` against its
    type hint, as :func:`_build` checks a file's values: an int where an int is due (a whole
    float becomes an int), finite floats, tuples for lists, string-keyed tables; a nested
    section must be an instance of its class. So a config built in Python is refused on the
    same grounds as one read from a file, before any kernel sees it."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        tp, value, path = hints[f.name], getattr(obj, f.name), f"{section}{f.name}"
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            if not isinstance(value, tp):
                raise ConfigError(f"{path} must be a {tp.__name__}, got {type(value).__name__}")
            continue
        object.__setattr__(obj, f.name, _build(tp, value, path))


def _positive(section: str, obj: Any, *names: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if not v > 0:
            raise ConfigError(f"{section}.{name} must be > 0, got {v}")


def _known_keys(where: str, table: Mapping[str, Any], valid: Any) -> None:
    valid = list(valid)
    for key in table:
        if key not in valid:
            raise ConfigError(f"{where}: {unknown_choice('key', key, valid)}")


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


def _build(tp: Any, data: Any, path: str) -> Any:
    """Convert ``data`` to type ``tp`` (dataclass, dict[str, X], tuple[X, ...], int, float, str)."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path} must be a table/mapping, got {type(data).__name__}")
        hints = typing.get_type_hints(tp)
        fields_ = {f.name: f for f in dataclasses.fields(tp)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in fields_:
                raise ConfigError(f"{path}: {unknown_choice('key', key, fields_)}")
            kwargs[key] = _build(hints[key], value, f"{path}.{key}")
        return tp(**kwargs)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is dict:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{path} must be a table/mapping, got {type(data).__name__}")
        out = {}
        for k, v in data.items():
            if not isinstance(k, str):
                raise ConfigError(f"{path}: keys must be strings, got {shown(k)}")
            out[k] = _build(args[1], v, f"{path}.{k}")
        return out
    if origin is tuple:
        if isinstance(data, str | bytes) or not isinstance(data, list | tuple):
            raise ConfigError(f"{path} must be a list, got {type(data).__name__} {shown(data)}")
        return tuple(_build(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
    if tp is bool:
        if not isinstance(data, bool):
            raise ConfigError(f"{path} must be true or false, got {type(data).__name__} {shown(data)}")
        return data
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise ConfigError(f"{path} must be an integer, got {type(data).__name__} {shown(data)}")
        if isinstance(data, numbers.Integral):
            return int(data)
        if math.isfinite(float(data)) and float(data).is_integer():
            return int(float(data))
        raise ConfigError(f"{path} must be an integer, got {shown(data)}")
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise ConfigError(f"{path} must be a number, got {type(data).__name__} {shown(data)}")
        x = float(data)
        if not math.isfinite(x):
            raise ConfigError(f"{path} must be finite, got {shown(data)}")
        return x
    if tp is str:
        if not isinstance(data, str):
            raise ConfigError(f"{path} must be a string, got {type(data).__name__} {shown(data)}")
        return data
    if isinstance(tp, types.UnionType):  # pragma: no cover - no unions in the schema
        raise TypeError(f"unsupported config type {tp!r}")
    raise TypeError(f"unsupported config type {tp!r} at {path}")


# ---------------------------------------------------------------------------- files

_FORMATS = (".json", ".toml")


def _path(path: Any) -> Path:
    """``path`` as a Path; a value that is not a path is a one-line ConfigError."""
    if not isinstance(path, str | PathLike):
        raise ConfigError(f"a regime config path must be a str or Path, got {shown(path)}")
    return Path(path)


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ConfigError(
            f"regime config file {str(path)!r} has suffix {suffix or '(none)'!r}; use .json or .toml"
        )
    return suffix


def load_config(path: str | Path) -> MFTConfig:
    """Read an :class:`MFTConfig` from a ``.json`` or ``.toml`` file (see the module doc)."""
    p = _path(path)
    fmt = _format(p)
    from phi._io import read_user_text, unique_keys

    text = read_user_text(p, "regime config")  # regular files only, <= 10 MB, UTF-8
    if fmt == ".json":
        try:
            data = json.loads(text, object_pairs_hook=unique_keys)
        except ConfigError as exc:  # a key given twice
            raise ConfigError(f"{p}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}: invalid JSON: {exc}") from None
        except RecursionError:
            raise ConfigError(f"{p}: invalid JSON: nested too deeply") from None
        except ValueError as exc:  # an integer beyond Python's 4,300-digit limit
            raise ConfigError(f"{p}: invalid JSON: {str(exc).split(';')[0]}") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML (duplicate keys are not allowed): {exc}") from None
        except RecursionError:
            raise ConfigError(f"{p}: invalid TOML: nested too deeply") from None
        except ValueError as exc:
            raise ConfigError(f"{p}: invalid TOML: {str(exc).split(';')[0]}") from None
    try:
        return MFTConfig.from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(data: Mapping[str, Any]) -> str:
    """Serialise a nested dict of scalars and lists as TOML (tables for mappings)."""
    lines: list[str] = []

    def emit(table: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
        subs = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
        if prefix and (scalars or not subs):
            lines.append("")
            lines.append("[" + ".".join(_toml_key(p) for p in prefix) + "]")
        for k, v in scalars:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in subs:
            emit(v, (*prefix, k))

    emit(data, ())
    return "\n".join(lines).lstrip("\n") + "\n"


def save_config(config: MFTConfig, path: str | Path) -> Path:
    """Write ``config`` completely to a ``.json`` or ``.toml`` file (atomically)."""
    if not isinstance(config, MFTConfig):
        raise ConfigError(f"save_config expects an MFTConfig, got {type(config).__name__}")
    p = _path(path)
    fmt = _format(p)
    data = config.to_dict()
    text = json.dumps(data, indent=2) + "\n" if fmt == ".json" else to_toml(data)
    return atomic_write_text(p, text)
