"""``phi tune``: PhiAI on one symbol -> a progress bar, then the IS/OOS/hold-out report."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

import typer

from phi.cli._common import EndOpt, PathOpt, StartOpt, console
from phi.cli._flags import split_list
from phi.errors import ConfigError, RunError
from phi.phiai.config import MAX_TRIALS as _MAX_TRIALS

if TYPE_CHECKING:
    from rich.table import Table

    from phi.phiai.tuner import PhiAIResult


def _num(x: Any, fmt: str = ".2f") -> str:
    return format(x, fmt) if isinstance(x, int | float) and math.isfinite(x) else "-"


def _fraction(text: str, flag: str) -> float:
    from phi.cli._flags import parse_fraction

    value = parse_fraction(text, flag)
    assert value is not None
    return value


def report_tables(result: PhiAIResult, metric: str) -> list[Table]:
    """The selection table, IS vs OOS per fold and indicator, and the verdict table."""
    from rich.table import Table
    from rich.text import Text

    sel = Table(title=Text("Selection (walk-forward, defaults + probes)"), title_justify="left")
    for col, just in (
        ("indicator", "left"),
        (f"IS {metric}", "right"),
        (f"OOS {metric}", "right"),
        ("trades", "right"),
        ("", "left"),
    ):
        sel.add_column(col, justify=just)  # type: ignore[arg-type]
    for _, r in result.selection.iterrows():
        sel.add_row(
            Text(str(r["name"]), style="bold" if r["chosen"] else ""),
            _num(r["is_score"]),
            _num(r["oos_score"]),
            str(r["trades"]),
            Text(str(r["why"])),
        )
    folds = Table(title=Text(f"In-sample vs out-of-sample {metric} per fold"), title_justify="left")
    for col in ("indicator", "fold", "train", "test", "best params on train", "IS", "OOS"):
        folds.add_column(col, justify="right" if col in ("IS", "OOS", "fold") else "left")
    for _, r in result.folds.iterrows():
        # a segment's first and last day one above the other, a parameter per line: whole in
        # an 80-column terminal
        params = "\n".join(f"{k}={v}" for k, v in r["params"].items())
        folds.add_row(
            str(r["indicator"]),
            str(r["fold"]),
            str(r["train"]).replace("..", "\n"),
            str(r["test"]).replace("..", "\n"),
            params,
            _num(r["is_score"]),
            _num(r["oos_score"]),
        )
    s = result.stats
    verdict = Table(
        title=Text("Result and how much to trust it"), title_justify="left", show_header=False
    )
    verdict.add_column("what")
    verdict.add_column("value", justify="right")
    rows = [
        (
            "indicators (weight)",
            ", ".join(f"{i.name} {i.weight:.2f}" for i in result.run_config.enabled_indicators),
        ),
        (f"{metric} in-sample (development bars)", _num(s["is_score"])),
        (f"{metric} walk-forward out-of-sample", _num(s["oos_score"])),
        (f"{metric} hold-out (untouched)", _num(s["holdout_score"])),
        ("hold-out trades", _num(result.holdout.get("n_trades"), ".0f")),
        ("OOS / IS efficiency", _num(s["oos_is_efficiency"])),
        ("trials counted (selection included)", str(s["n_trials_total"])),
        ("PSR (vs Sharpe 0)", _num(s["psr"], ".3f")),
        ("DSR / p-value", f"{_num(s['dsr'], '.3f')} / {_num(s['dsr_pvalue'], '.3f')}"),
        ("PBO (CSCV)", _num(s["pbo"], ".0%")),
    ]
    from phi.phiai.importance import param_importance

    for name, t in result.tuning.items():  # after the search: ~1 s per indicator
        imp = param_importance(t)
        if len(imp) > 1:
            shares = ", ".join(f"{k} {_num(v)}" for k, v in imp.items())
            rows.append((f"{name}: parameter importance (fANOVA)", shares))
    for k, v in rows:
        verdict.add_row(k, v)
    return [sel, folds, verdict]


def tune(
    symbol: Annotated[str, typer.Argument(help="Ticker (DEMO: offline synthetic data).")] = "DEMO",
    vendor: Annotated[
        str, typer.Option("--vendor", "-v", help="demo (default), yfinance, alpha_vantage or csv.")
    ] = "demo",
    start: StartOpt = "2015-01-01",
    end: EndOpt = "2024-12-31",
    timeframe: Annotated[
        str, typer.Option("--timeframe", "-t", help="1D (default), 4H, 1H, 15m, 5m or 1m.")
    ] = "1D",
    path: PathOpt = None,
    indicators: Annotated[
        str | None,
        typer.Option(
            "--indicators", "-i", help="Comma-separated indicators to tune (no selection step)."
        ),
    ] = None,
    auto: Annotated[
        bool,
        typer.Option(
            "--auto", help="Select the indicators from the whole registry, then tune them."
        ),
    ] = False,
    max_indicators: Annotated[
        int,
        typer.Option("--max-indicators", help="--auto: how many indicators to keep (default 3)."),
    ] = 3,
    trials: Annotated[
        int, typer.Option("--trials", help="Optuna trials per tuned indicator (default 200).")
    ] = 200,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="sharpe (default), sortino, calmar, total_return, cagr, max_drawdown, ...",
        ),
    ] = "sharpe",
    folds: Annotated[int, typer.Option("--folds", help="Walk-forward folds (default 5).")] = 5,
    scheme: Annotated[
        str, typer.Option("--scheme", help="rolling (default) or anchored.")
    ] = "rolling",
    sampler: Annotated[
        str, typer.Option("--sampler", help="tpe (default), random or grid.")
    ] = "tpe",
    holdout: Annotated[
        str,
        typer.Option(
            "--holdout", help="Share of the bars kept untouched at the end (default 20%)."
        ),
    ] = "20%",
    max_dd: Annotated[
        str, typer.Option("--max-dd", help="Drawdown cap on the development bars (default 30%).")
    ] = "30%",
    min_trades: Annotated[
        int,
        typer.Option("--min-trades", help="Fewest trades on the development bars (default 10)."),
    ] = 10,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of every Optuna sampler (default 0).")
    ] = 0,
    jobs: Annotated[
        int,
        typer.Option("--jobs", help="Threads computing indicators (results do not depend on it)."),
    ] = 1,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Optuna storage: 'sqlite' ($PHI_HOME/phiai/optuna.db), a .db file or a URL (default: memory).",
        ),
    ] = None,
    study: Annotated[
        str | None,
        typer.Option(
            "--study",
            help="Create or join the shared study NAME in --storage (default sqlite): several processes or machines add trials to it.",
        ),
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="Continue the existing study NAME in --storage (default sqlite)."),
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save/--no-save", help="Save the tuned run with runs/{id}/tuning.json (default: no)."
        ),
    ] = False,
) -> None:
    """Tune indicators with PhiAI: walk-forward folds, an untouched hold-out, DSR/PSR/PBO."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from phi.backtest.run_config import DatasetSpec
    from phi.phiai.tuner import load_bars, phiai_full_auto

    if bool(indicators) == auto:
        raise ConfigError(
            "give either --indicators rsi,macd (tune those) or --auto (select, then tune)"
        )
    names = split_list(indicators or "", "--indicators")
    if indicators is not None and not names:
        raise ConfigError(
            "--indicators is empty; give names like rsi,macd (see phi indicators list)"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"--indicators names {', '.join(map(repr, twice))} more than once; give each once")
    _check_counts(trials=trials, jobs=jobs, max_indicators=max_indicators if auto else None)
    _check_search_flags(folds=folds, seed=seed, min_trades=min_trades)
    if study == "" or resume == "":
        raise ConfigError(f"--{'study' if study == '' else 'resume'} needs a name (letters, digits, '.', '_' or '-')")
    dd = _fraction(max_dd, "--max-dd")
    if not abs(dd) <= 1:  # NaN too
        raise ConfigError(f"--max-dd must be a drawdown cap between 0 and 100%, got {max_dd}"[:200])
    share = _fraction(holdout, "--holdout")
    if not 0 <= share < 0.9:
        raise ConfigError(
            f"--holdout must be a share from 0 up to 90% of the bars, got {holdout}"[:200]
        )
    study_name, storage = _shared_study(study, resume, storage, names)
    dataset = DatasetSpec(
        symbol, vendor, timeframe, "2015-01-01" if start is None else start, "2024-12-31" if end is None else end, path=path
    )
    with console.status("Loading bars ...", spinner="dots"):
        bars = load_bars(dataset)
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        result = phiai_full_auto(
            bars,
            max_indicators=max_indicators if auto else len(names),
            n_trials=trials,
            metric=metric,
            seed=seed,
            dataset=dataset,
            candidates=None if auto else names,
            sampler=sampler,
            select=auto,
            folds=folds,
            scheme=scheme,
            n_jobs=jobs,
            storage=storage,
            constraints={"max_drawdown": -abs(dd), "min_trades": min_trades},
            holdout=share,
            progress=progress,
            study_name=study_name,
        )
    tables = report_tables(result, metric)
    for table in tables if auto else tables[1:]:  # no selection step without --auto
        console.print(table)
    console.print(result.explanation, highlight=False, markup=False, soft_wrap=True)
    _warn_infeasible(result, max_dd, min_trades)
    if save:
        from phi.phiai.report import save_tuned_run

        with console.status("Saving the tuned run ...", spinner="dots"):
            res = save_tuned_run(result)
        if res.save_error:
            raise RunError(res.save_error)
        console.print(
            f"Saved run {res.run_id} (with tuning.json); re-run it with phi runs rerun {res.run_id}",
            highlight=False,
            markup=False,
        )


