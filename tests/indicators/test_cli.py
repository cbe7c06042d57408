"""`phi indicators list` and `phi indicators show`."""

from __future__ import annotations

import pytest
from rich.console import Console

from phi import cli
from phi.indicators.registry import INDICATORS


@pytest.fixture
def out(monkeypatch):
    console = Console(width=250, record=True, force_terminal=False)
    monkeypatch.setattr(cli.indicators, "console", console)
    return console


def test_indicators_list_shows_every_indicator_with_params(out):
    assert cli.main(["indicators", "list"]) == 0
    text = out.export_text()
    for name, spec in INDICATORS.items():
        assert name in text and spec.description in text
        for p in spec.params:
            assert f"{p.name}={p.default} [{p.range_text()}]" in text
    assert "A (oscillator)" in text and "C (volume-price)" in text and "D (mean reversion)" in text
    assert "nbdev=2.0 [1.0..3.5 step 0.25]" in text


def test_indicators_show(out):
    assert cli.main(["indicators", "show", "bollinger"]) == 0
    text = out.export_text()
    assert "bollinger — type A" in text and "warm-up:  19 bars" in text
    assert "clip((middle - close) / (upper - middle), -1, 1)" in text
    assert "nbdev" in text and "3.5" in text and "0.25" in text


def test_indicators_show_unknown_name(capsys):
    assert cli.main(["indicators", "show", "rsii"]) == 2
    assert "Did you mean 'rsi'?" in capsys.readouterr().err
