"""The run index: filters and sorts against the folder scan, reindex, failures, the CLI."""

from __future__ import annotations

import math
import operator
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import phi.backtest.run_history as rh
import phi.backtest.run_index as ri
from phi.backtest.run_filter import parse_filter, parse_sort
from phi.batch import run_batch
from phi.errors import ConfigError
from phi.paths import phi_home, runs_root
from tests.scale._helpers import config, one_line, phi


@pytest.fixture(params=["sqlite", "postgresql"])
def index_db(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The index in SQLite under PHI_HOME, or in a fresh PostgreSQL database."""
    if request.param == "postgresql":
        monkeypatch.setenv("PHI_DB_URL", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("PHI_DB_URL", raising=False)
    return str(request.param)


@pytest.fixture(scope="module")
def _six_run_folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six saved runs (two symbols x two RSI periods, one more RSI, one ROC), made once."""
    home = tmp_path_factory.mktemp("six_runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(home))
        mp.delenv("PHI_DB_URL", raising=False)
        cfgs = [config(p, s) for s in ("DEMO", "DEMO2") for p in (5, 14)] + [config(30, "DEMO3"), config(9, indicator="roc")]
        res = run_batch(cfgs, scheduler="inline")
    assert len(res.ok) == 6 and not res.failed
    return home / "runs"


@pytest.fixture
def six_runs(_six_run_folders: Path) -> list[dict[str, Any]]:
    """Those runs copied into this test's PHI_HOME and indexed; their folder-scan rows."""
    shutil.copytree(_six_run_folders, runs_root())
    ri.sync()
    return rh.list_runs()


def _dump() -> list[tuple[Any, ...]]:
    with ri._engine().connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(ri.RUNS)))


# ---------------------------------------------------------------------------- the filter language

@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sharp > 1", r"unknown field 'sharp' at character 1\. Did you mean 'sharpe'\?"),
        ("sharpe > 'high'", r"sharpe is compared with a number, got 'high' at character 10"),
        ("symbol = 5", r"symbol is compared with a quoted text"),
        ("sharpe > 1; drop table phi_runs", r"cannot read '; drop table' at character 11"),
        ("sharpe > 1 symbol = 'A'", r"unexpected 'symbol' at character 12"),
        ("(sharpe > 1", r"ends where '\)' was expected"),
        ("indicators = 'rsi'", r"indicators is a list; write indicators has 'name'"),
        ("synthetic > true", r"synthetic is true or false; use = or !="),
        ("", r"--where is empty"),
        ("(" * 60 + "sharpe > 1" + ")" * 60, r"nested more than 50 levels"),
        ("symbol = 'unterminated", r"cannot read"),
    ],
)
def test_a_bad_filter_is_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_filter(text)
    assert "\n" not in str(info.value)


def test_filter_values_and_sort_specs() -> None:
    node = parse_filter("max_drawdown >= -20% AND NOT (symbol != \"AAPL\" or trades < 3)")
    assert "Compare(field='max_drawdown', op='>=', value=-0.2)" in repr(node)
    assert "Compare(field='n_trades', op='<', value=3.0)" in repr(node)  # alias trades -> n_trades
    assert parse_sort("sharpe") == ("sharpe", True)
    assert parse_sort("max_drawdown:asc") == ("max_drawdown", False)
    for bad, msg in (("sharp", "unknown field"), ("sharpe:up", "asc or desc"), ("tags", "is a list")):
        with pytest.raises(ConfigError, match=msg):
            parse_sort(bad)


# ---------------------------------------------------------------------------- against the folder scan

PY_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _reference(rows: list[dict[str, Any]], field: str, op: str, value: Any) -> set[str]:
    """The filter applied in Python to the folder scan's rows (NaN/None never match, as in SQL)."""
    out = set()
    for r in rows:
        v = r.get(field)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if PY_OPS[op](v, value):
            out.add(r["run_id"])
    return out


@pytest.mark.parametrize(("field", "op", "value"), [("sharpe", ">", 0.0), ("total_return", "<=", 0.05),
                                                    ("n_trades", ">=", 10.0), ("symbol", "!=", "DEMO")])  # fmt: skip
def test_where_matches_the_folder_scan(index_db: str, six_runs: list[dict[str, Any]], field: str, op: str, value: Any) -> None:
    text = f"{field} {op} {value!r}" if isinstance(value, str) else f"{field} {op} {value}"
    got = {r["run_id"] for r in ri.query_runs(text).rows}
    assert got == _reference(six_runs, field, op, value)


def test_has_and_boolean_logic_and_sort(index_db: str, six_runs: list[dict[str, Any]]) -> None:
    rsi = {r["run_id"] for r in six_runs if "rsi" in r["indicators"]}
    assert {r["run_id"] for r in ri.query_runs("indicators has 'rsi'").rows} == rsi
    assert {r["run_id"] for r in ri.query_runs("not indicators has 'rsi'").rows} == {r["run_id"] for r in six_runs} - rsi
    both = {r["run_id"] for r in six_runs if r["symbol"] == "DEMO" and "rsi" in r["indicators"]}
    assert {r["run_id"] for r in ri.query_runs("symbol = 'DEMO' and indicators has 'rsi'").rows} == both
    either = {r["run_id"] for r in six_runs if r["symbol"] in ("DEMO2", "DEMO3")}
    assert {r["run_id"] for r in ri.query_runs("symbol = 'DEMO2' or symbol = 'DEMO3'").rows} == either
    by_sharpe = sorted((r for r in six_runs if r["sharpe"] == r["sharpe"]), key=lambda r: -r["sharpe"])
    got = ri.query_runs(sort="sharpe").rows
    assert [r["run_id"] for r in got[: len(by_sharpe)]] == [r["run_id"] for r in by_sharpe]
    assert [r["run_id"] for r in ri.query_runs().rows] == [r["run_id"] for r in six_runs]  # newest first
    page = ri.query_runs(sort="sharpe:asc", limit=2)
    assert page.total == 6 and [r["run_id"] for r in page.rows] == [r["run_id"] for r in by_sharpe[::-1][:2]]
    assert page.rows[0] == next(r for r in six_runs if r["run_id"] == page.rows[0]["run_id"])  # same rows as the scan


