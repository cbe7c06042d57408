"""``PortfolioRunConfig``: everything one multi-asset run depends on, as one JSON document.

The portfolio counterpart of :class:`~phi.backtest.run_config.RunConfig` (its JSON carries
``"mode": "portfolio"``, which is how the run history tells the two apart): the symbols and
the bars they come from, the weight rule (:class:`WeightRule`) and the portfolio engine's
settings (:class:`~phi.backtest.portfolio_config.PortfolioConfig`: rebalance schedule or drift
band, costs, whole units, short and leverage flags). :func:`phi.run` runs it and saves it in
the run history like any run. ``to_json``/``from_json`` round-trip exactly; every bad value is
one :class:`~phi.errors.ConfigError` line naming its field path, e.g.
``weights.lookback must be >= 2, got 1``.

>>> cfg = PortfolioRunConfig(("SPY", "AGG"), weights=WeightRule("inverse_vol", {"lookback": 60}))
>>> PortfolioRunConfig.from_json(cfg.to_json()) == cfg
True
>>> cfg.weights.params
{'lookback': 60}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from phi import __version__
from phi.backtest.portfolio_config import PortfolioConfig
from phi.backtest.run_config import (
    DEFAULT_END,
    DEFAULT_START,
    MAX_DESCRIPTION_CHARS,
    MAX_SEED,
    MAX_TAG_CHARS,
    MAX_TAGS,
    SCHEMA_VERSION,
    _check_keys,
    _day,
    _int,
    _mapping,
    _set,
    _show,
    _str,
)
from phi.errors import ConfigError, PhiError, did_you_mean, unknown_choice

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_SYMBOLS", "WEIGHT_RULES", "PortfolioRunConfig", "WeightRule"]

#: Each weight rule's parameters and their defaults (:mod:`phi.backtest.weights`).
WEIGHT_RULES: Final[dict[str, dict[str, int]]] = {
    "equal": {},
    "inverse_vol": {"lookback": 20},
    "top_n_momentum": {"lookback": 20, "n": 1},
    "rotation": {"lookback": 20, "every": 5, "top_n": 1},
}
#: Most symbols one portfolio run may hold.
MAX_SYMBOLS: Final = 1_000
_LIMIT: Final = 100_000  # largest lookback / every (bars)


@dataclass(frozen=True)
class WeightRule:
    """How the target weights are made from the closes (causal: bar t uses closes <= t).

    ``rule`` is one of :data:`WEIGHT_RULES`: ``equal`` (1/m on the symbols trading so far),
    ``inverse_vol`` (``lookback``: weights ∝ 1 / the std of the last returns),
    ``top_n_momentum`` (``lookback``, ``n``: 1/n on the n best momenta, every bar) or
    ``rotation`` (``lookback``, ``every``, ``top_n``: the MomentumRotation rule, re-ranked every
    ``every`` bars). ``params`` gets the rule's defaults filled in.
    """

    rule: str = "equal"
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = "weights"
        if self.rule not in WEIGHT_RULES:
            raise ConfigError(f"{p}.rule: " + unknown_choice("weight rule", self.rule, tuple(WEIGHT_RULES)))
        allowed = WEIGHT_RULES[self.rule]
        params = _mapping(self.params, f"{p}.params")
        for key in params:
            if key not in allowed:
                valid = ", ".join(allowed) or "none"
                raise ConfigError(
                    f"{p}.params: {_show(key)} is not a setting of rule {self.rule!r}."
                    f"{did_you_mean(key, list(allowed))} Valid settings: {valid}"
                )
        out = {**allowed, **params}
        for key in out:
            low = 2 if (key == "lookback" and self.rule == "inverse_vol") else 1
            out[key] = _int(out[key], f"{p}.{key}", low, _LIMIT if key in ("lookback", "every") else MAX_SYMBOLS)
        _set(self, "params", out)

    @property
    def min_symbols(self) -> int:
        """Symbols the rule needs at least (its ``n`` / ``top_n``)."""
        return int(self.params.get("n", self.params.get("top_n", 1)))

    def text(self) -> str:
        """The rule in one line, e.g. ``rotation(lookback=20, every=5, top_n=1)``."""
        return f"{self.rule}({', '.join(f'{k}={v}' for k, v in self.params.items())})"

    def weights(self, closes: pd.DataFrame) -> pd.DataFrame:
        """The target weights on ``closes`` (bars x symbols) by :mod:`phi.backtest.weights`."""
        from phi.backtest import weights as w

        k = self.params
        if self.rule == "equal":
            return w.equal_weight(closes)
        if self.rule == "inverse_vol":
            return w.inverse_vol_weights(closes, lookback=k["lookback"])
        if self.rule == "top_n_momentum":
            return w.top_n_momentum(closes, lookback=k["lookback"], n=k["n"])
        return w.momentum_rotation_weights(closes, lookback=k["lookback"], every=k["every"], top_n=k["top_n"])


def _symbols(value: Any, vendor: str) -> tuple[str, ...]:
    from phi.data.fetchers import validate_symbol

    if isinstance(value, str | Mapping) or not isinstance(value, Sequence):
        raise ConfigError(f"symbols must be a list of symbols, got {_show(value)}")
    if not value:
        raise ConfigError("symbols: give at least one symbol")
    if len(value) > MAX_SYMBOLS:
        raise ConfigError(f"symbols: {len(value):,} given; at most {MAX_SYMBOLS:,} are allowed")
    out: list[str] = []
    for i, sym in enumerate(value):
        try:
            s = validate_symbol(_str(sym, f"symbols[{i}]"))
        except PhiError as exc:
            msg = str(exc)
            raise ConfigError(msg if msg.startswith("symbols[") else f"symbols[{i}]: {msg}") from None
        if s in out:
            raise ConfigError(f"symbols[{i}]: {s!r} is listed twice (each symbol at most once)")
        out.append(s)
    return tuple(out)


def _portfolio(value: Any) -> PortfolioConfig:
    if isinstance(value, PortfolioConfig):
        return value
    data = _mapping(value, "portfolio")
    _check_keys(data, PortfolioConfig, "portfolio")
    try:
        return PortfolioConfig(**data)
    except PhiError as exc:
        msg = str(exc)
        raise ConfigError("portfolio." + msg[len("PortfolioConfig.") :] if msg.startswith("PortfolioConfig.") else f"portfolio: {msg}") from None


@dataclass(frozen=True)
class PortfolioRunConfig:
    """Everything a multi-asset run depends on.

    Parameters
    ----------
    symbols : sequence of str
        The universe, each symbol once, all from ``vendor``.
    vendor, timeframe, start, end
        Where and which bars (dates inclusive), as in :class:`~phi.backtest.run_config.DatasetSpec`.
    weights : WeightRule
        The target-weight rule (a dict ``{"rule": ..., "params": {...}}`` is accepted).
    portfolio : PortfolioConfig
        Schedule, costs, units, short/leverage flags and capital (a dict of its fields is accepted).
    content_hashes : dict or None
        Each symbol's data content hash, filled in by the pipeline; a re-run checks them.
    seed, description, tags, phi_version, schema_version
        As in ``RunConfig``.
    mode : "portfolio"
        Fixed: it marks the JSON as a portfolio run's.
    """

    symbols: tuple[str, ...]
    vendor: str = "demo"
    timeframe: str = "1D"
    start: str = DEFAULT_START
    end: str = DEFAULT_END
    weights: WeightRule = field(default_factory=WeightRule)
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)
    content_hashes: dict[str, str] | None = None
    seed: int = 0
    description: str = ""
    tags: tuple[str, ...] = ()
    phi_version: str = __version__
    schema_version: int = SCHEMA_VERSION
    mode: str = "portfolio"

    def __post_init__(self) -> None:
        from phi.data.fetchers import normalize_vendor
        from phi.data.timeframes import normalize_timeframe

        sv = _int(self.schema_version, "schema_version", 1)
        if sv > SCHEMA_VERSION:
            raise ConfigError(f"schema_version {sv} is newer than this phi understands ({SCHEMA_VERSION}); upgrade phi")
        _set(self, "schema_version", sv)
        if self.mode != "portfolio":
            raise ConfigError(f"mode must be 'portfolio' in a portfolio run config, got {_show(self.mode)}")
        for name, norm in (("vendor", normalize_vendor), ("timeframe", normalize_timeframe)):
            try:
                _set(self, name, norm(_str(getattr(self, name), name)))
            except PhiError as exc:
                msg = str(exc)
                raise ConfigError(msg if msg.startswith(name) else f"{name}: {msg}") from None
        if self.vendor == "csv":
            raise ConfigError("vendor: a portfolio reads several symbols from one vendor; 'csv' holds one file per run")
        _set(self, "symbols", _symbols(self.symbols, self.vendor))
        _set(self, "start", _day(self.start, "start"))
        _set(self, "end", _day(self.end, "end"))
        if self.start > self.end:
            raise ConfigError(f"start {self.start} is after end {self.end}; swap them")
        if not isinstance(self.weights, WeightRule):
            data = _mapping(self.weights, "weights")
            _check_keys(data, WeightRule, "weights")
            _set(self, "weights", WeightRule(**data))
        if self.weights.min_symbols > len(self.symbols):
            raise ConfigError(
                f"weights: rule {self.weights.rule!r} holds {self.weights.min_symbols} symbols but only "
                f"{len(self.symbols)} are given"
            )
        _set(self, "portfolio", _portfolio(self.portfolio))
        if self.content_hashes is not None:
            hashes = _mapping(self.content_hashes, "content_hashes")
            for sym, h in hashes.items():
                if sym not in self.symbols:
                    raise ConfigError(f"content_hashes: {sym!r} is not one of the symbols")
                _str(h, f"content_hashes.{sym}")
            _set(self, "content_hashes", hashes)
        _set(self, "seed", _int(self.seed, "seed", 0, MAX_SEED))
        _str(self.description, "description", empty=True, max_chars=MAX_DESCRIPTION_CHARS)
        if isinstance(self.tags, str) or not isinstance(self.tags, Sequence):
            raise ConfigError(f"tags must be a list of strings, got {_show(self.tags)}")
        if len(self.tags) > MAX_TAGS:
            raise ConfigError(f"tags: {len(self.tags):,} tags given; at most {MAX_TAGS} are allowed")
        _set(self, "tags", tuple(_str(t, f"tags[{i}]", max_chars=MAX_TAG_CHARS) for i, t in enumerate(self.tags)))
        _str(self.phi_version, "phi_version")

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, not tuples)."""
        return {
            "mode": self.mode,
            "schema_version": self.schema_version,
            "phi_version": self.phi_version,
            "symbols": list(self.symbols),
            "vendor": self.vendor,
            "timeframe": self.timeframe,
            "start": self.start,
            "end": self.end,
            "weights": {"rule": self.weights.rule, "params": dict(self.weights.params)},
            "portfolio": self.portfolio.to_dict(),
            "content_hashes": dict(self.content_hashes) if self.content_hashes is not None else None,
            "seed": self.seed,
            "description": self.description,
            "tags": list(self.tags),
        }

    def to_json(self) -> str:
        """Indented, key-sorted JSON; ``PortfolioRunConfig.from_json(c.to_json()) == c``."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PortfolioRunConfig:
        """Build from a parsed-JSON dict; unknown or invalid fields raise :class:`ConfigError`."""
        data = _mapping(data, "config")
        _check_keys(data, cls, "")
        if "symbols" not in data:
            raise ConfigError("symbols is missing from the config")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str | bytes) -> PortfolioRunConfig:
        """Parse :meth:`to_json` output (or a hand-written config file)."""
        from phi._io import unique_keys

        try:
            data = json.loads(text, object_pairs_hook=unique_keys)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except (RecursionError, ValueError, TypeError):
            raise ConfigError("config is not valid JSON text") from None
        return cls.from_dict(data)

    # ------------------------------------------------------------------ identity

    def hash_content(self) -> dict[str, Any]:
        """The part of the config that decides the result (no description, tags, versions or data hashes)."""
        d = self.to_dict()
        for key in ("description", "tags", "phi_version", "content_hashes"):
            d.pop(key)
        return d

    def config_hash(self) -> str:
        """SHA-256 (hex) of :meth:`hash_content` as canonical JSON."""
        canon = json.dumps(self.hash_content(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canon.encode()).hexdigest()

    @property
    def data_fingerprint(self) -> str | None:
        """One SHA-256 over the symbols' content hashes (``None`` before the run)."""
        if not self.content_hashes:
            return None
        canon = json.dumps(self.content_hashes, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode()).hexdigest()

    def replace(self, **changes: Any) -> PortfolioRunConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def label(self) -> str:
        """The universe in one short text, e.g. ``SPY+VEU+AGG+GLD`` (``SPY+VEU+... (12)``)."""
        s = self.symbols
        return "+".join(s) if len(s) <= 6 else "+".join(s[:4]) + f"+... ({len(s)})"
