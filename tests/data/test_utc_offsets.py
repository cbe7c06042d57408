"""utc_offsets: DST transitions of a zone, searched once per (zone, span) and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from phi.data import calendar as cal


def _ns(stamp: str) -> int:
    return int(pd.Timestamp(stamp, tz="UTC").value)


def test_transitions_match_pandas_and_repeat_identically() -> None:
    start, end = _ns("2015-01-02 14:30"), _ns("2024-12-31 21:00")
    at, off = cal.utc_offsets("America/New_York", start, end)
    # every transition: the local offset pandas gives just before and at it
    for j in range(1, len(at)):
        before = pd.Timestamp(int(at[j]) - 1, tz="UTC").tz_convert("America/New_York")
        after = pd.Timestamp(int(at[j]), tz="UTC").tz_convert("America/New_York")
        assert before.utcoffset() == pd.Timedelta(int(off[j - 1]))
        assert after.utcoffset() == pd.Timedelta(int(off[j]))
    assert len(at) == 1 + 2 * 10  # ten years, two changes a year
    at2, off2 = cal.utc_offsets("America/New_York", start + 60_000_000_000, end)  # same days
    np.testing.assert_array_equal(at2, at)
    np.testing.assert_array_equal(off2, off)
    at2[:] = 0  # a caller's copy: the next call is unaffected
    np.testing.assert_array_equal(cal.utc_offsets("America/New_York", start, end)[0], at)


def test_another_zone_or_span_is_searched_anew() -> None:
    start, end = _ns("2020-01-01"), _ns("2020-12-31")
    ny = cal.utc_offsets("America/New_York", start, end)
    london = cal.utc_offsets("Europe/London", start, end)
    assert ny[1][0] == -5 * 3_600_000_000_000 and london[1][0] == 0
    short = cal.utc_offsets("America/New_York", start, _ns("2020-02-01"))
    assert len(short[0]) == 1 and len(ny[0]) == 3