def test_reindex_after_losing_the_database_restores_the_same_index(index_db: str, six_runs: list[dict[str, Any]]) -> None:
    before = _dump()
    assert len(before) == 6
    if index_db == "sqlite":
        ri._ENGINES.clear()
        (phi_home() / "runs.db").unlink()
    else:
        with ri._engine().begin() as conn:
            ri.RUNS.drop(conn)
            ri.META.drop(conn)
        ri._ENGINES.clear()
    report = ri.reindex()
    assert report.indexed == 6 and report.skipped == []
    assert _dump() == before


def test_an_index_failure_never_loses_the_run_and_the_next_listing_catches_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from phi.pipeline import run

    def broken(run_id: str, results: Any) -> None:
        raise ConfigError("database is on fire")

    original = ri.index_run
    monkeypatch.setattr(ri, "index_run", broken)
    with pytest.warns(rh.RunIndexWarning, match=r"is saved but not indexed \(database is on fire\); phi runs reindex adds it"):
        res = run(config(10))
    assert res.run_id is not None and res.save_error is None
    monkeypatch.setattr(ri, "index_run", original)
    assert [r["run_id"] for r in ri.query_runs().rows] == [res.run_id]  # synced from the folders


def test_an_index_of_a_newer_phi_is_named_in_the_warning_not_reindex() -> None:
    """Was "... ; phi runs reindex adds it": this phi's reindex refuses a newer phi's index."""
    from phi.pipeline import run

    run(config(10))  # the index, made by this phi
    db = phi_home() / "runs.db"
    newer = ri.INDEX_SCHEMA_VERSION + 1
    with ri._engine().begin() as conn:  # as a newer phi leaves it
        conn.execute(ri.META.update().values(value=str(newer)))
    ri._ENGINES.clear()
    why = (
        f"(the run index at sqlite:///{db} cannot be used: it has the layout of a newer phi (index schema {newer}; "
        f"this phi knows {ri.INDEX_SCHEMA_VERSION}); upgrade phi, or point PHI_DB_URL at another database)"
    )
    with pytest.warns(rh.RunIndexWarning) as caught:
        res = run(config(12))
    assert res.run_id is not None and res.save_error is None
    assert [str(w.message) for w in caught] == [
        f"run {res.run_id} is saved but not indexed {why}; this phi cannot add it to a newer "
        "phi's index: upgrading phi (or phi runs reindex with the newer phi) adds it"
    ]
    results = [run(config(p), save=False) for p in (14, 16)]
    with pytest.warns(rh.RunIndexWarning) as caught:  # many runs saved at once (a batch's chunk)
        ids = rh.save_runs([(r.config, r, r.data, None) for r in results])
    assert all(isinstance(i, str) for i in ids)
    assert [str(w.message) for w in caught] == [
        f"2 run(s) are saved but not indexed {why}; this phi cannot add them to a newer "
        "phi's index: upgrading phi (or phi runs reindex with the newer phi) adds them"
    ]


def test_runs_saved_before_any_index_are_listed(six_runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    ri._ENGINES.clear()
    (phi_home() / "runs.db").unlink()
    code, out, err = phi(capsys, "runs", "list", "--limit", "50")
    assert code == 0 and err == ""
    assert all(r["run_id"] in out for r in six_runs)


def test_cli_where_sort_and_errors(six_runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = phi(capsys, "runs", "list", "--where", "symbol = 'DEMO2'", "--sort", "sharpe")
    assert code == 0, err
    want = [r["run_id"] for r in sorted(six_runs, key=lambda r: -r["sharpe"]) if r["symbol"] == "DEMO2"]
    assert [line.split()[1] for line in out.splitlines() if line.startswith("│ 2")] == want
    assert "matching symbol = 'DEMO2': 2, by sharpe" in out.replace("\n", " ")
    code, out, err = phi(capsys, "runs", "list", "--where", "symbol = 'NOPE'")
    assert code == 0 and "No saved run matches symbol = 'NOPE'" in out
    code, out, err = phi(capsys, "runs", "list", "--where", "sharp > 1")
    assert code == 2 and "Did you mean 'sharpe'?" in one_line(err)
    code, out, err = phi(capsys, "runs", "list", "--sort", "sharpe:up")
    assert code == 2 and "asc or desc" in one_line(err)
    code, out, err = phi(capsys, "runs", "reindex")
    assert code == 0 and "Indexed 6 run(s)" in out


def test_without_a_usable_index_list_falls_back_to_the_folder_scan(six_runs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    ri._ENGINES.clear()
    (phi_home() / "runs.db").unlink()
    (phi_home() / "runs.db").mkdir()  # a folder where the database file should be
    code, out, err = phi(capsys, "runs", "list")
    assert code == 0 and all(r["run_id"] in out for r in six_runs)
    assert "listing by scanning the run folders" in one_line(err)
    code, out, err = phi(capsys, "runs", "list", "--where", "sharpe > 0")
    assert code == 2 and "the run index at sqlite" in one_line(err)
