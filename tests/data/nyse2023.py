"""Hand-built New York sessions of 2023 and CSV helpers for the mixed-timeframe file tests.

Sessions: 09:30-16:00 New York (13:00 on 3 July and on the day after Thanksgiving), the NYSE's
published 2023 holidays, DST from 12 March and to 5 November 2023.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import phi
from phi.errors import DataError

NY = "America/New_York"
RANGE = ("2023-01-01", "2023-12-31")
#: the NYSE's full-day closures of 2023 (its published holiday list)
HOLIDAYS_2023 = [
    "2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29",
    "2023-06-19", "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25",
]  # fmt: skip
#: the 13:00 early closes of 2023
HALF_DAYS_2023 = ["2023-07-03", "2023-11-24"]


def sessions(start: str, end: str) -> list[str]:
    """The NYSE's 2023 trading days from ``start`` to ``end`` (``YYYY-MM-DD``)."""
    return [f"{d:%Y-%m-%d}" for d in pd.bdate_range(start, end, freq="C", holidays=HOLIDAYS_2023)]


def bars(day: str, minutes: int, *, end_stamped: bool = False) -> list[pd.Timestamp]:
    """The New York bars of one session, stamped at their start (or end)."""
    close = "13:00" if day in HALF_DAYS_2023 else "16:00"
    starts = pd.date_range(
        f"{day} 09:30", f"{day} {close}", freq=f"{minutes}min", inclusive="left", tz=NY
    )
    return list(starts + pd.Timedelta(minutes=minutes) if end_stamped else starts)


def iso(stamps: Sequence[pd.Timestamp]) -> list[str]:
    return [t.isoformat() for t in stamps]


def naive_utc(stamps: Sequence[pd.Timestamp]) -> list[str]:
    return [f"{t.tz_convert('UTC'):%Y-%m-%d %H:%M}" for t in stamps]


def naive(stamps: Sequence[pd.Timestamp]) -> list[str]:
    return [f"{t:%Y-%m-%d %H:%M}" for t in stamps]


def refused(path: Path, timeframe: str, load: Callable[..., Any] = phi.get_dataset) -> str:
    """The one-line :class:`DataError` loading ``path`` through ``load`` (a user's entry point)."""
    with pytest.raises(DataError) as err:
        load("MINE", *RANGE, timeframe, "csv", path=str(path))
    assert "\n" not in str(err.value)
    return str(err.value)


def loads(path: Path, timeframe: str, expected: Sequence[pd.Timestamp]) -> None:
    """``path`` loads with exactly the ``expected`` stamps (naive ones taken as UTC)."""
    res = phi.get_dataset("MINE", *RANGE, timeframe, "csv", path=str(path))
    want = [t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC") for t in expected]
    assert list(res.frame.index) == want
