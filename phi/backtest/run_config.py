"""``RunConfig``: everything one backtest run depends on, as one JSON document.

A run is reproducible from its config alone: the dataset request and its content hash, the
indicators with their fully resolved parameters, the blend, the engine settings, the seed
and the package and schema versions. ``to_json``/``from_json`` round-trip exactly, and every
bad value is a one-line :class:`~phi.errors.ConfigError` that names its field path, e.g.
``engine.initial_capital must be > 0, got -5.0``.

Configs hold no secrets: there is no field for an API key (keys come from the environment
only) and unknown fields are rejected, so none can be smuggled in.

>>> cfg = RunConfig(DatasetSpec("DEMO"), [IndicatorConfig("rsi")])
>>> RunConfig.from_json(cfg.to_json()) == cfg
True
>>> cfg.indicators[0].params
{'period': 14}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from phi import __version__
from phi.backtest.engine import EngineConfig
from phi.blending.blender import BLEND_MODES, PHIAI_WINDOWS
from phi.errors import ConfigError, PhiError, did_you_mean, shown, unknown_choice

if TYPE_CHECKING:
    from phi.options.config import OptionsConfig
    from phi.phiai.config import PhiAIConfig
    from phi.regime.config import MFTConfig

__all__ = [
    "SCHEMA_VERSION",
    "BlendConfig",
    "DatasetSpec",
    "IndicatorConfig",
    "RunConfig",
    "config_diff",
]

#: Version of the config.json layout. Bump it (and add an upgrade step) on incompatible changes.
SCHEMA_VERSION: Final = 1
DEFAULT_START: Final = "2020-01-01"
DEFAULT_END: Final = "2024-12-31"

#: Settings each blend mode accepts in ``BlendConfig.params``, with their defaults.
BLEND_PARAM_DEFAULTS: Final[dict[str, dict[str, Any]]] = {
    "weighted_sum": {},
    "voting": {"dead_zone": 0.05},
    "regime_weighted": {},
    "phiai": {"train_bars": 252, "step": 21, "window": "expanding", "metric": "sharpe"},
}
#: Metrics phiai may score indicators by (higher is better for each of them).
PHIAI_METRICS: Final = ("sharpe", "sortino", "calmar", "total_return", "cagr", "profit_factor", "win_rate")
_HEX = re.compile(r"^[0-9a-f]{8,128}$")
#: What a run trades: the underlying (the equity engine) or an option structure on it.
MODES: Final = ("equities", "options")


#: Caps on the free-text fields (they are shown in tables and stored with every run).
MAX_DESCRIPTION_CHARS: Final = 2_000
MAX_TAGS: Final = 32
MAX_TAG_CHARS: Final = 64
#: Largest seed (numpy's and optuna's generators take 64-bit seeds).
MAX_SEED: Final = 2**63 - 1

# ---------------------------------------------------------------------------- helpers

_show = shown


def _str(value: Any, path: str, *, empty: bool = False, max_chars: int | None = None) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path} must be a string, got {_show(value)}")
    if not empty and not value.strip():
        raise ConfigError(f"{path} must not be empty")
    if max_chars is not None and len(value) > max_chars:
        raise ConfigError(f"{path} is {len(value):,} characters long; at most {max_chars:,} are allowed")
    return value


def _num(value: Any, path: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{path} must be a number, got {_show(value)}")
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x):
        raise ConfigError(f"{path} must be finite, got {_show(value)}")
    return x


def _int(value: Any, path: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{path} must be an integer, got {_show(value)}")
    if int(value) < minimum:
        raise ConfigError(f"{path} must be >= {minimum}, got {_show(value)}")
    if maximum is not None and int(value) > maximum:
        raise ConfigError(f"{path} must be <= {maximum}, got {_show(value)}")
    return int(value)


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path} must be an object (a mapping), got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigError(f"{path} keys must be strings, got {_show(key)}")
    return dict(value)


def _check_keys(data: Mapping[str, Any], cls: type, path: str) -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            where = f"{path}: unknown field" if path else "unknown config field"
            raise ConfigError(f"{where} {_show(key)}.{did_you_mean(str(key), names)} Valid fields: {', '.join(names)}")


def _rewrap(exc: PhiError, path: str) -> ConfigError:
    """A lower layer's message restated under ``path`` (one line, same meaning)."""
    msg = str(exc)
    if msg.startswith("EngineConfig."):
        return ConfigError(path + msg[len("EngineConfig") :])
    return ConfigError(f"{path}: {msg}")


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _day(value: Any, path: str) -> str:
    import pandas as pd

    from phi.data.dates import is_date_like

    if not is_date_like(value):
        raise ConfigError(f"{path} must be a date like 2024-01-31, got {_show(value)}")
    try:
        ts = pd.Timestamp(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{path} is not a date: {_show(value)} (use YYYY-MM-DD)") from None
    if pd.isna(ts):
        raise ConfigError(f"{path} is not a date: {_show(value)} (use YYYY-MM-DD)")
    from phi.data.dates import SPAN, check_year_first, in_span

    if not in_span(ts):
        raise ConfigError(f"{path} {_show(value)} is outside the dates Phi-nance accepts ({SPAN})")
    check_year_first(value, path)
    return ts.strftime("%Y-%m-%d")


# ---------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class DatasetSpec:
    """Which bars a run uses: a dataset request (dates inclusive) plus its content hash.

    ``content_hash`` is filled in by the pipeline from the loaded bars; a re-run checks it.
    ``path`` is the CSV file for ``vendor="csv"`` (and only then).
    """

    symbol: str
    vendor: str = "demo"
    timeframe: str = "1D"
    start: str = DEFAULT_START
    end: str = DEFAULT_END
    path: str | None = None
    content_hash: str | None = None

    def __post_init__(self) -> None:
        from phi.data.fetchers import normalize_vendor, validate_symbol
        from phi.data.timeframes import normalize_timeframe

        p = "dataset"
        try:
            _set(self, "vendor", normalize_vendor(_str(self.vendor, f"{p}.vendor")))
        except ConfigError as exc:
            raise exc if str(exc).startswith(p) else _rewrap(exc, f"{p}.vendor") from None
        try:
            symbol = _str(self.symbol, f"{p}.symbol")
            _set(self, "symbol", symbol.strip() if self.vendor == "csv" else validate_symbol(symbol))
        except PhiError as exc:
            raise exc if str(exc).startswith(p) else _rewrap(exc, f"{p}.symbol") from None
        try:
            _set(self, "timeframe", normalize_timeframe(_str(self.timeframe, f"{p}.timeframe")))
        except ConfigError as exc:
            raise exc if str(exc).startswith(p) else _rewrap(exc, f"{p}.timeframe") from None
        _set(self, "start", _day(self.start, f"{p}.start"))
        _set(self, "end", _day(self.end, f"{p}.end"))
        if self.start > self.end:
            raise ConfigError(f"{p}.start {self.start} is after {p}.end {self.end}; swap them")
        if self.vendor == "csv":
            if self.path is None:
                raise ConfigError(f"{p}.path is required for vendor 'csv' (the CSV file to read)")
            if "\x00" in _str(self.path, f"{p}.path"):
                raise ConfigError(f"{p}.path must not contain a NUL character, got {_show(self.path)}")
        elif self.path is not None:
            raise ConfigError(f"{p}.path is only used by vendor 'csv', got vendor {_show(self.vendor)}")
        if self.content_hash is not None and (
            not isinstance(self.content_hash, str) or not _HEX.match(self.content_hash)
        ):
            raise ConfigError(f"{p}.content_hash must be a lower-case hex digest, got {_show(self.content_hash)}")


@dataclass(frozen=True)
class IndicatorConfig:
    """One indicator of the run: registry name, parameters, blend weight, on/off.

    Inside a :class:`RunConfig` the parameters are resolved against the registry (defaults
    filled in), so a run does not change when a default changes in a later version.
    ``auto_tune``: PhiAI tunes the parameters before the run (see :attr:`RunConfig.phiai`).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    weight: float = 1.0
    enabled: bool = True
    auto_tune: bool = False

    def __post_init__(self) -> None:
        self._check("indicator")

    def _check(self, path: str) -> None:
        _str(self.name, f"{path}.name")
        _set(self, "params", _mapping(self.params, f"{path}.params"))
        _set(self, "weight", _num(self.weight, f"{path}.weight"))
        if not isinstance(self.enabled, bool | np.bool_):
            raise ConfigError(f"{path}.enabled must be true or false, got {_show(self.enabled)}")
        _set(self, "enabled", bool(self.enabled))
        if not isinstance(self.auto_tune, bool | np.bool_):
            raise ConfigError(f"{path}.auto_tune must be true or false, got {_show(self.auto_tune)}")
        _set(self, "auto_tune", bool(self.auto_tune))


@dataclass(frozen=True)
class BlendConfig:
    """How the indicator signals are blended (see :mod:`phi.blending.blender`).

    ``params`` holds the mode's settings (``dead_zone`` for voting; ``train_bars``, ``step``,
    ``window``, ``metric`` for phiai), defaults filled in. Per-indicator weights live in
    :attr:`IndicatorConfig.weight` (one home); ``regime_weights`` (regime -> indicator ->
    weight) is only for ``regime_weighted``, as is ``regime``: the regime engine's settings
    that differ from the calibrated defaults (a partial :class:`phi.regime.MFTConfig` dict,
    e.g. ``{"probability": {"direction_scale": 2.0}}``; ``None`` = the defaults).
    """

    mode: str = "weighted_sum"
    params: dict[str, Any] = field(default_factory=dict)
    regime_weights: dict[str, dict[str, float]] | None = None
    regime: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        p = "blend"
        if not isinstance(self.mode, str) or self.mode not in BLEND_MODES:
            raise ConfigError(f"{p}.mode: " + unknown_choice("blend mode", self.mode, BLEND_MODES))
        allowed = BLEND_PARAM_DEFAULTS[self.mode]
        params = _mapping(self.params, f"{p}.params")
        for key in params:
            if key not in allowed:
                valid = ", ".join(allowed) or "none"
                raise ConfigError(
                    f"{p}.params: {_show(key)} is not a setting of mode {self.mode!r}."
                    f"{did_you_mean(key, allowed)} Valid settings: {valid}"
                )
        out = {**allowed, **params}
        if "dead_zone" in out:
            dz = _num(out["dead_zone"], f"{p}.params.dead_zone")
            if not 0.0 <= dz < 1.0:
                raise ConfigError(f"{p}.params.dead_zone must be in [0, 1), got {dz!r}")
            out["dead_zone"] = dz
        if self.mode == "phiai":
            out["train_bars"] = _int(out["train_bars"], f"{p}.params.train_bars", 2)
            out["step"] = _int(out["step"], f"{p}.params.step", 1)
            if out["window"] not in PHIAI_WINDOWS:
                raise ConfigError(f"{p}.params.window: " + unknown_choice("window", out["window"], PHIAI_WINDOWS))
            if out["metric"] not in PHIAI_METRICS:
                raise ConfigError(f"{p}.params.metric: " + unknown_choice("metric", out["metric"], PHIAI_METRICS))
        _set(self, "params", out)
        if self.regime_weights is not None:
            if self.mode != "regime_weighted":
                raise ConfigError(f"{p}.regime_weights is only used by mode 'regime_weighted', not {self.mode!r}")
            rw = _mapping(self.regime_weights, f"{p}.regime_weights")
            from phi.regime.names import REGIMES

            for r in rw:
                if r not in REGIMES:
                    raise ConfigError(
                        f"{p}.regime_weights: {r!r} is not a regime.{did_you_mean(str(r), REGIMES)} "
                        f"The regimes: {', '.join(REGIMES)}"
                    )
            _set(
                self,
                "regime_weights",
                {
                    r: {
                        name: _num(w, f"{p}.regime_weights.{r}.{name}")
                        for name, w in _mapping(ws, f"{p}.regime_weights.{r}").items()
                    }
                    for r, ws in rw.items()
                },
            )
        if self.regime is not None:
            if self.mode != "regime_weighted":
                raise ConfigError(f"{p}.regime (regime engine settings) is only used by mode 'regime_weighted', not {self.mode!r}")
            from phi.regime.config import MFTConfig, overrides

            data = _mapping(self.regime, f"{p}.regime")
            try:
                cfg = MFTConfig.from_dict(data)
            except ConfigError as exc:
                msg = str(exc)
                msg = f"{p}.regime{msg[6:]}" if msg.startswith("config") else f"{p}.regime.{msg}"
                raise ConfigError(msg) from None
            _set(self, "regime", overrides(cfg) or None)

    def regime_config(self) -> MFTConfig:
        """The :class:`phi.regime.MFTConfig` for ``regime_weighted`` (defaults + :attr:`regime`)."""
        from phi.regime.config import MFTConfig

        return MFTConfig.from_dict(self.regime or {})


# ---------------------------------------------------------------------------- RunConfig


def _indicator(value: Any, path: str) -> IndicatorConfig:
    if isinstance(value, IndicatorConfig):
        ind = value
    elif isinstance(value, str):
        ind = IndicatorConfig(value)
    elif isinstance(value, Mapping):
        data = _mapping(value, path)
        _check_keys(data, IndicatorConfig, path)
        if "name" not in data:
            raise ConfigError(f"{path}.name is missing")
        ind = IndicatorConfig.__new__(IndicatorConfig)
        for f in dataclasses.fields(IndicatorConfig):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            _set(ind, f.name, data.get(f.name, default))
    else:
        raise ConfigError(f"{path} must be an indicator name or object, got {_show(value)}")
    ind._check(path)
    from phi.indicators.registry import resolve_params

    try:
        params = resolve_params(ind.name, ind.params)
    except PhiError as exc:
        sub = "name" if "unknown indicator" in str(exc) else "params"
        raise _rewrap(exc, f"{path}.{sub}") from None
    return dataclasses.replace(ind, params=params)


def _section(value: Any, cls: type, path: str) -> Any:
    if isinstance(value, cls):
        return value
    data = _mapping(value, path)
    _check_keys(data, cls, path)
    try:
        return cls(**data)
    except TypeError:  # a required field is missing
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in data
                   and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        raise ConfigError(f"{path}.{missing[0] if missing else '?'} is missing") from None


@dataclass(frozen=True)
class RunConfig:
    """Everything a backtest run depends on.

    Sections may be given as objects or as plain dicts (as parsed from JSON); indicators also
    as bare names. Construction validates every field and resolves indicator parameters.

    Parameters
    ----------
    dataset : DatasetSpec
    indicators : sequence of IndicatorConfig
        At least one enabled; each name at most once.
    blend : BlendConfig
    engine : EngineConfig
        The engine's own config (:class:`phi.backtest.engine.EngineConfig`).
    seed : int
        Random seed for any randomised stage (recorded even when no stage draws numbers).
    description, tags
        Free text for the run history.
    mode : {"equities", "options"}
        ``"options"`` trades :attr:`options`'s structure on the blended signal
        (:func:`phi.options.run_options_backtest`) instead of the underlying.
    options : OptionsConfig or None
        The options run's settings (a dict of :class:`phi.options.OptionsConfig` fields is
        accepted); only with ``mode="options"``, where ``None`` means the defaults.
    phi_version, schema_version
        The package that made the config and the config layout version.
    phiai : PhiAIConfig or None
        Tune before running (:class:`phi.phiai.config.PhiAIConfig`; a dict of its fields is
        accepted): the indicators with ``auto_tune``, or with ``full_auto`` the indicators
        themselves. Set to the defaults when an indicator has ``auto_tune`` and it is ``None``.
    """

    dataset: DatasetSpec
    indicators: tuple[IndicatorConfig, ...]
    blend: BlendConfig = field(default_factory=BlendConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    seed: int = 0
    description: str = ""
    tags: tuple[str, ...] = ()
    phi_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    mode: str = "equities"
    options: OptionsConfig | None = None
    phiai: PhiAIConfig | None = None

    def __post_init__(self) -> None:
        sv = _int(self.schema_version, "schema_version", 1)
        if sv > SCHEMA_VERSION:
            raise ConfigError(
                f"schema_version {sv} is newer than this phi understands ({SCHEMA_VERSION}); upgrade phi"
            )
        _set(self, "schema_version", sv)
        _set(self, "dataset", _section(self.dataset, DatasetSpec, "dataset"))
        if isinstance(self.indicators, str | Mapping) or not isinstance(self.indicators, Sequence):
            raise ConfigError(f"indicators must be a list, got {_show(self.indicators)}")
        inds = tuple(_indicator(v, f"indicators[{i}]") for i, v in enumerate(self.indicators))
        _set(self, "indicators", inds)
        _set(self, "blend", _section(self.blend, BlendConfig, "blend"))
        if not isinstance(self.engine, EngineConfig):
            data = _mapping(self.engine, "engine")
            _check_keys(data, EngineConfig, "engine")
            try:
                _set(self, "engine", EngineConfig.from_dict(data))
            except ConfigError as exc:
                raise _rewrap(exc, "engine") from None
        _set(self, "seed", _int(self.seed, "seed", 0, MAX_SEED))
        _str(self.description, "description", empty=True, max_chars=MAX_DESCRIPTION_CHARS)
        if isinstance(self.tags, str) or not isinstance(self.tags, Sequence):
            raise ConfigError(f"tags must be a list of strings, got {_show(self.tags)}")
        if len(self.tags) > MAX_TAGS:
            raise ConfigError(f"tags: {len(self.tags):,} tags given; at most {MAX_TAGS} are allowed")
        _set(self, "tags", tuple(_str(t, f"tags[{i}]", max_chars=MAX_TAG_CHARS) for i, t in enumerate(self.tags)))
        _str(self.phi_version, "phi_version")
        self._check_mode()
        self._check_phiai()
        self._check_indicators()

    def _check_mode(self) -> None:
        if not isinstance(self.mode, str) or self.mode not in MODES:
            raise ConfigError("mode: " + unknown_choice("mode", self.mode, MODES))
        if self.mode != "options":
            if self.options is not None:
                raise ConfigError(f"options is only used by mode 'options', not {self.mode!r}; set mode to 'options'")
            return
        from phi.options.config import OptionsConfig

        if self.options is None:
            _set(self, "options", OptionsConfig())
        elif not isinstance(self.options, OptionsConfig):
            data = _mapping(self.options, "options")
            _check_keys(data, OptionsConfig, "options")
            pairs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
            try:
                _set(self, "options", OptionsConfig(**pairs))
            except ConfigError as exc:
                msg = str(exc)
                raise ConfigError("options." + msg[len("OptionsConfig.") :] if msg.startswith("OptionsConfig.") else f"options: {msg}") from None

    def _check_phiai(self) -> None:
        tune = [i for i, ind in enumerate(self.indicators) if ind.auto_tune]
        if self.phiai is None and not tune:
            return
        from phi.phiai.config import PhiAIConfig

        _set(self, "phiai", PhiAIConfig.from_dict(self.phiai if self.phiai is not None else {}))
        assert self.phiai is not None
        if self.mode != "equities":
            raise ConfigError(f"phiai tunes equities runs only, not mode {self.mode!r}")
        if self.phiai.full_auto:
            if tune:
                raise ConfigError(
                    f"indicators[{tune[0]}].auto_tune: phiai.full_auto chooses the indicators itself; "
                    "drop auto_tune or full_auto"
                )
            if self.blend.mode != "weighted_sum":
                raise ConfigError(
                    "phiai.full_auto sets the indicators' weights (blend weighted_sum); "
                    f"set blend.mode to weighted_sum, not {self.blend.mode!r}"
                )
        elif not any(self.indicators[i].enabled for i in tune):
            raise ConfigError(
                "phiai: no enabled indicator has auto_tune: true; mark the ones to tune, "
                "or set phiai.full_auto"
            )

    def _check_indicators(self) -> None:
        seen: dict[str, int] = {}
        for i, ind in enumerate(self.indicators):
            if ind.name in seen:
                raise ConfigError(
                    f"indicators[{i}].name: {ind.name!r} is already indicators[{seen[ind.name]}] "
                    "(each indicator at most once)"
                )
            seen[ind.name] = i
        enabled = [(i, ind) for i, ind in enumerate(self.indicators) if ind.enabled]
        if not enabled and not (self.phiai is not None and self.phiai.full_auto):
            raise ConfigError("indicators: enable at least one indicator")
        if self.blend.mode == "phiai":
            for i, ind in enabled:
                if ind.weight != 1.0:
                    raise ConfigError(
                        f"indicators[{i}].weight: blend mode 'phiai' sets weights from past scores; "
                        f"leave it at 1.0 (got {ind.weight!r})"
                    )
        elif enabled and not any(ind.weight != 0.0 for _, ind in enabled):
            raise ConfigError("indicators: every enabled indicator has weight 0; give one a non-zero weight")
        names = [ind.name for _, ind in enabled]
        for r, ws in (self.blend.regime_weights or {}).items():
            for name in ws:
                if name not in names:
                    raise ConfigError(
                        f"blend.regime_weights.{r}: {name!r} is not an enabled indicator."
                        f"{did_you_mean(name, names)} Enabled: {', '.join(names)}"
                    )

    # ------------------------------------------------------------------ views

    @property
    def enabled_indicators(self) -> tuple[IndicatorConfig, ...]:
        """The indicators that take part in the run, in order."""
        return tuple(ind for ind in self.indicators if ind.enabled)

    @property
    def selection(self) -> dict[str, dict[str, Any]]:
        """``{name: params}`` of the enabled indicators (for ``compute_all_signals``)."""
        return {ind.name: dict(ind.params) for ind in self.enabled_indicators}

    @property
    def weights(self) -> dict[str, float]:
        """``{name: weight}`` of the enabled indicators."""
        return {ind.name: ind.weight for ind in self.enabled_indicators}

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, not tuples)."""
        return {
            "schema_version": self.schema_version,
            "phi_version": self.phi_version,
            "dataset": dataclasses.asdict(self.dataset),
            # auto_tune is written only when set, so configs without it keep their JSON and hash
            "indicators": [
                {k: v for k, v in dataclasses.asdict(ind).items() if k != "auto_tune" or v}
                for ind in self.indicators
            ],
            "blend": {
                "mode": self.blend.mode,
                "params": dict(self.blend.params),
                "regime_weights": self.blend.regime_weights,
                **({"regime": self.blend.regime} if self.blend.regime else {}),
            },
            "engine": self.engine.to_dict(),
            "seed": self.seed,
            "description": self.description,
            "tags": list(self.tags),
            # an equities run writes neither key, so its JSON and config hash are as before
            **({"mode": self.mode, "options": self.options.to_dict()} if self.options is not None else {}),
            **({"phiai": self.phiai.to_dict()} if self.phiai is not None else {}),
        }

    def to_json(self) -> str:
        """Indented, key-sorted JSON; ``RunConfig.from_json(c.to_json()) == c``."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """Build from a parsed-JSON dict; unknown or invalid fields raise :class:`ConfigError`."""
        data = _mapping(data, "config")
        _check_keys(data, cls, "")
        for required in ("dataset", "indicators"):
            if required not in data:
                raise ConfigError(f"{required} is missing from the config")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """Parse :meth:`to_json` output (or a hand-written config file)."""
        if not isinstance(text, str | bytes | bytearray):
            raise ConfigError(f"config must be JSON text, got {type(text).__name__}")
        from phi._io import unique_keys

        try:
            data = json.loads(text, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise ConfigError("config is not a run config: its JSON is nested too deeply") from None
        except ValueError as exc:  # e.g. an integer beyond Python's 4,300-digit limit
            raise ConfigError(f"config is not valid JSON: {str(exc).split(';')[0]}") from None
        return cls.from_dict(data)

    # ------------------------------------------------------------------ identity

    def hash_content(self) -> dict[str, Any]:
        """The part of the config that decides the result (no description, tags, versions or data hash)."""
        d = self.to_dict()
        for key in ("description", "tags", "phi_version"):
            d.pop(key)
        d["dataset"] = {k: v for k, v in d["dataset"].items() if k != "content_hash"}
        return d

    def config_hash(self) -> str:
        """SHA-256 (hex) of :meth:`hash_content` as canonical JSON: equal configs, equal hashes."""
        canon = json.dumps(self.hash_content(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canon.encode()).hexdigest()

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def with_content_hash(self, content_hash: str) -> RunConfig:
        """A copy recording the dataset's content hash."""
        return self.replace(dataset=dataclasses.replace(self.dataset, content_hash=content_hash))


