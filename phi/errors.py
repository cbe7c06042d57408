"""Typed errors. Every message names the bad value and says how to fix it."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable


class PhiError(Exception):
    """Base class of every error Phi-nance raises on purpose."""


class DataError(PhiError):
    """Bad market data: empty, malformed, or inconsistent bars."""


class SymbolError(DataError):
    """A symbol that is malformed, unsafe as a path, or unknown to the vendor."""


class VendorError(DataError):
    """A data vendor failed or refused a request."""


class RateLimitError(VendorError):
    """A data vendor refused a request because of its rate limit or plan."""


class MissingAPIKeyError(VendorError):
    """A vendor needs an API key that is not set in the environment."""


class CacheError(DataError):
    """The dataset cache could not be read or written."""


class ConfigError(PhiError):
    """A configuration value is unknown, of the wrong type, or out of range."""


class VendorLimitError(VendorError, ConfigError):
    """A request outside what a vendor can serve (e.g. yfinance's intraday history windows)."""


class IndicatorError(PhiError):
    """An indicator could not be computed."""


class UnknownIndicatorError(IndicatorError, ConfigError):
    """An indicator name not in the registry."""


class ParameterError(IndicatorError, ConfigError):
    """An unknown, mistyped or out-of-range indicator parameter."""


class EngineError(PhiError):
    """The backtest engine was given inputs it cannot simulate."""


class OHLCVError(DataError, EngineError):
    """A frame of bars that breaks the OHLCV conventions (:func:`phi.data.schema.conform_ohlcv`):
    the same error, and message, from every entry point that takes bars."""


class RunError(PhiError):
    """A saved run that does not exist, is incomplete, or cannot be read."""


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean 'x'?' for the closest choice, or '' if none is close (letter case
    ignored: 'RSI' suggests 'rsi')."""
    by_lower: dict[str, str] = {}
    for c in choices:
        by_lower.setdefault(str(c).lower(), str(c))
    close = difflib.get_close_matches(str(value).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 3


def shown(value: object) -> str:
    """A short one-line repr of a bad value for a message: long strings and containers cut,
    an array, Series or DataFrame described by its type and shape, a huge integer (too long
    for ``repr``) by its number of digits."""
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == () and hasattr(value, "item"):
        plain = value.item()  # a numpy scalar: shown as the number typed (nan, not np.float32(nan))
        if isinstance(plain, bool | int | float | complex | str):
            value = plain
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape and not isinstance(value, str | bytes):
        kind = "numpy array" if type(value).__name__ == "ndarray" else type(value).__name__
        return f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind} of shape {shape}"
    text = _REPR.repr(value)
    return " ".join(text.split()) if "\n" in text else text


def unknown_choice(kind: str, value: object, choices: Iterable[str]) -> str:
    """Format 'unknown <kind> 'x'. Did you mean ...? Valid choices: a, b, c'."""
    options = sorted(str(c) for c in choices)
    hint = did_you_mean(value, options) if isinstance(value, str) else ""
    return f"unknown {kind} {shown(value)}.{hint} Valid choices: {', '.join(options)}"