def _warn_infeasible(result: Any, max_dd: str, min_trades: int) -> None:
    """A warning for each tuned indicator none of whose trials met the constraints (``--min-trades
    1000`` on 500 bars): its parameters are then only the best of trials that break them."""
    import warnings

    for name, tuned in result.tuning.items():
        n = tuned.stats.get("n_trials", 0)
        if n and tuned.stats.get("feasible_trials") == 0:
            warnings.warn(
                f"none of the {n} trials of {name} met the constraints (--max-dd {max_dd}, --min-trades {min_trades:,}); "
                "its parameters are the best of trials that break them: loosen the constraints or use more bars",
                UserWarning,
                stacklevel=1,
            )


#: most Optuna trials per indicator (each is a backtest per fold: 100,000 take hours already)
MAX_TRIALS = _MAX_TRIALS  # the API's limit
#: most threads computing indicators
MAX_JOBS = 256


def _check_counts(*, trials: int, jobs: int, max_indicators: int | None) -> None:
    """The counts a user types, checked before any bar is loaded: one line naming the flag."""
    if not 1 <= trials <= MAX_TRIALS:
        raise ConfigError(f"--trials must be between 1 and {MAX_TRIALS:,}, got {trials:,}"[:200])
    if not 1 <= jobs <= MAX_JOBS:
        raise ConfigError(f"--jobs must be between 1 and {MAX_JOBS}, got {jobs:,}"[:200])
    if max_indicators is not None and max_indicators < 1:
        raise ConfigError(f"--max-indicators must be at least 1, got {max_indicators:,}"[:200])


