"""The bad-input catalogue: hostile inputs across the CLI and the API.

For every case: exit code 2 in the CLI (a :class:`phi.errors.PhiError` in the API), exactly one
line on stderr that names the problem (never a traceback), and nothing on disk changed — the
whole ``PHI_HOME`` tree (a cache and two saved runs) and every target path are snapshotted
before and after. Most cases call :func:`phi.cli.main` in-process; a few run the real ``phi``
console script (a fresh interpreter is slow).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from phi.cli import main
from phi.errors import PhiError

ROOT = Path(__file__).resolve().parents[1]
PHI = str(Path(sys.executable).with_name("phi"))
SHORT = ["--start", "2021-01-01", "--end", "2021-12-31"]
OHLC = "date,open,high,low,close,volume\n"


# ---------------------------------------------------------------------------- inputs on disk


def _csv_rows(n: int = 20) -> str:
    return "".join(f"2021-01-{4 + i:02d},{10 + i},{11 + i},{9 + i},{10.5 + i},1000\n" for i in range(n))


#: name -> bytes (or a builder) of the input files every case may point at ({in}/name).
FILES: dict[str, Callable[[Path], None]] = {
    "latin1.json": lambda p: p.write_bytes('{"description": "caf\xe9"}'.encode("latin-1")),
    "utf16.json": lambda p: p.write_bytes('{"dataset": {"symbol": "DEMO"}}'.encode("utf-16")),
    "binary.json": lambda p: p.write_bytes(bytes(range(256)) * 4),
    "deep.json": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
    "deep_obj.json": lambda p: p.write_text('{"a":' * 50_000 + "1" + "}" * 50_000),
    "huge.json": lambda p: _sparse(p, 11 * 1024 * 1024),
    "digits.json": lambda p: p.write_text('{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "seed": 1' + "0" * 5000 + "}"),
    "bigfloat.json": lambda p: p.write_text(
        '{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "engine": {"initial_capital": 1' + "0" * 400 + "}}"
    ),
    "bigweight.json": lambda p: p.write_text(
        '{"dataset": {"symbol": "DEMO"}, "indicators": [{"name": "rsi", "weight": 1' + "0" * 400 + "}]}"
    ),
    "bigseed.json": lambda p: p.write_text('{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "seed": 1' + "0" * 30 + "}"),
    "wrongtype.json": lambda p: p.write_text('{"dataset": {"symbol": "DEMO"}, "indicators": "rsi"}'),
    "unknown.json": lambda p: p.write_text('{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "colour": "red"}'),
    "unknown_engine.json": lambda p: p.write_text(
        '{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "engine": {"stop_los_pct": 0.05}}'
    ),
    "list.json": lambda p: p.write_text("[1, 2, 3]"),
    "nan.json": lambda p: p.write_text('{"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "engine": {"initial_capital": NaN}}'),
    "badjson.json": lambda p: p.write_text("{nope"),
    "empty.json": lambda p: p.write_text(""),
    "longdesc.json": lambda p: p.write_text(json.dumps({"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "description": "x" * 100_000})),
    "manytags.json": lambda p: p.write_text(json.dumps({"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "tags": ["t"] * 1000})),
    "year0.json": lambda p: p.write_text(json.dumps({"dataset": {"symbol": "DEMO", "start": "0000-01-01"}, "indicators": ["rsi"]})),
    "schema99.json": lambda p: p.write_text(json.dumps({"dataset": {"symbol": "DEMO"}, "indicators": ["rsi"], "schema_version": 99})),
    "markup.json": lambda p: p.write_text(json.dumps({"dataset": {"symbol": "[/x]"}, "indicators": ["[/bold]"]})),
    "regime_latin1.json": lambda p: p.write_bytes('{"probability": {"direction_scale": "\xe9"}}'.encode("latin-1")),
    "regime_utf16.json": lambda p: p.write_bytes("{}".encode("utf-16")),
    "regime_deep.json": lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
    "regime_binary.toml": lambda p: p.write_bytes(bytes(range(256))),
    "regime_digits.json": lambda p: p.write_text('{"probability": {"direction_scale": 1' + "0" * 5000 + "}}"),
    "empty.csv": lambda p: p.write_text(""),
    "binary.csv": lambda p: p.write_bytes(bytes(range(256)) * 8),
    "header_only.csv": lambda p: p.write_text(OHLC),
    "epoch.csv": lambda p: p.write_text("timestamp,open,high,low,close,volume\n" + "".join(f"{1e20 + i * 1e9:.0f},10,11,9,10,100\n" for i in range(30))),
    "negative.csv": lambda p: p.write_text(OHLC + _csv_rows().replace(",10.5,", ",-10.5,", 1)),
    "no_close.csv": lambda p: p.write_text("date,open,high,low,volume\n2021-01-04,1,2,0.5,10\n"),
    "dir": lambda p: p.mkdir(),
    "fifo": lambda p: os.mkfifo(p),
    "dangling": lambda p: p.symlink_to(p.parent / "nowhere.json"),
    "notes.txt": lambda p: p.write_text("a file of the user's, never replaced\n"),
}


def _sparse(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        fh.truncate(size)


# ---------------------------------------------------------------------------- snapshots


def _snapshot(*roots: Path) -> dict[str, tuple[Any, ...]]:
    """Type, size, mtime and content hash of everything under ``roots`` (links not followed)."""
    out: dict[str, tuple[Any, ...]] = {}

    def record(p: Path) -> None:
        st = p.lstat()
        if stat.S_ISREG(st.st_mode) and st.st_size <= 4 * 1024 * 1024:
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            digest = os.readlink(p)
        else:
            digest = ""
        out[str(p)] = (stat.S_IFMT(st.st_mode), st.st_size if stat.S_ISREG(st.st_mode) else 0, st.st_mtime_ns, st.st_rdev, digest)

    for root in roots:
        if not os.path.lexists(root):
            out[str(root)] = ("absent",)
            continue
        record(root)
        if root.is_dir() and not root.is_symlink():
            for dirpath, dirnames, filenames in os.walk(root):
                for name in dirnames + filenames:
                    record(Path(dirpath) / name)
    return out


# ---------------------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Case:
    """One hostile CLI input. ``{in}`` is the folder of :data:`FILES`, ``{run}``/``{run2}`` saved runs."""

    args: tuple[str, ...]
    names: tuple[str, ...]  # the message must contain one of these (it names the problem)
    targets: tuple[str, ...] = ()  # extra paths that must be left exactly as they were
    env: dict[str, str] = field(default_factory=dict)
    owner: str = "cli"


def C(*args: str, names: str | tuple[str, ...], targets: tuple[str, ...] = (), owner: str = "cli", **env: str) -> Case:
    return Case(args, (names,) if isinstance(names, str) else names, targets, env, owner)


BT = ("backtest", *SHORT, "--no-save")
CASES: dict[str, Case] = {
    # -- run configs (--config)
    "config latin-1": C("backtest", "--config", "{in}/latin1.json", names="not UTF-8"),
    "config utf-16": C("backtest", "--config", "{in}/utf16.json", names="UTF-16"),
    "config binary": C("backtest", "--config", "{in}/binary.json", names="not UTF-8"),
    "config /dev/zero": C("backtest", "--config", "/dev/zero", names="not a regular file"),
    "config /dev/urandom": C("backtest", "--config", "/dev/urandom", names="not a regular file"),
    "config /dev/null": C("backtest", "--config", "/dev/null", names="not a regular file"),
    "config folder": C("backtest", "--config", "{in}/dir", names="folder"),
    "config fifo": C("backtest", "--config", "{in}/fifo", names="FIFO"),
    "config 11 MB": C("backtest", "--config", "{in}/huge.json", names="limit"),
    "config missing": C("backtest", "--config", "{in}/missing.json", names="No such file"),
    "config nested 100,000 deep": C("backtest", "--config", "{in}/deep.json", names="nested too deeply"),
    "config objects nested 50,000 deep": C("backtest", "--config", "{in}/deep_obj.json", names="nested too deeply"),
    "config 5,000-digit integer": C("backtest", "--config", "{in}/digits.json", names="4300 digits"),
    "config integer beyond float": C("backtest", "--config", "{in}/bigfloat.json", names="initial_capital", owner="engine"),
    "config weight beyond float": C("backtest", "--config", "{in}/bigweight.json", names="weight"),
    "config seed beyond 64 bits": C("backtest", "--config", "{in}/bigseed.json", names="seed"),
    "config wrong type": C("backtest", "--config", "{in}/wrongtype.json", names="indicators must be a list"),
    "config unknown field": C("backtest", "--config", "{in}/unknown.json", names="'colour'"),
    "config unknown engine field": C("backtest", "--config", "{in}/unknown_engine.json", names="'stop_los_pct'"),
    "config not an object": C("backtest", "--config", "{in}/list.json", names="must be an object"),
    "config NaN": C("backtest", "--config", "{in}/nan.json", names="initial_capital"),
    "config invalid JSON": C("backtest", "--config", "{in}/badjson.json", names="not valid JSON"),
    "config empty": C("backtest", "--config", "{in}/empty.json", names="not valid JSON"),
    "config description 100,000 chars": C("backtest", "--config", "{in}/longdesc.json", names="description"),
    "config 1,000 tags": C("backtest", "--config", "{in}/manytags.json", names="tags"),
    "config year 0": C("backtest", "--config", "{in}/year0.json", names="0000-01-01"),
    "config schema from the future": C("backtest", "--config", "{in}/schema99.json", names="schema_version"),
    "config markup values": C("backtest", "--config", "{in}/markup.json", names="[/x]", owner="data"),
    # -- regime engine configs
    "regime config latin-1": C("regime", "--config", "{in}/regime_latin1.json", names="not UTF-8"),
    "regime config utf-16 (--regime-config)": C(*BT, "--blend", "regime_weighted", "--regime-config", "{in}/regime_utf16.json", names="UTF-16"),
    "regime config nested 100,000 deep": C("regime", "--config", "{in}/regime_deep.json", names="nested too deeply"),
    "regime config binary TOML": C("regime", "--config", "{in}/regime_binary.toml", names="not UTF-8"),
    "regime config 5,000 digits": C("regime", "--config", "{in}/regime_digits.json", names="4300 digits"),
    "regime config /dev/zero": C("regime", "--config", "/dev/zero", names=("/dev/zero",)),
    # -- CSV files (vendor csv)
    "csv empty": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/empty.csv", names=("empty.csv", "empty"), owner="data"),
    "csv binary": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/binary.csv", names="binary.csv", owner="data"),
    "csv header only": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/header_only.csv", names=("no rows", "no data", "empty", "header"), owner="data"),
    "csv epoch 1e20": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/epoch.csv", names=("timestamp", "date", "epoch"), owner="data"),
    "csv negative price": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/negative.csv", "--start", "2021-01-01", "--end", "2021-01-31", names=("price <= 0", "non-positive"), owner="data"),
    "csv without close": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/no_close.csv", names="close", owner="data"),
    "csv path with markup": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/[/x].csv", names="[/x].csv", owner="data"),
    "csv path is a folder": C("fetch", "MINE", "--vendor", "csv", "--path", "{in}/dir", names="dir", owner="data"),
    # -- dates
    "date 0000-01-01": C("fetch", "DEMO", "--start", "0000-01-01", "--end", "2020-01-01", names="0000-01-01", owner="data"),
    "date 9999-99-99": C("fetch", "DEMO", "--start", "9999-99-99", names="9999-99-99", owner="data"),
    "date end before start": C("fetch", "DEMO", "--start", "2021-06-01", "--end", "2021-01-01", names=("2021-06-01", "after", "before"), owner="data"),
    "date 2020-02-30": C("fetch", "DEMO", "--start", "2020-02-30", "--end", "2020-06-01", names="2020-02-30", owner="data"),
    "date 2020-02-30 (backtest)": C("backtest", "--start", "2020-02-30", "--no-save", names="2020-02-30"),
    "date markup": C("fetch", "DEMO", "--start", "[/bold]", names="[/bold]", owner="data"),
    # -- symbols
    "symbol ../../etc": C("fetch", "../../etc", names="../../etc", owner="data"),
    "symbol empty": C("fetch", "", names=("symbol", "empty"), owner="data"),
    "symbol blank": C("fetch", " ", names=("symbol", "empty"), owner="data"),
    "symbol markup": C("fetch", "[/x]", names="[/x]", owner="data"),
    "symbol 300 chars": C("fetch", "A" * 300, names=("long", "characters", "AAAA"), owner="data"),
    "symbol NUL byte": C("fetch", "AB\x00C", names=("NUL", "\\x00"), owner="data"),
    "symbol not UTF-8": C("fetch", "AB\udcffC", names=("\\udcff", "AB"), owner="data"),
    "symbol markup (backtest)": C(*BT, "[/bold]", names="[/bold]"),
    "symbol markup (regime)": C("regime", "[/x]", names="[/x]", owner="data"),
    "symbol markup (data health)": C("data", "health", "[/bold]", names="[/bold]", owner="data"),
    # -- run ids
    "run id ../x": C("runs", "show", "../x", names="../x", owner="storage"),
    "run id markup": C("runs", "show", "[/bold]", names="[/bold]", owner="storage"),
    "run id unknown": C("runs", "show", "20200101-000000-000-abcdef", names="20200101-000000-000-abcdef", owner="storage"),
    "run id markup (rerun)": C("runs", "rerun", "[/x]", names="[/x]", owner="storage"),
    "run id ../x (delete)": C("runs", "delete", "../x", "--yes", names="../x", owner="storage"),
    "run ids unknown (compare)": C("runs", "compare", "{run}", "20200101-000000-000-abcdef", names="20200101-000000-000-abcdef", owner="storage"),
    "run id empty": C("runs", "show", "", names=("run id", "''"), owner="storage"),
    # -- markup in every free-text value of a failing command
    "markup in --indicators": C(*BT, "-i", "[/x]", names="[/x]"),
    "markup in --params": C(*BT, "--params", "rsi.[/x]=3", names="[/x]"),
    "markup in --weights": C(*BT, "--weights", "[/x]=1", names="[/x]"),
    "markup in --blend": C(*BT, "--blend", "[/x]", names="[/x]"),
    "markup in --fill": C(*BT, "--fill", "[/bold]", names="[/bold]"),
    "markup in --sizing": C(*BT, "--sizing", "[/x]", names="[/x]"),
    "markup in --vendor": C(*BT, "--vendor", "[/x]", names="[/x]"),
    "markup in --timeframe": C(*BT, "--timeframe", "[/x]", names="[/x]"),
    "markup in --description with a bad flag": C(*BT, "--description", "[/bold]", "--sl", "500%", names="stop_loss_pct"),
    "markup in --sl": C(*BT, "--sl", "[/x]", names="[/x]"),
    # -- files we write (never replace what is not a file)
    "--write-config into a missing folder": C(*BT, "--write-config", "{in}/no/such/dir/run.json", names="does not exist", targets=("{in}/no",)),
    "--write-config /dev/null": C(*BT, "--write-config", "/dev/null", names="character device", targets=("/dev/null",)),
    "--write-config a folder": C(*BT, "--write-config", "{in}/dir", names="folder", targets=("{in}/dir",)),
    "--write-config a FIFO": C(*BT, "--write-config", "{in}/fifo", names="FIFO", targets=("{in}/fifo",)),
    "--write-config a dangling symlink": C(*BT, "--write-config", "{in}/dangling", names="does not exist", targets=("{in}/dangling",)),
    "--write-config with a bad flag": C(*BT, "--sl", "-5%", "--write-config", "{in}/notes.txt", names="stop_loss_pct", targets=("{in}/notes.txt",)),
    "--equity-csv /dev/null": C("runs", "compare", "{run}", "{run2}", "--equity-csv", "/dev/null", names="character device", targets=("/dev/null",)),
    "--equity-csv a folder": C("runs", "compare", "{run}", "{run2}", "--equity-csv", "{in}/dir", names="folder", targets=("{in}/dir",)),
    "--equity-csv into a missing folder": C("runs", "compare", "{run}", "{run2}", "--equity-csv", "{in}/nope/eq.csv", names="does not exist"),
    # -- flags
    "--time-exit 1e20": C(*BT, "--time-exit", "1e20", names="--time-exit"),
    "--time-exit 99999999999999999999": C(*BT, "--time-exit", "99999999999999999999", names="time_exit", owner="engine"),
    "--capital 1e400": C(*BT, "--capital", "1e400", names="initial_capital"),
    "--capital 0": C(*BT, "--capital", "0", names="initial_capital"),
    "--capital abc": C(*BT, "--capital", "abc", names="--capital"),
    "--sl -5%": C(*BT, "--sl", "-5%", names="stop_loss_pct"),
    "--sl 500%": C(*BT, "--sl", "500%", names="stop_loss_pct"),
    "--threshold nan": C(*BT, "--threshold", "nan", names="entry_threshold"),
    "--threshold 2": C(*BT, "--threshold", "2", names="entry_threshold"),
    "--commission inf": C(*BT, "--commission", "inf", names="commission_pct"),
    "--slippage -1": C(*BT, "--slippage", "-1", names="slippage"),
    "--size 0%": C(*BT, "--size", "0%", names="size_pct"),
    "--dead-zone 1.5": C(*BT, "--blend", "voting", "--dead-zone", "1.5", names="dead_zone"),
    "--seed -1": C(*BT, "--seed", "-1", names="seed"),
    "--params rsi.period=10^5000": C(*BT, "--params", "rsi.period=1" + "0" * 5000, names="period"),
    "--params rsi.period=1e400": C(*BT, "--params", "rsi.period=1e400", names="period"),
    "--tag 1,000 chars": C(*BT, "--tag", "t" * 1000, names="tags[0]"),
    "--description 100,000 chars": C(*BT, "--description", "d" * 100_000, names="description"),
    "--last -5 (regime)": C("regime", "--last", "-5", names="--last"),
    "--limit -1 (runs list)": C("runs", "list", "--limit", "-1", names="--limit"),
    "--limit 10^5000 (runs list)": C("runs", "list", "--limit", "1" + "0" * 5000, names="--limit"),
    "unknown option": C("backtest", "--nonsense", names="--nonsense"),
    "extra argument": C("backtest", "A", "B", names="B"),
    "unknown command": C("frobnicate", names="frobnicate"),
    # -- environment
    "PHI_HOME is a file (fetch)": C("fetch", "DEMO", *SHORT, names=("PHI_HOME", "phi_home_file"), owner="data", PHI_HOME="{in}/notes.txt"),
    "PHI_HOME is a file (backtest)": C("backtest", *SHORT, names=("PHI_HOME", "phi_home_file", "notes.txt"), owner="storage", PHI_HOME="{in}/notes.txt"),
}

#: Cases whose fix belongs to another engineer and was not in yet (reason names the owner).
PENDING: dict[str, str] = {}


def _fill(text: str, inp: Path, runs: tuple[str, str]) -> str:
    return text.replace("{in}", str(inp)).replace("{run2}", runs[1]).replace("{run}", runs[0])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    """A PHI_HOME with a cached dataset and two saved runs (copied for every case)."""
    from phi.backtest.run_history import list_runs

    home = tmp_path_factory.mktemp("template_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(home))
        for sl in ("4%", "8%"):
            assert main(["backtest", *SHORT, "--sl", sl]) == 0
        runs = [r["run_id"] for r in list_runs()]
    assert len(runs) == 2
    return home, (runs[0], runs[1])


@pytest.fixture
def world(tmp_path: Path, template: tuple[Path, tuple[str, str]], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, tuple[str, str]]:
    """(PHI_HOME copy, input folder with every FILES entry, the two run ids)."""
    home = tmp_path / "home"
    shutil.copytree(template[0], home, symlinks=True)
    monkeypatch.setenv("PHI_HOME", str(home))
    inp = tmp_path / "in"
    inp.mkdir()
    for name, make in FILES.items():
        make(inp / name)
    (tmp_path / "cwd").mkdir()  # the working directory: watched too (nothing may land in it)
    monkeypatch.chdir(tmp_path / "cwd")
    return home, inp, template[1]


def _one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def _params() -> list[Any]:
    out = []
    for name, case in CASES.items():
        marks = [pytest.mark.xfail(strict=True, reason=PENDING[name])] if name in PENDING else []
        out.append(pytest.param(case, id=name, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_cli_bad_input(case: Case, world: tuple[Path, Path, tuple[str, str]], capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    home, inp, runs = world
    args = [_fill(a, inp, runs) for a in case.args]
    for key, value in case.env.items():
        monkeypatch.setenv(key, _fill(value, inp, runs))
    watched = [home, inp, Path.cwd(), *(Path(_fill(t, inp, runs)) for t in case.targets)]
    before = _snapshot(*watched)
    code = main(args)
    out, err = capsys.readouterr()
    line = _one_line(err)
    assert code == 2, (code, line)
    assert any(n in line for n in case.names), f"{line!r} names none of {case.names}"
    assert _snapshot(*watched) == before, "something on disk changed"


def test_the_catalogue_is_large() -> None:
    assert len(CASES) + len(API_CASES) >= 60


# ---------------------------------------------------------------------------- API


def _api_cases() -> dict[str, tuple[Callable[[Path], Any], str]]:
    from phi._io import read_user_text, write_user_text
    from phi.backtest.engine import EngineConfig
    from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
    from phi.backtest.run_history import load_run
    from phi.data.store import get_dataset
    from phi.indicators.registry import resolve_params
    from phi.regime.config import load_config

    ds = DatasetSpec("DEMO")
    return {
        "EngineConfig(initial_capital=10**400)": (lambda p: EngineConfig(initial_capital=10**400), "initial_capital"),
        "EngineConfig(initial_capital=10**5000)": (lambda p: EngineConfig(initial_capital=10**5000), "initial_capital"),
        "EngineConfig(time_exit_bars=10**20)": (lambda p: EngineConfig(time_exit_bars=10**20), "time_exit_bars"),
        "RunConfig.from_json nested 100,000 deep": (lambda p: RunConfig.from_json("[" * 100_000 + "]" * 100_000), "nested"),
        "RunConfig.from_json 5,000 digits": (lambda p: RunConfig.from_json('{"seed": 1' + "0" * 5000 + "}"), "4300"),
        "RunConfig.from_json Latin-1 bytes": (lambda p: RunConfig.from_json('{"description": "caf\xe9"}'.encode("latin-1")), "JSON"),
        "RunConfig.from_json not text": (lambda p: RunConfig.from_json(12), "JSON text"),
        "RunConfig description 1,000,000 chars": (lambda p: RunConfig(ds, ["rsi"], description="x" * 10**6), "description"),
        "RunConfig 1,000 tags": (lambda p: RunConfig(ds, ["rsi"], tags=["t"] * 1000), "tags"),
        "RunConfig weight 10**400": (lambda p: RunConfig(ds, [IndicatorConfig("rsi", weight=10**400)]), "weight"),
        "RunConfig seed 10**5000": (lambda p: RunConfig(ds, ["rsi"], seed=10**5000), "seed"),
        "DatasetSpec CSV path with NUL": (lambda p: DatasetSpec("MINE", "csv", path="a\x00b.csv"), "NUL"),
        "resolve_params period 10**5000": (lambda p: resolve_params("rsi", {"period": 10**5000}), "period"),
        "get_dataset ../../etc": (lambda p: get_dataset("../../etc", "2021-01-01", "2021-12-31"), "../../etc"),
        "get_dataset 2020-02-30": (lambda p: get_dataset("DEMO", "2020-02-30", "2021-12-31"), "2020-02-30"),
        "load_run ../x": (lambda p: load_run("../x"), "../x"),
        "regime load_config /dev/zero.json": (lambda p: load_config(_devzero_link(p)), "not a regular file"),
        "read_user_text /dev/urandom": (lambda p: read_user_text("/dev/urandom", "config"), "not a regular file"),
        "write_user_text /dev/null": (lambda p: write_user_text("/dev/null", "x", "output"), "character device"),
        "write_user_text a symlink to a folder": (lambda p: write_user_text(_dirlink(p), "x", "output"), "folder"),
    }


def _devzero_link(p: Path) -> Path:
    link = p / "zero.json"
    link.symlink_to("/dev/zero")
    return link


def _dirlink(p: Path) -> Path:
    (p / "target_dir").mkdir()
    link = p / "to_dir"
    link.symlink_to(p / "target_dir")
    return link


API_CASES = list(_api_cases())
API_PENDING: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.xfail(strict=True, reason=API_PENDING[n])] if n in API_PENDING else []) for n in API_CASES],
)
def test_api_bad_input(name: str, tmp_path: Path, _isolated_phi_home: Path) -> None:
    call, named = _api_cases()[name]
    work = tmp_path / "work"
    work.mkdir()
    before = _snapshot(_isolated_phi_home)
    with pytest.raises(PhiError) as info:
        call(work)
    msg = str(info.value)
    assert "\n" not in msg and named in msg, msg
    assert len(msg) < 400, msg
    assert _snapshot(_isolated_phi_home) == before


# ---------------------------------------------------------------------------- values that are fine


def test_markup_in_free_text_is_stored_and_shown_as_typed(capsys: pytest.CaptureFixture[str]) -> None:
    from phi.backtest.run_history import list_runs

    assert main(["backtest", *SHORT, "--description", "[/bold] a [red]note[/red]", "--tag", "[/x]"]) == 0
    capsys.readouterr()
    (row,) = list_runs()
    assert main(["runs", "list"]) == 0 and main(["runs", "show", row["run_id"]]) == 0
    out, err = capsys.readouterr()
    assert err == "" and row["run_id"] in out


def test_regime_last_beyond_the_bars_lists_every_bar(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regime", "--start", "2024-01-01", "--end", "2024-06-30", "--last", "99999999999999999999999"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "last " in out and " bars" in out


def test_write_config_writes_through_a_symlink_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["backtest", "--write-config", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["dataset"]["symbol"] == "DEMO"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "phi_home", "real.json"]  # no temp file left


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file to another user")
def test_write_config_keeps_the_owner_of_a_file_it_replaces(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "theirs.json"
    target.write_text("old")
    os.chown(target, 1234, 1234)
    assert main(["backtest", "--write-config", str(target)]) == 0
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (1234, 1234) and target.read_text().startswith("{")


def test_semicolon_csv_with_decimal_commas_is_read_right_or_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from phi.data.store import get_dataset

    rows = "".join(f"2021-01-{d:02d};1,5;1,75;1,25;1,5;1000\n" for d in range(4, 29) if d % 7 not in (2, 3))
    path = tmp_path / "semi.csv"
    path.write_text("date;open;high;low;close;volume\n" + rows)
    code = main(["fetch", "SEMI", "--vendor", "csv", "--path", str(path), "--start", "2021-01-01", "--end", "2021-01-31"])
    out, err = capsys.readouterr()
    if code == 2:
        _one_line(err)
        return
    assert code == 0, err
    frame = get_dataset("SEMI", "2021-01-01", "2021-01-31", vendor="csv", path=str(path)).frame
    assert frame["close"].eq(1.5).all() and frame["high"].eq(1.75).all()


# ---------------------------------------------------------------------------- the real console script


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["backtest", "--config", "/dev/zero"], "not a regular file"),
        ([b"fetch", b"\xff\xfe"], "symbol"),
        (["runs", "show", "[/bold]"], "[/bold]"),
    ],
    ids=["/dev/zero", "non-UTF-8 argv", "markup run id"],
)
def test_console_script(args: list[Any], named: str, tmp_path: Path) -> None:
    env = {**os.environ, "PHI_HOME": str(tmp_path / "home"), "COLUMNS": "80"}
    proc = subprocess.run([PHI, *args], env=env, cwd=tmp_path, capture_output=True, timeout=60)
    err = proc.stderr.decode("utf-8", "backslashreplace")
    assert proc.returncode == 2, err
    assert named in _one_line(err)
    assert os.listdir(tmp_path) == ["phi_home"]  # (the autouse PHI_HOME fixture's folder) nothing else written
