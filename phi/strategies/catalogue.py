"""The strategy catalogue: named presets, each a complete run configuration.

A :class:`Preset` describes one strategy (its rule, sides, defaults and where the rule comes
from) and builds the :class:`~phi.backtest.run_config.RunConfig` that runs it on a dataset
(:meth:`Preset.config`): indicators, blend, thresholds, exits and sizing, so the run opens in
the workbench, can be changed, tuned and re-run like any other. A multi-asset preset
(MomentumRotation) has a ``portfolio`` runner instead.

Names are matched case- and punctuation-insensitively: ``BuyAndHold``, ``buy_and_hold`` and
``buyandhold`` are one preset. Each family of presets lives in its own module and registers
itself with :func:`register`; the modules listed in :data:`FAMILIES` load on first use, and so
do the ``presets`` modules of other packages named in :data:`OPTIONAL_FAMILIES` when they exist
(``phi/ml/presets.py``, ``phi/rl/presets.py``, ``phi/plutus/presets.py``).

>>> get("buy_and_hold").name
'BuyAndHold'
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from phi.errors import ConfigError, did_you_mean, shown

if TYPE_CHECKING:
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig

__all__ = ["BASE_ENGINE", "FAMILIES", "OPTIONAL_FAMILIES", "Preset", "get", "list_presets", "normalise", "register"]

#: Modules that register presets when imported, loaded on the first lookup.
FAMILIES: list[str] = [
    "phi.strategies.classic",
    "phi.strategies.phibot",
    "phi.strategies.rotation",
    "phi.strategies.plutus_preset",
]
#: Preset modules of other packages, loaded on the first lookup when they exist (so a package
#: adds its presets from its own ``presets`` module without touching this one). They must be
#: cheap to import (heavy libraries inside the functions); an error inside one is raised.
OPTIONAL_FAMILIES: Final[tuple[str, ...]] = ("phi.ml.presets", "phi.rl.presets", "phi.plutus.presets")

#: Engine settings every single-asset preset starts from (the reference strategies): long
#: only, a position on a cross of 0 by the held rule signal, out on the opposite call, 95 %
#: of equity in whole units (the reference's ``floor(0.95 * portfolio / price)``).
BASE_ENGINE: Final[dict[str, Any]] = {
    "entry_threshold": 0.0,
    "exit_threshold": 0.0,
    "allow_short": False,
    "sizing": "percent_equity",
    "size_pct": 0.95,
    "fractional": False,
}

_PRESETS: dict[str, Preset] = {}
_LOADED: set[str] = set()


def normalise(name: str) -> str:
    """The lookup key of a preset name: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True, eq=False)
