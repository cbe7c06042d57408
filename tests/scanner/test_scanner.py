"""The universe scanner: values equal the regime engine's on the same bars; failures reported
while the scan goes on; cached bars reused; L2 columns unavailable (NaN) without a source."""

from __future__ import annotations

import numpy as np
import pytest

from phi.cli import main
from phi.data.store import get_dataset
from phi.errors import ConfigError
from phi.regime.engine import RegimeEngine
from phi.scanner import L2_COLUMNS, read_universe, scan

START, END = "2023-01-01", "2024-06-30"
GOOD = ["SPY", "QQQ", "GLD"]


@pytest.fixture(scope="module")
def result():
    return scan([*GOOD[:2], "BAD/..", GOOD[2]], start=START, end=END)


def test_rows_match_the_engine_and_are_ranked(result) -> None:
    table = result.table()
    assert sorted(table["symbol"]) == sorted(GOOD)
    assert list(table["rank"]) == [1, 2, 3]
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    for _, row in table.iterrows():
        res = RegimeEngine().run(get_dataset(row["symbol"], START, END).frame)
        latest = res.latest()
        for key in ("score", "composite", "confidence", "c_field", "c_consensus", "c_liquidity"):
            assert row[key] == latest[key]
        assert row["dominant_regime"] == latest["dominant_regime"]
        assert row["dominant_prob"] == latest["regime_probs"][row["dominant_regime"]]
        best = res.species_probs.iloc[-1].idxmax()
        assert row["top_species"].startswith(f"{best} ") and row["top_species"].count(",") == 2
        assert row["synthetic"] and row["bars"] == len(res.mix)


def test_a_failing_symbol_is_reported_and_the_scan_goes_on(result) -> None:
    assert result.failures == [("BAD/..", "symbol 'BAD/..' contains '/'; only letters, digits and . - ^ = _ are allowed")]


def test_heatmap_rows_are_the_last_bar_probabilities(result) -> None:
    heat = result.heatmap()
    assert list(heat.index) == list(result.table()["symbol"])
    assert len(heat.columns) == 8
    np.testing.assert_allclose(heat.sum(axis=1), 1.0, atol=1e-12)


def test_l2_columns_are_unavailable_not_zero_without_a_source(result) -> None:
    table = result.table()
    assert table[list(L2_COLUMNS)].isna().all().all()
    assert "unavailable" in result.l2_status


def test_l2_features_join_when_a_source_has_them() -> None:
    feats = {"SPY": dict(zip(L2_COLUMNS, (0.6, 1.5, 0.2, 1.1, -0.01), strict=True))}
    table = scan(["SPY", "QQQ"], start=START, end=END, l2=feats.get).table().set_index("symbol")
    assert table.loc["SPY", list(L2_COLUMNS)].tolist() == [0.6, 1.5, 0.2, 1.1, -0.01]
    assert table.loc["QQQ", list(L2_COLUMNS)].isna().all()


def test_cached_bars_are_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    import phi.data.fetchers as fetchers

    calls = []
    real = fetchers.fetch_result
    monkeypatch.setattr(fetchers, "fetch_result", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    first = scan(GOOD[:2], start=START, end=END).table()
    second = scan(GOOD[:2], start="2023-06-01", end=END).table()  # a range inside the cached one
    assert sorted(calls) == sorted(GOOD[:2])
    assert not first["from_cache"].any() and second["from_cache"].all()


def test_too_few_bars_is_a_failure_with_its_reason() -> None:
    res = scan(["SPY", "QQQ"], start="2024-05-01", end="2024-06-30")
    assert res.rows == [] and [s for s, _ in res.failures] == ["SPY", "QQQ"]
    assert all("warm-up" in reason for _, reason in res.failures)


def test_ranking_choices() -> None:
    res = scan(GOOD, start=START, end=END, rank_by="abs_score").table()
    assert list(res["score"].abs()) == sorted(res["score"].abs(), reverse=True)
    with pytest.raises(ConfigError, match="unknown ranking 'best'"):
        scan(GOOD, rank_by="best")
    with pytest.raises(ConfigError, match="no symbols to scan"):
        scan([" ", ","])


def test_universe_file(tmp_path) -> None:
    f = tmp_path / "u.txt"
    f.write_text("# my list\nspy, qqq\nSPY  # again\n\nGLD\n")
    assert read_universe(f) == ["SPY", "QQQ", "GLD"]
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(ConfigError, match="lists no symbols"):
        read_universe(tmp_path / "empty.txt")


def test_cli_scan_universe(tmp_path, capsys) -> None:
    f = tmp_path / "u.txt"
    f.write_text("SPY\nBAD/..\nGLD\n")
    code = main(["scan", "--universe", str(f), "--start", START, "--end", END])
    out = capsys.readouterr().out
    assert code == 0
    assert "SPY" in out and "GLD" in out and "Regime probabilities on the last bar" in out
    assert "skipped BAD/..: symbol 'BAD/..' contains '/'" in out and "2 scanned, 1 failed." in out


def test_cli_scan_all_failing_is_exit_2(capsys) -> None:
    code = main(["scan", "A/B", "C/D"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().startswith("error: no symbol could be scanned: all 2 failed alike, e.g. A/B: symbol 'A/B' contains '/'")
