"""Where a batch's configs come from: files, folders, parameter grids and symbol lists.

A grid spec names indicator parameters and their values, separated by spaces or ``;``::

    period=7..28:7                 7, 14, 21, 28 (a range: first..last:step, both ends kept)
    period=10,14,20 fast=5..15:5   a list; several parameters give their cross product
    macd.fast=8,12                 qualified by indicator when several have that parameter

Every combination is validated against the registry when its :class:`RunConfig` is built;
nothing here runs a backtest.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Final

from phi.backtest.run_config import DatasetSpec, IndicatorConfig, RunConfig
from phi.errors import ConfigError, PhiError, shown

__all__ = ["expand_grid", "load_configs", "load_symbols", "parse_grid", "preset_config", "sweep_configs"]

#: Largest grid a spec may expand to (a typo such as 1..100000:1 is caught before any work).
MAX_GRID: Final = 100_000
MAX_FILE_BYTES: Final = 50 * 2**20
_NAME = re.compile(r"^(?:([a-z][a-z0-9_]*)\.)?([a-z][a-z0-9_]*)$")


def _number(text: str, where: str) -> int | float:
    t = text.strip()
    with contextlib.suppress(ValueError):
        return int(t)
    try:
        x = float(t)
    except ValueError:
        raise ConfigError(f"--grid: {where}: {t!r} is not a number") from None
    if not math.isfinite(x):
        raise ConfigError(f"--grid: {where}: {t!r} is not a finite number")
    return x


def _values(name: str, text: str) -> list[int | float | str]:
    text = text.strip()
    m = re.fullmatch(r"([^.:]+|[-+]?\d*\.\d+)\.\.([^:]+)(?::(.+))?", text)
    if m and ".." in text:
        lo, hi = _number(m.group(1), name), _number(m.group(2), name)
        step = _number(m.group(3), name) if m.group(3) else 1
        if step <= 0:
            raise ConfigError(f"--grid: {name}: the step must be > 0, got {step}")
        if hi < lo:
            raise ConfigError(f"--grid: {name}: {lo}..{hi} is empty (first > last)")
        count = int((hi - lo) / step + 1e-9) + 1
        if count > MAX_GRID:
            raise ConfigError(f"--grid: {name}: {text} has {count:,} values; at most {MAX_GRID:,}")
        out = [lo + i * step for i in range(count)]
        ints = all(isinstance(v, int) for v in (lo, hi, step))
        return [int(v) if ints else round(float(v), 12) for v in out]
    vals: list[int | float | str] = []
    for part in text.split(","):
        if not part.strip():
            raise ConfigError(f"--grid: {name}: empty value in {text!r}")
        try:
            value: int | float | str = _number(part, name)
        except ConfigError:
            value = part.strip()
        if value in vals:  # 14,14 (or 14,14.0) would run one config twice, the second skipped as run
            raise ConfigError(f"--grid: {name}: {part.strip()} is listed twice in {text!r}")
        vals.append(value)
    return vals


def parse_grid(spec: str) -> dict[str, list[int | float | str]]:
    """``"period=7..28:7 fast=5,10"`` -> ``{"period": [7, 14, 21, 28], "fast": [5, 10]}``.

    Raises :class:`ConfigError` (one line) for a malformed spec or a grid over
    :data:`MAX_GRID` combinations.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError('--grid is empty; e.g. --grid "period=7..28:7"')
    grid: dict[str, list[int | float | str]] = {}
    for item in re.split(r"[;\s]+", spec.strip()):
        name, sep, values = item.partition("=")
        name = name.strip().lower()
        if not sep or not _NAME.match(name) or not values.strip():
            raise ConfigError(f"--grid expects name=values items like period=7..28:7 or fast=5,10; got {item!r}")
        if name in grid:
            raise ConfigError(f"--grid: {name} is given twice")
        grid[name] = _values(name, values)
    size = 1
    for vals in grid.values():
        size *= len(vals)
    if size > MAX_GRID:
        raise ConfigError(f"--grid expands to {size:,} combinations; at most {MAX_GRID:,}")
    return grid


def _target(config: RunConfig, name: str) -> tuple[int, str]:
    """(indicator position, parameter) that grid key ``name`` sets in ``config``."""
    from phi.indicators.registry import get_indicator

    m = _NAME.match(name)
    if m is None:
        raise ConfigError(f"--grid: {shown(name)} is not a parameter name like period or macd.fast")
    qual, param = m.group(1), m.group(2)
    hits = []
    for i, ind in enumerate(config.indicators):
        if qual is not None and ind.name != qual:
            continue
        if param in [p.name for p in get_indicator(ind.name).params]:
            hits.append(i)
    names = [ind.name for ind in config.indicators]
    if not hits:
        where = f"indicator {qual!r}" if qual else f"any of the config's indicators ({', '.join(names)})"
        raise ConfigError(f"--grid: {name}: no parameter {param!r} in {where}; see phi indicators list")
    if len(hits) > 1:
        raise ConfigError(
            f"--grid: {param} belongs to several indicators ({', '.join(names[i] for i in hits)}); "
            f"qualify it, e.g. {names[hits[0]]}.{param}=..."
        )
    return hits[0], param


