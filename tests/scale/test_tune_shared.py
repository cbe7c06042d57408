"""Two processes tuning one Optuna study (phi tune --study) on SQLite and on PostgreSQL: every
trial recorded once, and the deflated Sharpe ratio of the last to finish counts all of them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from phi.backtest.run_index import database_url
from phi.paths import phi_home
from tests.scale._helpers import one_line, phi

TRIALS = 6
ARGS = ["tune", "DEMO", "-i", "rsi", "--trials", str(TRIALS), "--folds", "2", "--start", "2021-01-01", "--end", "2023-12-31"]


def _tune(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``phi tune ARGS`` in a separate Python process (its output in ``log``). Not a fork of this
    one: a fork of a process that has started numba/Dask threads can hang or be killed."""
    code = "import sys; from phi.cli import main; sys.exit(main(sys.argv[1:]))"
    with open(log, "wb") as fh:
        return subprocess.Popen([sys.executable, "-c", code, *args], stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy())


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_share_one_study(backend: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    storage = "sqlite" if backend == "sqlite" else request.getfixturevalue("pg_url")
    logs = [tmp_path / f"tune{seed}.txt" for seed in (1, 2)]
    procs = [_tune([*ARGS, "--storage", storage, "--study", "shared", "--seed", str(seed)], log)
             for seed, log in zip((1, 2), logs, strict=True)]  # one seed per process, or both would propose the same parameters
    for p in procs:
        p.wait(timeout=300)
    outs = [(log.read_text(), "") for log in logs]
    assert [p.returncode for p in procs] == [0, 0], outs
    url = f"sqlite:///{phi_home() / 'phiai' / 'optuna.db'}" if backend == "sqlite" else database_url(storage)
    study = optuna.load_study(study_name="shared-rsi", storage=url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2 * TRIALS and sorted(t.number for t in trials) == list(range(2 * TRIALS))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    counted = [int(re.search(r"trials counted \(selection included\)\D+(\d+)", out).group(1)) for out, _ in outs]  # type: ignore[union-attr]
    assert max(counted) == 2 * TRIALS and min(counted) >= TRIALS  # the last to finish saw every trial
    code, _, err = phi(capsys, *ARGS, "--storage", storage, "--resume", "nope")
    assert code == 2 and "no study 'nope'" in one_line(err) and "studies there: shared" in err
