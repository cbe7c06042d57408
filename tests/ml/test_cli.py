"""phi ml / phi rl on the offline demo data: tables, stored models, one-line errors."""

from __future__ import annotations

import pytest
from rich.console import Console

import phi.cli as cli


@pytest.fixture
def out(monkeypatch):
    console = Console(record=True, width=120)
    import phi.cli.ml
    import phi.cli.rl

    monkeypatch.setattr(phi.cli.ml, "console", console)
    monkeypatch.setattr(phi.cli.rl, "console", console)
    return console


def test_ml_list_empty_then_train_evaluate_list(out, _isolated_phi_home):
    assert cli.main(["ml", "list"]) == 0
    assert "no models yet" in out.export_text()
    args = ["ml", "train", "DEMO", "--start", "2014-01-01", "--end", "2019-12-31", "--model", "lr",
            "--folds", "3", "--name", "demo_lr"]  # fmt: skip
    assert cli.main(args) == 0
    text = out.export_text()
    assert "purged walk-forward CV (3 folds" in text and "hold-out" in text and "stored as demo_lr" in text
    assert (_isolated_phi_home / "models" / "demo_lr" / "card.md").is_file()
    assert cli.main(["ml", "evaluate", "demo_lr", "--end", "2020-06-30"]) == 0
    text = out.export_text()
    assert "data fingerprint matches" in text and "new bars after the training data" in text
    assert "latest P(up)" in text
    assert cli.main(["ml", "list"]) == 0
    text = out.export_text()
    assert "demo_lr" in text and "hold-out acc" in text


def test_rl_train_and_evaluate(out):
    args = ["rl", "train", "DEMO", "--start", "2014-01-01", "--end", "2019-12-31", "--timesteps", "512", "--name", "p"]
    assert cli.main(args) == 0
    text = out.export_text()
    assert "test split from" in text and "random policy" in text and "stored as p" in text
    assert cli.main(["rl", "evaluate", "p"]) == 0
    assert "engine re-run from" in out.export_text()


@pytest.mark.parametrize(
    "argv,message",
    [
        (["ml", "evaluate", "nope"], "no model called 'nope'"),
        (["ml", "train", "DEMO", "--model", "xgb"], "unknown model 'xgb'"),
        (["ml", "train", "DEMO", "--name", "../x"], "model name"),
        (["rl", "evaluate", "nope"], "no model called 'nope'"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
