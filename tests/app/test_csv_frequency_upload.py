"""The workbench's CSV upload goes through the same loader as the API and the CLI
(phi.data.vendors.csv_vendor.fetch_csv via phi.get_dataset): a sparse daily file loads as daily
bars, a file mixing daily and intraday bars is one error naming the uploaded file."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.app.conftest import errors, start

HEAD = "Date,Open,High,Low,Close,Volume\n"
# the weekdays of 2023 less the NYSE's ten full-day closures: its 250 sessions
SESSIONS = pd.bdate_range(
    "2023-01-01", "2023-12-31", freq="C",
    holidays=["2023-01-02", "2023-01-16", "2023-02-20", "2023-04-07", "2023-05-29",
              "2023-06-19", "2023-07-04", "2023-09-04", "2023-11-23", "2023-12-25"],
)  # fmt: skip


def _csv(stamps: list[str]) -> bytes:
    return (HEAD + "".join(f"{s},10,11,9,10.5,1000\n" for s in stamps)).encode()


def _upload(name: str, data: bytes) -> AppTest:
    at = start()
    at.selectbox(key="ds:vendor").set_value("csv").run()
    at.file_uploader(key="ds:upload").upload(name, data, "text/csv").run()
    at.button(key="ds:fetch").click().run()
    assert not at.exception
    return at


def test_an_uploaded_daily_file_with_a_bar_every_5th_session_loads_as_daily() -> None:
    at = _upload("thin.csv", _csv([f"{d:%Y-%m-%d}" for d in SESSIONS[::5]]))
    # was: "CSV file 'thin.csv' holds bars about 7 days apart (weekly or monthly?) ..."
    assert not errors(at)
    assert any(c.value.startswith("**Loaded:** THIN 1D (csv) · 50 bars · ") for c in at.caption)


def test_an_uploaded_file_mixing_daily_and_hourly_bars_is_one_error() -> None:
    daily = [f"{d:%Y-%m-%d}" for d in SESSIONS[:20]]
    hourly = [f"{d + pd.Timedelta(minutes=14 * 60 + 30 + 60 * k):%Y-%m-%d %H:%M}" for d in SESSIONS[20:30] for k in range(7)]
    at = _upload("mixed.csv", _csv(daily + hourly))
    assert errors(at) == [
        "CSV file 'mixed.csv' mixes 20 daily bars (date-only stamps, 2023-01-03 .. 2023-01-31) with 70 intraday "
        "bars (1 hour between stamps within a day); a file holds one timeframe: split it, or resample it to one. "
        "Still loaded: DEMO 1D 2020-01-01 .. 2024-12-31 (demo)."
    ]