def _check_grid(grid: Any) -> int:
    """The number of combinations of ``grid`` ({name: [values]}); a grid that is not such a
    mapping, or has more than :data:`MAX_GRID` combinations, is a one-line ConfigError."""
    if not isinstance(grid, Mapping):
        raise ConfigError(f"a grid must be a mapping {{parameter: [values]}}, got {shown(grid)}")
    size = 1
    for name, values in grid.items():
        if not isinstance(name, str):
            raise ConfigError(f"--grid: parameter names must be strings, got {shown(name)}")
        if isinstance(values, str | bytes | Mapping) or not (hasattr(values, "__len__") and hasattr(values, "__iter__")):
            raise ConfigError(f"--grid: {name}: the values must be a list, got {shown(values)}")
        if len(values) == 0:
            raise ConfigError(f"--grid: {name}: no values; give at least one")
        size *= len(values)
        if size > MAX_GRID:
            raise ConfigError(f"--grid expands to more than {MAX_GRID:,} combinations; give fewer values")
    return size


def expand_grid(config: RunConfig, grid: Mapping[str, Sequence[Any]]) -> list[RunConfig]:
    """One config per combination of the grid (in a stable order), each validated; an invalid
    combination (e.g. ``fast >= slow``) is kept as the :class:`ConfigError` it raises, so a
    batch reports it beside the others instead of stopping. At most :data:`MAX_GRID`
    combinations.
    """
    if not isinstance(config, RunConfig):
        raise ConfigError(f"config must be a RunConfig, got {type(config).__name__}")
    if grid is None:
        return [config]
    _check_grid(grid)
    if not grid:
        return [config]
    targets = [_target(config, name) for name in grid]
    out: list[Any] = []
    for combo in itertools.product(*grid.values()):
        inds = [dict(ind) for ind in config.to_dict()["indicators"]]
        for (i, param), value in zip(targets, combo, strict=True):
            inds[i] = {**inds[i], "params": {**inds[i].get("params", {}), param: value}}
        try:
            out.append(RunConfig.from_dict({**config.to_dict(), "indicators": inds}))
        except ConfigError as exc:
            out.append(ConfigError(f"{', '.join(f'{k}={v}' for k, v in zip(grid, combo, strict=True))}: {exc}"))
    return out


def _read(path: Path, what: str) -> str:
    """A small regular UTF-8 file (a device such as /dev/zero or a FIFO is refused unread)."""
    from phi._io import read_user_text

    return read_user_text(path, what, MAX_FILE_BYTES)


def _json_error(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc).split(";")[0].split(":")[0]


def _configs_in(text: str, where: str) -> Iterator[RunConfig | ConfigError]:
    """Configs of one file: a JSON object, a JSON list of objects, or JSON lines. A file that
    is none of these is one ConfigError, a bad line of JSON lines one per line: the batch
    reports them and runs the rest."""
    from phi._io import unique_keys

    items: list[Any] = []
    labels: list[str] = []
    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
        labels = [f"{where}[{i}]" if isinstance(data, list) else where for i in range(len(items))]
        json.loads(text, object_pairs_hook=unique_keys)  # one document: no key given twice
    except ConfigError as exc:
        yield ConfigError(f"{where}: {exc}")
        return
    except (ValueError, RecursionError) as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        for k, (n, line) in enumerate(lines):
            try:
                items.append(json.loads(line, object_pairs_hook=unique_keys))
            except ConfigError as exc:
                items.append(ConfigError(f"{where} line {n}: {exc}"))
            except (ValueError, RecursionError) as exc:
                if k == 0:  # not JSON lines either: the file is one bad config
                    yield ConfigError(f"{where} is not JSON ({_json_error(whole)})")
                    return
                items.append(ConfigError(f"{where} line {n} is not JSON ({_json_error(exc)})"))
            labels.append(f"{where}:{n}")
    for item, label in zip(items, labels, strict=True):
        if isinstance(item, ConfigError):
            yield item
            continue
        if not isinstance(item, Mapping):
            yield ConfigError(f"{label}: a config must be a JSON object, got {type(item).__name__}")
            continue
        try:
            yield RunConfig.from_dict(item)
        except PhiError as exc:
            yield ConfigError(f"{label}: {exc}")
        except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as exc:  # a shape RunConfig did not foresee
            yield ConfigError(f"{label}: not a valid config ({type(exc).__name__}: {_json_error(exc)})")


