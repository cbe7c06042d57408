"""The span of dates Phi-nance accepts anywhere in the data layer.

Market data starts in the 19th century; pandas' nanosecond stamps end in April 2262. Any date
outside ``EARLIEST .. LATEST`` (a request, a CSV stamp, a cache file name) is refused with a
one-line error instead of overflowing somewhere downstream.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
import pandas as pd

from phi.errors import ConfigError

#: first and last calendar dates accepted (inclusive)
EARLIEST = pd.Timestamp("1800-01-01")
LATEST = pd.Timestamp("2200-12-31")
SPAN = f"{EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"


def is_date_like(value: Any) -> bool:
    """True for what may stand for a date: a string, a ``date``/``datetime``/``Timestamp`` or a
    ``numpy.datetime64``. A number is not one (pandas would read ``7`` as 7 ns after 1970)."""
    return isinstance(value, str | _dt.date | np.datetime64)


def in_span(ts: pd.Timestamp) -> bool:
    """True if the (naive or tz-aware) stamp's wall-clock date lies in ``EARLIEST .. LATEST``."""
    naive = ts.tz_localize(None) if ts.tzinfo is not None else ts
    return bool(EARLIEST <= naive < LATEST + pd.Timedelta(days=1))


#: a typed date with its year first and a day: 2024-01-31, 2024/1/31, 2024.01.31, 20240131,
#: optionally followed by a time (2024-01-31 09:30, 2024-01-31T14:30:00Z)
_YEAR_FIRST = re.compile(r"[+-]?\d{4,}([-/.])\d{1,2}\1\d{1,2}(?:[T ].*)?|\d{8}(?:T.*)?")


def check_year_first(value: Any, what: str) -> None:
    """Refuse a typed date that pandas would read by guessing: no day (``2021``, ``2021-06``
    would silently mean the 1st), or day and month in an order a reader cannot tell
    (``02/01/2021``, ``1.5.2021``, ``21-06-01``). Dates that are not strings pass."""
    if isinstance(value, str) and not _YEAR_FIRST.fullmatch(value.strip()):
        raise ConfigError(f"{what} {value.strip()[:40]!r} is not a full date with the year first; use YYYY-MM-DD (e.g. 2024-01-31)")
