"""The six bar timeframes Phi-nance understands."""

from __future__ import annotations

from phi.errors import ConfigError, shown, unknown_choice

#: timeframe -> bar length in minutes
TIMEFRAME_MINUTES: dict[str, int] = {"1D": 1440, "4H": 240, "1H": 60, "15m": 15, "5m": 5, "1m": 1}
TIMEFRAMES: tuple[str, ...] = tuple(TIMEFRAME_MINUTES)
_ALIASES = {"1d": "1D", "d": "1D", "daily": "1D", "4h": "4H", "1h": "1H", "60m": "1H", "h": "1H"}


def normalize_timeframe(timeframe: str) -> str:
    """Return the canonical spelling of ``timeframe`` or raise :class:`ConfigError`."""
    if not isinstance(timeframe, str):
        raise ConfigError(f"timeframe must be a string, got {shown(timeframe)}")
    tf = timeframe.strip()
    if tf in TIMEFRAME_MINUTES:
        return tf
    if tf.lower() in _ALIASES:
        return _ALIASES[tf.lower()]
    raise ConfigError(unknown_choice("timeframe", timeframe, TIMEFRAMES))


def is_intraday(timeframe: str) -> bool:
    """True for every timeframe shorter than a day."""
    return TIMEFRAME_MINUTES[normalize_timeframe(timeframe)] < 1440