def _path(source: Any, what: str) -> Path:
    if not isinstance(source, str | PathLike):
        raise ConfigError(f"{what} must be a file path (str or Path), got {shown(source)}")
    return Path(source).expanduser()


def load_configs(source: str | Path) -> list[RunConfig | ConfigError]:
    """Configs from a file (JSON object, JSON list or JSON lines) or a folder of ``*.json``
    files (sorted by name). An invalid config is kept as its :class:`ConfigError` (reported by
    the batch); an unreadable source is a :class:`ConfigError`.
    """
    path = _path(source, "a config source")
    try:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file())
            if not files:
                raise ConfigError(f"no .json config files in {path}")
        elif path.is_file():
            files = [path]
        else:
            raise ConfigError(f"{path} is neither a config file nor a folder of config files")
    except OSError as exc:  # e.g. a name over the system's limit: is_dir() raises, not False
        raise ConfigError(f"cannot read config source {shown(str(path))}: {exc.strerror or exc}") from None
    out: list[RunConfig | ConfigError] = []
    for f in files:
        try:
            text = _read(f, "config file")
        except ConfigError as exc:
            if len(files) == 1:
                raise
            out.append(exc)  # one unreadable file of a folder: reported, the others run
            continue
        out.extend(_configs_in(text, f.name))
    if not out:
        raise ConfigError(f"{path} holds no configs")
    return out


def load_symbols(source: str | Path) -> list[str]:
    """Symbols from a text file: one per line or comma-separated; ``#`` starts a comment;
    duplicates, in any letter case, dropped (first kept)."""
    text = _read(_path(source, "a symbols file"), "symbols file")
    symbols: list[str] = []
    seen: set[str] = set()
    for line in text.splitlines():
        for part in line.split("#", 1)[0].replace(",", " ").split():
            if part.upper() not in seen:  # symbols are case-insensitive: spy is SPY
                seen.add(part.upper())
                symbols.append(part)
    if not symbols:
        raise ConfigError(f"symbols file {source} lists no symbols")
    return symbols


def sweep_configs(
    symbols: Sequence[str],
    preset: str,
    grid: Mapping[str, Sequence[Any]],
    vendor: str = "demo",
    timeframe: str = "1D",
    start: str | None = None,
    end: str | None = None,
) -> list[RunConfig | ConfigError]:
    """Every symbol x grid combination of ``preset`` (a symbol listed twice, in any case, once). A symbol whose dataset cannot be
    specified (e.g. ``../etc``) stays as its :class:`ConfigError`, so the batch reports it and
    runs the other symbols; a bad preset or grid name is raised (it fails every symbol alike),
    and so is a sweep of more than :data:`MAX_GRID` runs (symbols x combinations)."""
    from phi.backtest.run_config import DEFAULT_END, DEFAULT_START

    if isinstance(symbols, str | Mapping) or not isinstance(symbols, Iterable) or getattr(symbols, "ndim", 1) != 1:
        raise ConfigError(f"symbols must be a list of tickers, got {shown(symbols)}")
    symbols = list(symbols)
    size = _check_grid({} if grid is None else grid)
    if len(symbols) * size > MAX_GRID:
        raise ConfigError(
            f"{len(symbols):,} symbols x {size:,} grid combinations is more than {MAX_GRID:,} runs; "
            "split the sweep"
        )
    out: list[RunConfig | ConfigError] = []
    lo, hi = DEFAULT_START if start is None else start, DEFAULT_END if end is None else end
    seen: set[str] = set()
    for sym in symbols:
        try:
            dataset = DatasetSpec(sym, vendor, timeframe, lo, hi)
        except ConfigError as exc:
            out.append(ConfigError(f"{sym}: {exc}"))
            continue
        if dataset.symbol in seen:  # 'spy' after 'SPY': the same runs again, saved twice
            continue
        seen.add(dataset.symbol)
        out.extend(expand_grid(preset_config(preset, dataset), grid))
    return out


def preset_config(name: str, dataset: DatasetSpec) -> RunConfig:
    """The config of strategy preset ``name`` (:func:`phi.strategies.get`) on ``dataset``;
    a registry indicator name (no preset of that name) gives that indicator with its defaults."""
    from phi.indicators.registry import INDICATORS
    from phi.strategies import get

    if not isinstance(name, str):
        raise ConfigError(f"--preset must be a strategy or indicator name, got {shown(name)}")
    if not isinstance(dataset, DatasetSpec):
        raise ConfigError(f"dataset must be a DatasetSpec, got {type(dataset).__name__}")
    try:
        preset = get(name)
    except ConfigError as exc:
        if name.strip().lower() in INDICATORS:
            return RunConfig(dataset, (IndicatorConfig(name.strip().lower()),))
        raise ConfigError(f"--preset: {exc} (or an indicator: see phi indicators list)") from None
    return preset.config(dataset)
