"""The README's Python examples run, and what they print is what the README says they print."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"```python\n(.*?)```(?:\s*\n(?:prints|gives)\s*\n+```text\n(.*?)```)?", re.S)


def _examples() -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("code, expected", _examples(), ids=lambda v: (v or "")[:40])
def test_readme_example(code, expected):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_example"})
    if expected is not None:
        assert out.getvalue().strip() == expected.strip()


# ---------------------------------------------------------------------------- command lines

_BASH = re.compile(r"```bash\n(.*?)```", re.S)


def _command_lines() -> list[str]:
    """Every ``phi …`` and ``python run_backtest.py …`` command of the README's bash blocks."""
    out = []
    for block in _BASH.findall(README.read_text(encoding="utf-8")):
        for line in block.splitlines():
            for part in line.split("#", 1)[0].split(";"):
                cmd = part.strip()
                if cmd.startswith(("phi ", "python run_backtest.py")):
                    out.append(cmd)
    return out


def test_readme_says_how_to_use_the_environment() -> None:
    text = README.read_text(encoding="utf-8")
    assert "source .venv/bin/activate" in text and ".venv/bin/phi" in text
    assert len(_command_lines()) >= 20


@pytest.mark.parametrize("line", _command_lines())
def test_readme_command_lines_name_real_commands_and_options(line: str) -> None:
    import shlex

    import typer.main

    import run_backtest
    from phi.cli import app

    words = shlex.split(line)
    if words[0] == "python":
        run_backtest.parse_args(words[2:])  # exits on an unknown flag
        return
    cmd = typer.main.get_command(app)
    rest = words[1:]
    while hasattr(cmd, "commands"):  # a group: the next word names a command
        assert rest and rest[0] in cmd.commands, f"{line}: no command {rest[:1]} (has {sorted(cmd.commands)})"
        cmd, rest = cmd.commands[rest[0]], rest[1:]
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    for word in rest:
        if word.startswith("-") and not word[1:2].isdigit():
            assert word.split("=", 1)[0] in known, f"{line}: {word} is not an option of this command"
