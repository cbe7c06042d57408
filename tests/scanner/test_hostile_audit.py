"""Adversarial audit of the scanner: data that is missing, too short, all NaN or constant is a
skipped symbol with its reason (or, for a flat series, a zero score), the ranking is stable (ties
by symbol, a missing value last), and a universe that is empty after filtering is one line."""

from __future__ import annotations

import math

import numpy as np
import pytest

import phi.data.store
import phi.scanner
from phi.errors import ConfigError, DataError
from phi.scanner import read_universe, scan
from tests.conftest import make_ohlcv

START, END = "2023-01-01", "2024-06-30"


class _DS:
    def __init__(self, frame) -> None:
        self.frame, self.metadata, self.from_cache, self.synthetic = frame, {}, False, True


def _fake_get_dataset(symbol: str, *args, **kwargs) -> _DS:
    bars = make_ohlcv(300)
    if symbol == "MISSING":
        raise DataError("no data for MISSING in this range")
    if symbol == "SHORT":
        return _DS(bars.iloc[:5])
    if symbol == "EMPTY":
        return _DS(bars.iloc[:0])
    if symbol == "ALLNAN":
        bars.loc[:, :] = np.nan
    elif symbol == "LASTNAN":
        bars.iloc[-1] = np.nan
    elif symbol == "FLAT":
        bars[["open", "high", "low", "close"]] = 100.0
    return _DS(bars)


def test_bad_data_is_skipped_with_its_reason_and_a_flat_series_scores_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phi.data.store, "get_dataset", _fake_get_dataset)
    res = scan(["MISSING", "SHORT", "EMPTY", "ALLNAN", "LASTNAN", "FLAT"], start=START, end=END)
    failures = dict(res.failures)
    assert list(failures) == ["MISSING", "SHORT", "EMPTY", "ALLNAN", "LASTNAN"]  # in universe order
    assert failures["MISSING"] == "no data for MISSING in this range"
    for sym, n in (("SHORT", 5), ("EMPTY", 0)):
        assert failures[sym].startswith("the regime engine needs more than ") and f"the frame has {n}." in failures[sym]
    for sym in ("ALLNAN", "LASTNAN"):
        assert failures[sym].startswith("ohlcv column 'close' has ") and "NaN value(s)" in failures[sym]
    table = res.table()
    assert list(table["symbol"]) == ["FLAT"]
    assert table.loc[0, "score"] == 0.0 and table.loc[0, "composite"] == 0.0  # no move: no call either way


def test_the_ranking_is_stable_ties_by_symbol_and_a_missing_score_last(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = {"B": 0.5, "A": 0.5, "C": math.nan, "D": -0.2, "E": 0.5}

    def fake_one(symbol: str, *args, **kwargs) -> dict:
        s = scores[symbol]
        return {"symbol": symbol, "score": s, "composite": s, "confidence": 0.5, "c_field": 0.5, "c_consensus": 0.5,
                "c_liquidity": 0.5, "dominant_regime": "RANGE", "dominant_prob": 1.0, "top_species": "",
                "regime_probs": {}, "last_bar": None, "bars": 300, "from_cache": False, "synthetic": True}  # fmt: skip

    monkeypatch.setattr(phi.scanner, "_scan_one", fake_one)
    for order in (["B", "A", "C", "D", "E"], ["E", "D", "C", "B", "A"]):
        res = scan(order, start=START, end=END)
        assert list(res.table()["symbol"]) == ["A", "B", "E", "D", "C"]  # by hand: 0.5 x3 by name, -0.2, NaN
        assert list(res.table()["rank"]) == [1, 2, 3, 4, 5]
    res = scan(["B", "A", "C", "D", "E"], start=START, end=END, rank_by="abs_score")
    assert list(res.table()["symbol"]) == ["A", "B", "E", "D", "C"]


@pytest.mark.parametrize("text", ["\n\n   \n", "# only a comment\n#SPY\n", ", ,  ,\n"])
def test_a_universe_empty_after_filtering_is_one_line(text: str, tmp_path) -> None:
    """Blank lines, comments only, separators only."""
    path = tmp_path / "u.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^universe file '.*u\.txt' lists no symbols; put one symbol per line$"):
        read_universe(path)


def test_a_universe_over_the_limit_and_one_where_every_symbol_fails_are_exit_2(tmp_path, capsys) -> None:
    from phi.cli import main

    big = tmp_path / "big.txt"
    big.write_text("\n".join(f"S{i}" for i in range(5000)), encoding="utf-8")
    assert main(["scan", "--universe", str(big)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: 5000 symbols is more than the scanner's limit of 1000; split the universe"
    bad = tmp_path / "bad.txt"
    bad.write_text("B@D\nX/Y\n", encoding="utf-8")
    assert main(["scan", "--universe", str(bad), "--start", START, "--end", END]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("error: no symbol could be scanned")
    assert "skipped B@D: symbol 'B@D' contains '@'" in out and "skipped X/Y: symbol 'X/Y' contains '/'" in out
