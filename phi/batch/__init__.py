"""Batches and universe sweeps on Dask (DESIGN §6b).

>>> from phi.batch import run_batch, parse_grid, expand_grid  # doctest: +SKIP

:func:`run_batch` runs many configs (a local cluster by default, any Dask scheduler by address),
saves and indexes each run, reports each config's outcome and skips configs already run.
:func:`parse_grid` / :func:`expand_grid` build a parameter grid, :func:`sweep_summary` the
best combination per symbol. Importing this package imports neither Dask nor numba.
"""

from __future__ import annotations

from phi.batch.grid import (
    expand_grid,
    load_configs,
    load_symbols,
    parse_grid,
    preset_config,
    sweep_configs,
)
from phi.batch.runner import BatchResult, TaskOutcome, run_batch
from phi.batch.summary import SweepSummary, sweep_summary
from phi.batch.task import run_chunk

__all__ = [
    "BatchResult",
    "SweepSummary",
    "TaskOutcome",
    "expand_grid",
    "load_configs",
    "load_symbols",
    "parse_grid",
    "preset_config",
    "run_batch",
    "run_chunk",
    "sweep_configs",
    "sweep_summary",
]
