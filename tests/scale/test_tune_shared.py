"""Two processes tuning one Optuna study (phi tune --study) on SQLite and on PostgreSQL: every
trial recorded once, and the deflated Sharpe ratio of the last to finish counts all of them."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import optuna
import pytest

from phi.backtest.run_index import database_url
from phi.paths import phi_home
from tests.scale._helpers import one_line, phi

TRIALS = 6
PHI = [sys.executable, "-c", "import sys; from phi.cli import main; sys.exit(main())"]
ARGS = ["tune", "DEMO", "-i", "rsi", "--trials", str(TRIALS), "--folds", "2", "--start", "2021-01-01", "--end", "2023-12-31"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_processes_share_one_study(backend: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]) -> None:
    storage = "sqlite" if backend == "sqlite" else request.getfixturevalue("pg_url")
    env = {**os.environ, "PHI_HOME": str(phi_home()), "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    procs = [
        subprocess.Popen([*PHI, *ARGS, "--storage", storage, "--study", "shared", "--seed", str(seed)],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        for seed in (1, 2)  # one seed per process, or both would propose the same parameters
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    url = f"sqlite:///{phi_home() / 'phiai' / 'optuna.db'}" if backend == "sqlite" else database_url(storage)
    study = optuna.load_study(study_name="shared-rsi", storage=url)
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 2 * TRIALS and sorted(t.number for t in trials) == list(range(2 * TRIALS))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    counted = [int(re.search(r"trials counted \(selection included\)\D+(\d+)", out).group(1)) for out, _ in outs]  # type: ignore[union-attr]
    assert max(counted) == 2 * TRIALS and min(counted) >= TRIALS  # the last to finish saw every trial
    code, _, err = phi(capsys, *ARGS, "--storage", storage, "--resume", "nope")
    assert code == 2 and "no study 'nope'" in one_line(err) and "studies there: shared" in err