def _check_search_flags(*, folds: int, seed: int, min_trades: int) -> None:
    """The walk-forward and constraint flags, checked before any bar is loaded: one line
    naming the flag (the API says the same of its argument)."""
    if folds < 1:
        raise ConfigError(f"--folds must be at least 1, got {folds:,}"[:200])
    if seed < 0:
        raise ConfigError(f"--seed must be 0 or more, got {seed:,}"[:200])
    if min_trades < 0:
        raise ConfigError(f"--min-trades must be 0 or more, got {min_trades:,}"[:200])


def _shared_study(study: str | None, resume: str | None, storage: str | None, names: list[str]) -> tuple[str | None, str | None]:
    """``(study name, storage)`` for ``--study``/``--resume``: the storage defaults to sqlite and a
    ``postgresql://`` URL gets the psycopg 3 driver; ``--resume`` needs the study to exist."""
    import os
    import re

    if study and resume:
        raise ConfigError("give --study NAME (create or join) or --resume NAME (continue), not both")
    name = study or resume
    if storage is not None and storage != "sqlite" and "://" not in storage and not storage.endswith(".db"):
        # before any URL is made of it: a bare word must not become a database file in the
        # working directory (the API refuses it as well, but only once the study is opened)
        raise ConfigError(f"--storage must be 'sqlite', a .db file or a SQLAlchemy URL, got {storage!r}"[:200])
    if storage is not None and "://" in storage:
        from phi.backtest.run_index import database_url

        storage = database_url(storage)
    if name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise ConfigError(f"study name {name!r}: use letters, digits, '.', '_' or '-' (up to 100)")
    if (storage == "sqlite" or (storage is None and study)) and not resume:  # before any bar is loaded
        from phi.phiai.tuner import sqlite_folder

        sqlite_folder()
    if name is None:
        return None, storage
    storage = storage or "sqlite"
    import optuna

    from phi.paths import phi_home
    from phi.phiai.storage import no_server, shown_storage, storage_error, study_storage

    url = storage if "://" in storage else f"sqlite:///{phi_home() / 'phiai' / 'optuna.db' if storage == 'sqlite' else storage}"
    if study:  # set the storage's tables up now: processes starting together race to create them
        import time

        for attempt in range(5):
            try:
                study_storage(url)
                break
            except Exception as exc:  # noqa: BLE001 - another process creating them, or unreachable
                if attempt == 4 or no_server(exc):  # a race with another process is worth waiting for
                    raise ConfigError(f"--storage: {storage_error(exc, url, 'cannot be used')}") from None
                time.sleep(0.5 * (attempt + 1))
    if resume:
        db_file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
        try:
            existing = [] if db_file and not os.path.exists(db_file) else optuna.get_all_study_names(study_storage(url))
        except Exception as exc:  # noqa: BLE001 - an unreachable storage is one line
            raise ConfigError(f"--resume: {storage_error(exc, url, 'cannot be read')}") from None
        mine = sorted(n for n in existing if n.startswith(f"{name}-"))
        if not mine or (names and not any(n == f"{name}-{i}" for n in mine for i in names)):
            known = sorted({n.rsplit("-", 1)[0] for n in existing if not n.startswith("phiai-")})
            raise ConfigError(f"--resume: no study {name!r} in {shown_storage(storage)}" + (f"; studies there: {', '.join(known)}" if known else "; start one with --study NAME"))
    return name, storage
