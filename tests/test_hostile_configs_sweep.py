"""Hostile run configs and run histories found by the run-config/run-history sweep
(2026-12-02), beyond tests/backtest/test_run_config.py, tests/backtest/test_run_history.py and
tests/scale/test_run_index.py.

A refusal is exit code 2 with exactly one ``error:`` line and nothing written; the API raises
a one-line :class:`phi.errors.PhiError`.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

import phi.backtest.run_index as ri
from phi.backtest.run_history import list_runs, load_run
from phi.blending.blender import blend
from phi.errors import RunError
from phi.paths import phi_home, runs_root
from tests.test_cli_hostile_more import _refused

RUN_ID = "20260101-120000-000-abcdef"

# ------------------------------------------------ a file where the runs folder must be


@pytest.fixture
def runs_is_a_file() -> str:
    home = phi_home()
    home.mkdir(parents=True, exist_ok=True)
    runs_root().write_text("not a folder\n")
    return str(runs_root())


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "list"],  # was exit 0: "No saved runs in /x/runs. Try: phi demo"
        ["runs", "list", "--where", "sharpe > 1"],  # was exit 0: "No saved runs ..."
        ["runs", "reindex"],  # was exit 0: "Indexed 0 run(s) ..."
        ["runs", "show", RUN_ID],  # was "no run '...' in /x/runs (no saved runs)"
        ["runs", "compare", RUN_ID, "20260101-120000-001-abcdef"],
    ],
)
def test_a_runs_folder_that_is_a_file_is_named_not_read_as_no_runs(args, runs_is_a_file, capsys, cwd) -> None:
    line = _refused(capsys, args)
    assert line == f"error: cannot read the run history {runs_is_a_file}: {runs_is_a_file} is a file, not a folder; point PHI_HOME at a folder"


def test_the_api_and_a_dangling_link_say_the_same(runs_is_a_file) -> None:
    with pytest.raises(RunError, match="is a file, not a folder") as info:
        list_runs()
    assert "\n" not in str(info.value)
    with pytest.raises(RunError, match="is a file, not a folder"):
        load_run(RUN_ID)
    runs_root().unlink()
    runs_root().symlink_to(phi_home() / "nowhere")
    with pytest.raises(RunError, match="is a symbolic link to .*nowhere, which does not exist"):
        list_runs()


def test_no_runs_folder_yet_is_still_no_saved_runs(capsys, cwd) -> None:
    from phi.cli import main

    assert list_runs() == []
    assert main(["runs", "list"]) == 0
    assert "No saved runs" in capsys.readouterr().out
    assert not runs_root().exists()


# ------------------------------------------------ blend weights too small to multiply


@pytest.mark.parametrize("weights", [{"a": 5e-324}, {"a": 1e-320, "b": 2e-320}, {"a": 3e-200, "b": 6e-200}])
def test_tiny_weights_blend_like_the_same_ratios(weights) -> None:
    # hand-worked: one indicator -> its own signal; a:b = 1:2 -> (a + 2b) / 3
    s = pd.DataFrame({"a": [0.3, -0.7, 0.123456789], "b": [0.6, 0.1, -0.3]})
    got = blend(s[list(weights)], "weighted_sum", weights).to_numpy()
    if len(weights) == 1:
        want = np.array([0.3, -0.7, 0.123456789])  # was [0, -0, 0]: 5e-324 * 0.3 rounds to 0
    else:
        want = np.array([(0.3 + 1.2) / 3, (-0.7 + 0.2) / 3, (0.123456789 - 0.6) / 3])
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


def test_a_run_with_a_subnormal_weight_equals_the_run_with_weight_one() -> None:
    import phi
    from phi.backtest.run_config import RunConfig

    def result(weight: float):  # noqa: ANN202
        ds = {"symbol": "DEMO", "start": "2021-01-01", "end": "2022-12-31"}
        return phi.run(RunConfig.from_dict({"dataset": ds, "indicators": [{"name": "rsi", "weight": weight}]}), save=False)

    one, tiny = result(1.0), result(5e-324)
    assert tiny.metrics["total_return"] == one.metrics["total_return"]  # was -2.9% against -6.6%
    pd.testing.assert_frame_equal(tiny.trades, one.trades)


# ------------------------------------------------ an index written by a newer phi


def test_an_index_of_a_newer_layout_is_left_alone_not_dropped(capsys, cwd) -> None:
    from phi.cli import main

    assert main(["backtest", "DEMO", "-i", "rsi", "--start", "2022-01-01", "--end", "2022-12-31"]) == 0
    capsys.readouterr()
    ri._ENGINES.clear()
    db = phi_home() / "runs.db"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE phi_index_meta SET value = ? WHERE key = 'schema_version'", (str(ri.INDEX_SCHEMA_VERSION + 1),))
    assert main(["runs", "reindex"]) == 2  # was 0: the newer layout dropped and rebuilt as ours
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the run index at ") and err.count("\n") == 0
    assert f"it has the layout of a newer phi (index schema {ri.INDEX_SCHEMA_VERSION + 1}" in err
    assert main(["runs", "list"]) == 0  # the folders are still listed
    out, err = capsys.readouterr()
    assert "20" in out and "listing by scanning the run folders" in err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT value FROM phi_index_meta").fetchall() == [(str(ri.INDEX_SCHEMA_VERSION + 1),)]
        assert con.execute("SELECT COUNT(*) FROM phi_runs").fetchone() == (1,)