# ---------------------------------------------------------------------------- diff

#: Marks a path present in one config and absent in the other in :func:`config_diff`.
ABSENT: Final = "<absent>"


def _flatten(obj: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(obj, Mapping):  # an empty mapping or list adds no path
        for k in sorted(obj, key=str):
            _flatten(obj[k], f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            _flatten(v, f"{prefix}[{i}]", out)
    else:
        out[prefix] = obj


def flatten_config(config: RunConfig | Mapping[str, Any]) -> dict[str, Any]:
    """``{"engine.stop_loss_pct": 0.05, "indicators[0].params.period": 14, ...}``."""
    out: dict[str, Any] = {}
    _flatten(config.to_dict() if isinstance(config, RunConfig) else config, "", out)
    return out


def config_diff(*configs: RunConfig | Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Paths where the configs differ: ``[(path, value_1, value_2, ...)]`` in path order.

    With two configs each row is ``(path, a, b)``. A path one config lacks shows :data:`ABSENT`.
    """
    for i, c in enumerate(configs, 1):
        if not isinstance(c, RunConfig | Mapping):
            raise ConfigError(f"config_diff: config {i} must be a RunConfig or a mapping, got {_show(c)}")
    flats = [flatten_config(c) for c in configs]
    paths = sorted(set().union(*flats)) if flats else []
    rows = []
    for path in paths:
        values = [f.get(path, ABSENT) for f in flats]
        if any(v != values[0] or type(v) is not type(values[0]) for v in values[1:]):
            rows.append((path, *values))
    return rows
