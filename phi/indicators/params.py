"""Declared specs: :class:`ParamSpec` per parameter, :class:`IndicatorSpec` per indicator.

A spec is the only place an indicator's parameters are declared; the tuner's search space,
the workbench's widgets and ``phi indicators list`` are generated from it.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from phi.errors import ParameterError, did_you_mean, shown

if TYPE_CHECKING:
    import pandas as pd

INDICATOR_TYPES: tuple[str, ...] = ("A", "B", "C", "D", "MFT", "ML")
#: A: bounded oscillator, B: trend/momentum, C: volume-price structure, D: deviation from a
#: volume-weighted mean (mean reversion), MFT: the regime engine's composite, ML: a classifier
#: refitted walk-forward (phi.ml).
TYPE_MEANINGS: dict[str, str] = {
    "A": "oscillator",
    "B": "trend / momentum",
    "C": "volume-price",
    "D": "mean reversion",
    "MFT": "regime composite",
    "ML": "machine-learning classifier",
}

ALL_INPUTS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
#: Bars of the rolling root-mean-square that scales unbounded raw values (used by the signal
#: maps in :mod:`phi.indicators.signals` and stated in the specs' mappings and warm-ups).
NORM_WINDOW = 60


@dataclass(frozen=True)
class Deferred:
    """A function named by module and attribute, imported on its first call.

    Specs refer to their compute functions this way, so reading the registry (``phi
    indicators list``) imports neither pandas nor numba, let alone compiles a kernel.
    """

    module: str
    name: str

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter: type, default and inclusive range ``[low, high]``.

    ``step`` is the granularity for the tuner and the UI widgets; values between steps are
    accepted. ``kind`` is ``int`` or ``float``.
    """

    name: str
    kind: type
    default: int | float
    low: int | float
    high: int | float
    step: int | float
    description: str

    def __post_init__(self) -> None:
        if self.kind not in (int, float):
            raise TypeError(
                f"ParamSpec {self.name!r}: kind must be int or float, got {self.kind!r}"
            )
        if not (self.low <= self.default <= self.high):
            raise ValueError(
                f"ParamSpec {self.name!r}: low <= default <= high must hold, "
                f"got {self.low}, {self.default}, {self.high}"
            )
        if self.step <= 0:
            raise ValueError(f"ParamSpec {self.name!r}: step must be > 0, got {self.step}")

    def coerce(self, value: Any, indicator: str) -> int | float:
        """Check one value's type and range; return it as ``kind``.

        ``bool`` is never a number here. An ``int`` parameter accepts integers and floats with
        an integral value (``14.0`` -> ``14``, as JSON or a float search space may give);
        a ``float`` parameter accepts any real number. Raises :class:`ParameterError`.
        """
        if (
            isinstance(value, (int, float))
            and type(value) is self.kind
            and self.low <= value <= self.high
            and math.isfinite(value)
        ):
            return value  # the common case: already of its kind, finite and in range
        where = f"{indicator}: parameter {self.name!r}"
        shown = _show(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(
                f"{where} must be {self.kind.__name__}, got {type(value).__name__} {shown}"
            )
        if self.kind is int:
            if isinstance(value, numbers.Integral):
                out: int | float = int(value)
            elif math.isfinite(float(value)) and float(value).is_integer():
                out = int(float(value))
            else:
                raise ParameterError(f"{where} must be an integer, got {shown}")
        else:
            try:
                out = float(value)
            except OverflowError:  # an integer beyond float's range
                out = math.inf
            if not math.isfinite(out):
                raise ParameterError(f"{where} must be a finite number, got {shown}")
        if not (self.low <= out <= self.high):
            raise ParameterError(
                f"{where} = {shown} is out of range; valid range {self.low}..{self.high}"
            )
        return out

    def range_text(self) -> str:
        """``"2..50"`` (``"1.0..3.5 step 0.25"`` for floats)."""
        if self.kind is int and self.step == 1:
            return f"{self.low}..{self.high}"
        return f"{self.low}..{self.high} step {self.step}"


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator of the registry.

    ``compute(df, **params) -> pd.Series`` gives the signal in [-1, +1] aligned to ``df``'s
    index (NaN during the warm-up); ``raw(df, **params) -> pd.DataFrame`` the raw values;
    ``warmup(params) -> int`` the number of leading NaN bars of the signal. ``inputs`` are the
    OHLCV columns the indicator reads; ``constraint(params)`` returns a message when a
    combination of valid parameters is invalid (e.g. fast >= slow), else ``None``.
    """

    name: str
    type: str
    description: str
    signal_mapping: str
    params: tuple[ParamSpec, ...]
    compute: Callable[..., pd.Series]
    raw: Callable[..., pd.DataFrame]
    warmup: Callable[[Mapping[str, Any]], int]
    inputs: tuple[str, ...] = ALL_INPUTS
    constraint: Callable[[Mapping[str, Any]], str | None] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.type not in INDICATOR_TYPES:
            raise ValueError(
                f"IndicatorSpec {self.name!r}: type must be one of {', '.join(INDICATOR_TYPES)}, "
                f"got {self.type!r}"
            )
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"IndicatorSpec {self.name!r}: duplicate parameter names {names}")
        unknown = [c for c in self.inputs if c not in ALL_INPUTS]
        if unknown:
            raise ValueError(f"IndicatorSpec {self.name!r}: unknown input column(s) {unknown}")
        # parameter by name, for resolve (not a field: equality and hashing are unchanged)
        object.__setattr__(self, "_known", {p.name: p for p in self.params})

    @property
    def defaults(self) -> dict[str, int | float]:
        """Default value of every parameter."""
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> ParamSpec:
        """The :class:`ParamSpec` called ``name`` (:class:`ParameterError` if none)."""
        for p in self.params:
            if p.name == name:
                return p
        raise ParameterError(_unknown_param(self, name))

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, int | float]:
        """Merge ``params`` over the defaults and validate them (see :meth:`ParamSpec.coerce`)."""
        if params is None:
            params = {}
        if type(params) is not dict and not isinstance(params, Mapping):
            raise ParameterError(
                f"{self.name}: parameters must be a mapping of name -> value, "
                f"got {type(params).__name__}"
            )
        known: dict[str, ParamSpec] = self.__dict__["_known"]
        for key in params:
            if key not in known:
                raise ParameterError(_unknown_param(self, key))
        out = {
            name: spec.coerce(params[name], self.name) if name in params else spec.default
            for name, spec in known.items()
        }
        if self.constraint is not None:
            problem = self.constraint(out)
            if problem:
                raise ParameterError(f"{self.name}: {problem} (got {_fmt_params(out)})")
        return out


_show = shown


def _unknown_param(spec: IndicatorSpec, key: object) -> str:
    names = [p.name for p in spec.params]
    valid = ", ".join(names) if names else "none (it takes no parameters)"
    return (
        f"{spec.name}: unknown parameter {_show(key)}.{did_you_mean(str(key), names)} "
        f"Valid parameters: {valid}"
    )


def _fmt_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())
