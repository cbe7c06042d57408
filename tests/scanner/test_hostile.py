"""Hostile scanner inputs: one string is one list of symbols (never its letters), duplicates in
any case are scanned once, a non-string or a bad date is a ConfigError before any symbol is
fetched, and a quote source that fails or sends garbage leaves the L2 columns unavailable."""

from __future__ import annotations

import math

import pytest

from phi.errors import ConfigError
from phi.scanner import L2_COLUMNS, scan

START, END = "2023-01-01", "2024-06-30"


def test_one_string_is_a_list_of_symbols_and_duplicates_are_scanned_once() -> None:
    res = scan("spy, SPY qqq", start=START, end=END)
    assert sorted(res.table()["symbol"]) == ["QQQ", "SPY"] and res.failures == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"symbols": ["SPY", None]}, "symbols must be strings, got NoneType None"),
        ({"symbols": ["SPY", 7]}, "symbols must be strings, got int 7"),
        ({"symbols": ["SPY"], "end": "notadate"}, "end 'notadate' is not a date; use YYYY-MM-DD"),
        ({"symbols": ["SPY"], "start": "2021-13-45"}, "start '2021-13-45' is not a date; use YYYY-MM-DD"),
        ({"symbols": ["SPY"], "start": "2024-01-01", "end": "2023-01-01"}, "start 2024-01-01 is after end 2023-01-01; swap them"),
    ],
)
def test_bad_arguments_are_one_config_error(kwargs, message, monkeypatch) -> None:
    import phi.data.store

    monkeypatch.setattr(phi.data.store, "get_dataset", lambda *a, **k: pytest.fail("fetched on bad arguments"))
    with pytest.raises(ConfigError) as err:
        scan(**kwargs)
    assert str(err.value) == message


def test_a_failing_or_garbled_quote_source_leaves_l2_unavailable() -> None:
    def broken(symbol: str):
        if symbol == "SPY":
            raise RuntimeError("stream dropped")
        return {"book_imbalance": "n/a", "spread_bps": math.inf, "ofi": 0.25}

    res = scan(["SPY", "QQQ"], start=START, end=END, l2=broken)
    table = res.table().set_index("symbol")
    assert table.loc["SPY", list(L2_COLUMNS)].isna().all()
    assert table.loc["QQQ", "ofi"] == 0.25
    assert table.loc["QQQ", ["book_imbalance", "spread_bps", "depth_ratio", "depth_trend"]].isna().all()
