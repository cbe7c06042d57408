"""Typed errors. Every message names the bad value and says how to fix it."""

from __future__ import annotations

import difflib
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


def unknown_choice(kind: str, value: object, choices: Iterable[str]) -> str:
    """Format 'unknown <kind> 'x'. Did you mean ...? Valid choices: a, b, c'."""
    options = sorted(str(c) for c in choices)
    return (
        f"unknown {kind} {value!r}.{did_you_mean(str(value), options)} "
        f"Valid choices: {', '.join(options)}"
    )