class Preset:
    """One named strategy.

    Parameters
    ----------
    name : str
        Display name, e.g. ``"BuyAndHold"``.
    family : str
        ``"classic"``, ``"regime"``, ``"portfolio"``, ... (one module per family).
    description, rule : str
        One line each: what it is, and the exact rule as this preset trades it.
    sides : str
        ``"long only"`` or ``"long / short"``.
    defaults : str
        The default parameters in words.
    source : str
        Where the rule comes from (the reference strategy, a paper, ...).
    indicators : tuple of IndicatorConfig
        The run's indicators (single-asset presets).
    engine : mapping
        Engine settings over :data:`BASE_ENGINE`.
    blend : str
        Blend mode of the indicators.
    aliases : tuple of str
        Other names the preset answers to.
    after_run : callable, optional
        ``after_run(result, frame)`` adds preset-specific entries to the result's ledger
        before it is saved (PhiBot's gate counts).
    portfolio : callable, optional
        Multi-asset presets: ``portfolio(dataset, initial_capital=, costs=) -> PortfolioRunConfig``
        (see :mod:`phi.strategies.rotation`), run by ``phi.run``; such a preset has no
        single-asset config.
    symbols : tuple of str
        A portfolio preset's default universe.
    needs_server : str
        What a run needs beyond the bars (e.g. ``"an LLM server"``); such a preset is left out
        of "every preset" lists (:func:`list_presets` without ``include_server``).
    """

    name: str
    family: str
    description: str
    rule: str
    sides: str
    defaults: str
    source: str
    indicators: tuple[IndicatorConfig, ...] = ()
    engine: Mapping[str, Any] = field(default_factory=dict)
    blend: str = "weighted_sum"
    aliases: tuple[str, ...] = ()
    after_run: Callable[..., None] | None = None
    portfolio: Callable[..., Any] | None = None
    symbols: tuple[str, ...] = ()
    needs_server: str = ""

    @property
    def key(self) -> str:
        """The normalised lookup key."""
        return normalise(self.name)

    @property
    def is_portfolio(self) -> bool:
        """True for a multi-asset preset (its :attr:`portfolio` config, not :meth:`config`)."""
        return self.portfolio is not None

    def engine_settings(self, **overrides: Any) -> dict[str, Any]:
        """:data:`BASE_ENGINE`, then this preset's settings, then ``overrides``."""
        return {**BASE_ENGINE, **self.engine, **{k: v for k, v in overrides.items() if v is not None}}

    def config(
        self,
        dataset: DatasetSpec,
        *,
        initial_capital: float | None = None,
        costs: str = "us_equities",
        **engine: Any,
    ) -> RunConfig:
        """The complete run config of this preset on ``dataset``.

        ``costs`` names a cost preset (:data:`phi.backtest.costs.COST_PRESETS`); ``engine``
        overrides any engine setting (``stop_loss_pct=0.05``, ``allow_short=True``, ...).
        """
        from phi.backtest.costs import cost_preset
        from phi.backtest.engine_config import EngineConfig
        from phi.backtest.run_config import BlendConfig, RunConfig

        if self.is_portfolio:
            raise ConfigError(
                f"{self.name} trades several symbols at once ({', '.join(self.symbols)}); it has no "
                "single-symbol run config. Run it with phi strategies run or phi.strategies.run_preset"
            )
        fields = {**cost_preset(costs).engine_fields(), **self.engine_settings(**engine)}
        if initial_capital is not None:
            fields["initial_capital"] = initial_capital
        try:
            eng = EngineConfig(**fields)
        except TypeError as exc:
            raise ConfigError(f"{self.name}: {exc}") from None
        return RunConfig(
            dataset=dataset,
            indicators=self.indicators,
            blend=BlendConfig(mode=self.blend),
            engine=eng,
            description=f"{self.name} preset: {self.rule}",
            tags=(f"preset:{self.key}",),
        )


def register(preset: Preset) -> Preset:
    """Add ``preset`` to the catalogue; a name or alias already taken is a :class:`ConfigError`."""
    if not isinstance(preset, Preset):
        raise ConfigError(f"register expects a Preset, got {type(preset).__name__}")
    for key in (preset.key, *(normalise(a) for a in preset.aliases)):
        if not key:
            raise ConfigError(f"preset name or alias {preset.name!r} has no letters or digits")
        other = _PRESETS.get(key)
        if other is not None and other is not preset:
            raise ConfigError(f"preset name {key!r} of {preset.name} is already taken by {other.name}")
    for key in (preset.key, *(normalise(a) for a in preset.aliases)):
        _PRESETS[key] = preset
    return preset


def _exists(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is absent
        return False


def _load() -> None:
    for module in (*FAMILIES, *OPTIONAL_FAMILIES):
        if module not in _LOADED:
            if module in FAMILIES or _exists(module):
                importlib.import_module(module)
            _LOADED.add(module)


def list_presets(include_server: bool = False) -> list[Preset]:
    """Every registered preset once, in registration order; those that need a server (Plutus)
    only with ``include_server``."""
    if not isinstance(include_server, bool):
        raise ConfigError(f"include_server must be True or False, got {shown(include_server)}")
    _load()
    seen: dict[int, Preset] = {}
    for preset in _PRESETS.values():
        if include_server or not preset.needs_server:
            seen.setdefault(id(preset), preset)
    return list(seen.values())


def get(name: str) -> Preset:
    """The preset called ``name`` (any case, ``_``/``-``/spaces ignored, aliases accepted).

    Raises :class:`ConfigError` for an unknown name, suggesting the closest one.
    """
    if not isinstance(name, str):
        raise ConfigError(f"a strategy name must be a string, got {shown(name)}")
    _load()
    preset = _PRESETS.get(normalise(name))
    if preset is None:
        names = [p.name for p in list_presets()]
        close = did_you_mean(normalise(name), [p.key for p in list_presets()])
        for p in list_presets():  # show the display name, not the key
            close = close.replace(repr(p.key), repr(p.name))
        raise ConfigError(f"unknown strategy {name!r}.{close or did_you_mean(str(name), names)} Valid strategies: {', '.join(names)}")
    return preset
