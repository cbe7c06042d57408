"""Hostile CLI inputs found by the sixth sweep (2026-12-02), beyond tests/test_bad_inputs.py and
tests/test_cli_hostile*.py.

Every refusal: exit code 2, exactly one ``error:`` line on stderr naming the problem (the flag
as the user typed it), no traceback, nothing written under ``PHI_HOME`` or the working directory.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli_hostile_more import _refused  # one copy of the shared checks

SHORT = ("--start", "2021-01-01", "--end", "2021-12-31")
CHAIN = "date,expiry,strike,kind,bid,ask,open_interest,underlying\n"

# ------------------------------------------------ a text file holding NUL bytes is not text


@pytest.mark.parametrize(
    ("args", "what"),
    [
        # was a 2,000-character error line of escaped bytes: each run of the file read as a symbol
        (("scan", *SHORT, "--universe", "{f}"), "universe file"),
        (
            ("batch", "sweep", "--symbols", "{f}", "-p", "rsi", "--scheduler", "inline", *SHORT),
            "symbols file",
        ),
        # was "config is not valid JSON: Expecting value at line 1 column 1"
        (("backtest", *SHORT, "--no-save", "--config", "{f}"), "--config file"),
    ],
)
def test_a_binary_file_named_as_text_is_one_short_line(
    args, what, capsys, cwd, tmp_path: Path
) -> None:
    binary = tmp_path / "symbols.txt"
    binary.write_bytes(b"SPY\n" + b"\x00\x01\x02\xc3\xbf" * 400)  # valid UTF-8, yet binary
    line = _refused(
        capsys, [a.replace("{f}", str(binary)) for a in args], what, "NUL byte at offset 4"
    )
    assert len(line) < 250, line
