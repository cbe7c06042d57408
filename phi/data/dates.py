"""The span of dates Phi-nance accepts anywhere in the data layer.

Market data starts in the 19th century; pandas' nanosecond stamps end in April 2262. Any date
outside ``EARLIEST .. LATEST`` (a request, a CSV stamp, a cache file name) is refused with a
one-line error instead of overflowing somewhere downstream.
"""

from __future__ import annotations

import pandas as pd

#: first and last calendar dates accepted (inclusive)
EARLIEST = pd.Timestamp("1800-01-01")
LATEST = pd.Timestamp("2200-12-31")
SPAN = f"{EARLIEST:%Y-%m-%d} .. {LATEST:%Y-%m-%d}"


def in_span(ts: pd.Timestamp) -> bool:
    """True if the (naive or tz-aware) stamp's wall-clock date lies in ``EARLIEST .. LATEST``."""
    naive = ts.tz_localize(None) if ts.tzinfo is not None else ts
    return bool(EARLIEST <= naive < LATEST + pd.Timedelta(days=1))
