"""PhiAI: select indicators, tune their parameters, and say how much to trust the result.

>>> from phi.phiai.tuner import PhiAITuner, phiai_full_auto
>>> tuner = PhiAITuner(ohlcv, metric="sharpe", folds=5, seed=0)  # doctest: +SKIP
>>> sel = tuner.select_indicators(top_n=3)  # doctest: +SKIP
>>> tuned = tuner.tune_indicator("rsi", n_trials=200, sampler="tpe")  # doctest: +SKIP

How it scores (see :mod:`phi.phiai.folds`): bars are split into a warm-up, a development
region cut into walk-forward folds, and a final hold-out (default the last 20 %) that no
selection or tuning step sees. The sampler (one seeded sampler per study, in batches of
``batch_size`` whose composition depends only on the seed; Optuna's via ask/tell for a stored
study, :mod:`phi.phiai.tpe` or Optuna's random draws without a study in memory) maximises the mean in-sample (train)
score over the folds; a trial breaking a constraint (development-region max drawdown below
``constraints["max_drawdown"]`` or fewer than ``constraints["min_trades"]`` trades) is told a
penalty and is never chosen. The out-of-sample score is walk-forward: in each fold the trial best
on that fold's train bars is scored on its test bars. Every trial of every step is counted in
``n_trials_total`` for the deflated Sharpe ratio, whose expected maximum Sharpe uses that count
and the null variance ``1/(T-1)`` of a per-bar Sharpe estimate (``dsr_cross_sectional`` uses the
trials' own Sharpe variance instead, as in the paper's example); PBO comes from CSCV over all trials' per-bar returns
on the development region (ranked by their Sharpe ratio, whatever the tuning metric). A trial's
development figures (those returns, its trades and drawdown for the constraints) are its
walk-forward blocks' laid end to end, each block simulated once from flat, as its folds score it.
"""

from __future__ import annotations

import contextlib
import math
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from phi.backtest.engine import EngineConfig
from phi.data.schema import PRICE_COLUMNS, conform_ohlcv
from phi.errors import ConfigError, shown
from phi.phiai import stats as st
from phi.phiai.config import MAX_TRIALS
from phi.phiai.evaluate import (
    METRIC_DIRECTIONS,
    Evaluator,
    TrialScores,
    nanmean,
    row_nanmeans,
)
from phi.phiai.folds import FoldPlan, make_folds
from phi.phiai.spaces import SearchSpace, search_space

if TYPE_CHECKING:
    from pathlib import Path

    import optuna

    from phi.backtest.run_config import RunConfig

__all__ = [
    "SAMPLERS",
    "PhiAIResult",
    "PhiAITuner",
    "TuneResult",
    "blended_holdout",
    "load_bars",
    "phiai_full_auto",
]

SAMPLERS: tuple[str, ...] = ("tpe", "random", "grid")
#: What an infeasible trial is told (with the study's sign): far below any real score.
PENALTY = 1e6
#: Metrics where a score <= 0 means no edge (a candidate must beat 0 to be chosen).
_ZERO_IS_NO_EDGE = frozenset({"sharpe", "sortino", "calmar", "total_return", "cagr"})
DEFAULT_CONSTRAINTS: dict[str, float] = {"max_drawdown": -0.3, "min_trades": 10}
Progress = Callable[[str, int, int], None]


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


@dataclass
class TuneResult:
    """One indicator's tuning: best parameters, IS/OOS scores, every trial and the statistics."""

    name: str
    best_params: dict[str, Any]
    is_score: float
    oos_score: float
    trials: pd.DataFrame
    stats: dict[str, Any]
    folds: pd.DataFrame
    holdout: dict[str, float] = field(default_factory=dict)


@dataclass
class PhiAIResult:
    """What :func:`phiai_full_auto` found, as a re-runnable config plus the evidence."""

    run_config: RunConfig
    stats: dict[str, Any]
    selection: pd.DataFrame
    tuning: dict[str, TuneResult]
    explanation: str
    holdout: dict[str, float]
    folds: pd.DataFrame


@dataclass
class _Trial:
    step: str
    name: str
    params: dict[str, Any]
    scores: TrialScores
    feasible: bool
    why: str


def sqlite_folder() -> Path:
    """``$PHI_HOME/phiai``, made if missing, for ``storage="sqlite"``; a file in its place or a
    read-only PHI_HOME is one :class:`ConfigError` line."""
    from phi.paths import phi_home

    folder = phi_home() / "phiai"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = "a file is in its place" if folder.exists() else (exc.strerror or str(exc))
        raise ConfigError(f"storage 'sqlite' needs the folder {folder}: {why}") from None
    return folder


class PhiAITuner:
    """Select and tune registry indicators on one OHLCV frame.

    Parameters
    ----------
    ohlcv : DataFrame
        Bars as for :func:`phi.backtest.engine.run_backtest`.
    engine : EngineConfig, optional
        Engine settings for every evaluation (``warmup_bars`` is set by the fold plan).
    metric : str
        One of :data:`~phi.phiai.evaluate.METRIC_DIRECTIONS` (direction handled per metric).
    folds : int
        Walk-forward folds.
    scheme : {"rolling", "anchored"}
    seed : int
        Seeds every study's sampler (no global seed is touched).
    n_jobs : int
        Threads computing indicator signals; results do not depend on it.
    storage : None, str
        ``None``: in memory. ``"sqlite"``: ``$PHI_HOME/phiai/optuna.db``. A path ending in
        ``.db`` or any SQLAlchemy URL (``sqlite:///...``) is used as given.
    study_name : str, optional
        Share studies: each indicator's study is ``{study_name}-{indicator}`` in ``storage``,
        created or joined, so several processes (or machines) add trials to one study; the
        trial count of the deflated Sharpe ratio then includes every process's finished trials.
    constraints : dict, optional
        ``max_drawdown`` (a negative fraction) and ``min_trades`` on the development region.
    holdout : float
        Share of bars kept back at the end.
    batch_size : int, optional
        Trials asked before their results are told (default for TPE, which learns between
        batches: 16 until 64 trials are asked, then 32, :func:`phi.phiai.tpe.batch_sizes`;
        16 for a stored study's Optuna TPE; 256 for the random and grid samplers, or all of an
        in-memory study's points at once while their signals stay under
        :data:`ONE_BATCH_CELLS` values). Fixed by the arguments alone, never by ``n_jobs``.
    progress : callable, optional
        ``progress(step, done, total)`` after every batch.
    candidates : sequence of str, optional
        The indicators this tuner may evaluate (default: the whole registry). Scoring starts
        after the longest warm-up in their search spaces, so all are scored on the same bars.
    """

    def __init__(
        self,
        ohlcv: pd.DataFrame,
        engine: EngineConfig | None = None,
        metric: str = "sharpe",
        folds: int = 5,
        scheme: str = "rolling",
        seed: int = 0,
        n_jobs: int = 1,
        storage: str | None = None,
        constraints: Mapping[str, float] | None = None,
        holdout: float = 0.2,
        batch_size: int | None = None,
        progress: Progress | None = None,
        candidates: Sequence[str] | None = None,
        study_name: str | None = None,
    ) -> None:
        from phi.backtest.run_config import MAX_SEED
        from phi.indicators.registry import get_indicator, list_indicators
        from phi.indicators.rule_specs import PRESET_RULES

        if not isinstance(ohlcv, pd.DataFrame):
            raise ConfigError(
                f"ohlcv must be a pandas DataFrame of bars, got {type(ohlcv).__name__}"
            )
        if not isinstance(metric, str) or metric not in METRIC_DIRECTIONS:
            from phi.errors import unknown_choice

            raise ConfigError(unknown_choice("metric", metric, METRIC_DIRECTIONS))
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise ConfigError(f"seed must be an integer from 0 to 2**63 - 1, got {shown(seed)}")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise ConfigError(f"batch_size must be an integer >= 1, got {shown(batch_size)}")
        if engine is not None and not isinstance(engine, EngineConfig):
            raise ConfigError(f"engine must be an EngineConfig, got {type(engine).__name__}")
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
            raise ConfigError(f"n_jobs must be an integer >= 1, got {shown(n_jobs)}")
        if storage is not None and not isinstance(storage, str):
            raise ConfigError(
                "storage must be None (in memory), 'sqlite' or a database URL, "
                f"got {type(storage).__name__}"
            )
        if study_name is not None and not isinstance(study_name, str):
            raise ConfigError(f"study_name must be a string, got {type(study_name).__name__}")
        if progress is not None and not callable(progress):
            raise ConfigError(
                f"progress must be a callable (step, done, total), got {type(progress).__name__}"
            )
        _check_constraints(constraints or {})
        self.ohlcv = ohlcv
        self.engine = engine or EngineConfig()
        self.metric = metric
        self.direction = METRIC_DIRECTIONS[metric]
        self.seed = seed
        self.storage = storage
        self.study_name = study_name
        self._shared_trials = 0  # finished trials other processes added to shared studies
        self.constraints = {**DEFAULT_CONSTRAINTS, **(constraints or {})}
        self.batch_size = batch_size
        self.progress = progress
        if isinstance(candidates, str):
            candidates = [candidates]
        self.candidates = (
            list(dict.fromkeys(candidates))
            if candidates is not None
            else [
                n
                for n in list_indicators()
                if n not in PRESET_RULES and n not in ("ml_classifier", "rl_agent")
            ]
        )
        if not self.candidates:
            raise ConfigError("candidates is empty; give indicator names (see phi indicators list)")
        first = max(search_space(n).warmup_max() for n in self.candidates) + 1
        # the bars as run_backtest and compute_signal take them (returned as is if they conform)
        volume = any("volume" in get_indicator(n).inputs for n in self.candidates)
        ohlcv = self.ohlcv = conform_ohlcv(ohlcv, PRICE_COLUMNS, optional=("volume",) if volume else ())
        self.plan: FoldPlan = make_folds(len(ohlcv), first, folds, scheme, holdout)
        self.evaluator = Evaluator(ohlcv, self.engine, self.plan, metric, n_jobs)
        self.log: list[_Trial] = []
        self._labels: tuple[list[str], list[str]] | None = None

    # ------------------------------------------------------------------ helpers

    @property
    def n_trials_total(self) -> int:
        """Every candidate evaluated so far, by every step (and by every process sharing a study)."""
        return len(self.log) + self._shared_trials

    def _better(self, a: float, b: float) -> bool:
        if not math.isfinite(a):
            return False
        if not math.isfinite(b):
            return True
        return a > b if self.direction == "maximize" else a < b

    def _best_index(self, values: Sequence[float] | np.ndarray) -> int:
        """The first best finite value's index (0 if none is finite, -1 if empty): what a
        left-to-right scan with :meth:`_better` keeps."""
        arr = np.asarray(values, dtype=np.float64)
        if arr.size == 0:
            return -1
        finite = np.isfinite(arr)
        if not finite.any():
            return 0
        if self.direction == "maximize":
            return int(np.argmax(np.where(finite, arr, -np.inf)))
        return int(np.argmin(np.where(finite, arr, np.inf)))

    def _objectives(self, trials: Sequence[_Trial]) -> list[float]:
        """:meth:`_objective` of every trial (the fold means in one :func:`row_nanmeans`)."""
        if not trials:
            return []
        means = _kept_means(trials, 0)
        if means is None:
            means = row_nanmeans(_fold_scores(trials)[0]).tolist()
        penalty = -PENALTY if self.direction == "maximize" else PENALTY
        return [
            m if t.feasible and math.isfinite(m) else penalty
            for t, m in zip(trials, means, strict=True)
        ]

    def _feasibility(self, s: TrialScores) -> tuple[bool, str]:
        cap, need = self.constraints["max_drawdown"], self.constraints["min_trades"]
        if s.dev_max_drawdown < cap:
            return False, f"max drawdown {s.dev_max_drawdown:.1%} below the cap {cap:.0%}"
        if s.dev_trades < need:
            return False, f"{s.dev_trades} trades, fewer than the minimum {need:g}"
        return True, ""

    def _storage_url(self) -> str | None:
        if self.storage is None:
            return None
        if self.storage == "sqlite":
            from phi.backtest.run_index import sqlite_url  # %, ? and # of PHI_HOME escaped

            return sqlite_url(sqlite_folder() / "optuna.db")
        if "://" in self.storage:
            return self.storage
        if self.storage.endswith(".db"):
            from pathlib import Path

            from phi.backtest.run_index import sqlite_url

            return sqlite_url(Path(self.storage))
        raise ConfigError(
            f"storage must be None, 'sqlite', a .db file or a SQLAlchemy URL, got {shown(self.storage)}"
        )

    @contextlib.contextmanager
    def _storage_errors(self) -> Iterator[None]:
        """A study storage that cannot be opened or written: one :class:`ConfigError` line
        naming it (its password hidden), not the database driver's traceback."""
        from optuna.exceptions import StorageInternalError
        from sqlalchemy.exc import SQLAlchemyError

        try:
            yield
        except (SQLAlchemyError, StorageInternalError, ImportError) as exc:  # e.g. the server stopped mid-study
            from phi.phiai.storage import storage_error

            done = "; the trials finished so far are kept (--resume continues the study)" if self.study_name else ""
            raise ConfigError(f"{storage_error(exc, self._storage_url() or '', 'cannot be used')}{done}") from None

    def _study(self, name: str, sampler: str, n_trials: int) -> optuna.Study:
        import optuna

        from phi.phiai.storage import study_storage

        if sampler == "tpe":
            smp: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(
                seed=self.seed, n_startup_trials=_n_startup(n_trials)
            )
        else:
            smp = optuna.samplers.RandomSampler(seed=self.seed)
        return optuna.create_study(
            study_name=f"{self.study_name}-{name}"
            if self.study_name
            else f"phiai-{name}-seed{self.seed}-{uuid.uuid4().hex[:8]}",
            storage=None if self.storage is None else study_storage(self._storage_url() or ""),
            sampler=smp,
            direction="maximize" if self.direction == "maximize" else "minimize",
            load_if_exists=self.study_name is not None,
        )

    def _record(self, step: str, name: str, params: list[dict[str, Any]]) -> list[_Trial]:
        scores = self.evaluator.score(name, params)
        out = []
        for p, s in zip(params, scores, strict=True):
            ok, why = self._feasibility(s)
            out.append(_Trial(step, name, p, s, ok, why))
        self.log.extend(out)
        return out

    def _objective(self, t: _Trial) -> float:
        value = nanmean(t.scores.is_folds)
        if t.feasible and math.isfinite(value):
            return value
        return -PENALTY if self.direction == "maximize" else PENALTY

    def _walk_forward(
        self, trials: Sequence[_Trial], is_f: np.ndarray | None = None
    ) -> tuple[pd.DataFrame, float]:
        """Per fold: the feasible trial best on the train bars, scored on the test bars
        (``is_f``: the trials' in-sample fold scores, :func:`_fold_scores`, if at hand)."""
        feasible = [i for i, t in enumerate(trials) if t.feasible] or list(range(len(trials)))
        pool = [trials[i] for i in feasible]
        if is_f is None:
            is_f = _fold_scores(trials)[0]
        is_folds = is_f[feasible] if len(trials) else np.empty((0, 0))
        best = [
            pool[self._best_index(is_folds[:, k] if len(pool) else [])]
            for k in range(len(self.plan.folds))
        ]
        train, test = self._fold_labels()
        oos = [t.scores.oos_folds[k] for k, t in enumerate(best)]
        frame = pd.DataFrame(
            {
                "fold": [f.number for f in self.plan.folds],
                "train": train,
                "test": test,
                "params": [dict(t.params) for t in best],
                "is_score": [t.scores.is_folds[k] for k, t in enumerate(best)],
                "oos_score": oos,
            }
        )
        return frame, nanmean(oos)

    def _fold_labels(self) -> tuple[list[str], list[str]]:
        """Each fold's train and test dates (``first..last``), formatted once per tuner."""
        if self._labels is None:
            idx = self.ohlcv.index
            folds = self.plan.folds
            at = [
                b
                for f in folds
                for b in (f.train_start, f.train_end - 1, f.train_end, f.test_end - 1)
            ]
            # dates for a DatetimeIndex (formatted in one call); other indexes by label
            if isinstance(idx, pd.DatetimeIndex):  # the stamps' own wall-clock dates
                picked = idx[at]
                wall = picked.tz_localize(None) if picked.tz is not None else picked
                days = np.datetime_as_string(wall.to_numpy(), unit="D").tolist()
            else:
                days = [str(idx[i]) for i in at]
            self._labels = (
                [f"{days[4 * k]}..{days[4 * k + 1]}" for k in range(len(folds))],
                [f"{days[4 * k + 2]}..{days[4 * k + 3]}" for k in range(len(folds))],
            )
        return self._labels

    def _trial_frame(
        self,
        trials: Sequence[_Trial],
        is_mean: np.ndarray | None = None,
        oos_mean: np.ndarray | None = None,
        folds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """One row per trial: number, name, parameters, IS/OOS means and per fold, trades,
        drawdown, feasible, why (built column by column when all trials share their keys;
        ``folds``: :func:`_fold_scores` of ``trials``, if at hand)."""
        if is_mean is None or oos_mean is None:
            is_mean, oos_mean = self._means(trials)
        keys = [tuple(t.params) for t in trials]
        if not trials or len(set(keys)) > 1:
            return self._trial_frame_rows(trials, is_mean, oos_mean)
        # columns as arrays (the same values and dtypes as from lists, built faster: strings as
        # object arrays, which pandas stores as its string dtype, as it does a list of them)
        cols: dict[str, Any] = {
            "number": np.arange(len(trials), dtype=np.int64),
            "name": np.array([t.name for t in trials], dtype=object),
        }
        for key in keys[0]:
            cols[key] = _param_column([t.params[key] for t in trials])
        cols["is_score"] = np.asarray(is_mean, dtype=np.float64)
        cols["oos_score"] = np.asarray(oos_mean, dtype=np.float64)
        is_f, oos_f = folds if folds is not None else _fold_scores(trials)
        for k in range(is_f.shape[1]):
            cols[f"is_f{k + 1}"] = is_f[:, k]
            cols[f"oos_f{k + 1}"] = oos_f[:, k]
        cols["trades"] = np.array([t.scores.dev_trades for t in trials], dtype=np.int64)
        cols["max_drawdown"] = np.array(
            [t.scores.dev_max_drawdown for t in trials], dtype=np.float64
        )
        cols["feasible"] = np.array([t.feasible for t in trials], dtype=bool)
        cols["why"] = np.array([t.why for t in trials], dtype=object)
        return pd.DataFrame(cols)

    def _trial_frame_rows(
        self, trials: Sequence[_Trial], is_mean: np.ndarray, oos_mean: np.ndarray
    ) -> pd.DataFrame:
        rows = []
        for i, t in enumerate(trials):
            row: dict[str, Any] = {"number": i, "name": t.name, **t.params}
            row["is_score"] = float(is_mean[i])
            row["oos_score"] = float(oos_mean[i])
            for k, (a, b) in enumerate(
                zip(t.scores.is_folds, t.scores.oos_folds, strict=True), start=1
            ):
                row[f"is_f{k}"], row[f"oos_f{k}"] = a, b
            row.update(
                trades=t.scores.dev_trades,
                max_drawdown=t.scores.dev_max_drawdown,
                feasible=t.feasible,
                why=t.why,
            )
            rows.append(row)
        return pd.DataFrame(rows)

    @staticmethod
    def _means(
        trials: Sequence[_Trial], folds: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every trial's mean in-sample and out-of-sample fold score (:func:`nanmean`;
        ``folds``: :func:`_fold_scores` of ``trials``, if at hand)."""
        if not trials:
            return np.empty(0), np.empty(0)
        kept = _kept_means(trials, 0), _kept_means(trials, 1)
        if kept[0] is not None and kept[1] is not None:
            return np.array(kept[0], dtype=np.float64), np.array(kept[1], dtype=np.float64)
        is_f, oos_f = folds if folds is not None else _fold_scores(trials)
        return row_nanmeans(is_f), row_nanmeans(oos_f)

    def _luck_stats(
        self, returns: np.ndarray, pool: Sequence[_Trial] | None = None
    ) -> dict[str, Any]:
        """DSR/PSR of a strategy's development-region returns against every trial so far."""
        sr, skew, kurt, n = st.return_moments(returns)
        sharpes = [t.scores.sharpe for t in self.log]
        finite = np.asarray([s for s in sharpes if math.isfinite(s)])
        var = float(finite.var(ddof=1)) if len(finite) > 1 else 0.0
        n_total = max(1, self.n_trials_total)
        # The null variance of a per-bar Sharpe estimate, 1/(T-1): what the trials' Sharpe
        # variance is when no trial has skill (the DSR's null). The trials' own cross-sectional
        # variance is also reported; it is inflated by genuine skill differences (a real edge
        # found by some trials would deflate itself) and shrunk by correlated trials.
        var_null = 1.0 / (n - 1) if n > 1 else math.nan
        dsr = st.deflated_sharpe(sr, n, n_total, var_null, skew, kurt)
        dsr_cross = st.deflated_sharpe(sr, n, n_total, var, skew, kurt)
        trials = pool if pool is not None else self.log
        n_values = len(trials[0].scores.returns) if len(trials) > 1 else 0
        splits = st.pbo_splits(n_values)
        pbo = _pbo(trials, splits) if n_values else math.nan
        return {
            "n_trials_total": self.n_trials_total,
            "sharpe_per_bar": sr,
            "skew": skew,
            "kurtosis": kurt,
            "n_bars": n,
            "trial_sharpe_variance": var,
            "null_sharpe_variance": var_null,
            "expected_max_sharpe": st.expected_max_sharpe(n_total, var_null),
            "dsr_cross_sectional": dsr_cross,
            "psr": st.psr(sr, n, skew, kurt),
            "dsr": dsr,
            "dsr_pvalue": st.dsr_pvalue(dsr),
            "pbo": pbo,
            "pbo_splits": splits,
        }

    def _check_candidates(self, names: Sequence[str]) -> None:
        for name in names:
            search_space(name)  # unknown names: UnknownIndicatorError with a suggestion
            if name not in self.candidates:
                raise ConfigError(
                    f"{name!r} is not among this tuner's candidates ({', '.join(self.candidates)}); "
                    "pass it in PhiAITuner(candidates=...) so its warm-up is accounted for"
                )

    def _progress(self, step: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(step, done, total)

    def holdout_metrics(self, name: str, params: Mapping[str, Any]) -> dict[str, float]:
        """Metrics of one indicator on the hold-out bars (scored once, started flat);
        ``params`` ``None`` or partial: the registry's defaults for the rest."""
        from phi.indicators.registry import get_indicator

        self._check_candidates([name])
        resolved = get_indicator(name).resolve(params)
        return self.evaluator.holdout_metrics(self.evaluator.matrix(name, [resolved]))

    # ------------------------------------------------------------------ public API

    def select_indicators(
        self, candidates: Sequence[str] | None = None, top_n: int = 3, probe_trials: int = 8
    ) -> pd.DataFrame:
        """Score every candidate alone and choose the best ``top_n``.

        Each candidate is evaluated at its defaults plus ``probe_trials - 1`` random parameter
        sets (seeded); its ``is_score`` is the best mean train score, its ``oos_score`` the
        walk-forward test score. Candidates are ranked by ``oos_score`` among those meeting the
        constraints (and, for return-like metrics, beating 0). Returns one row per candidate:
        name, is_score, oos_score, trades, chosen, why, params, trials (parameter sets evaluated).
        """
        from phi.errors import PhiError

        for label, value in (("top_n", top_n), ("probe_trials", probe_trials)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{label} must be an integer >= 1, got {shown(value)}")
        if probe_trials > MAX_TRIALS:
            raise ConfigError(f"probe_trials must be at most {MAX_TRIALS:,}, got {probe_trials:,}")
        if isinstance(candidates, str):
            candidates = [candidates]
        if candidates is not None and not isinstance(candidates, Sequence):
            raise ConfigError(
                f"candidates must be a list of indicator names, got {type(candidates).__name__}"
            )
        names = list(candidates) if candidates is not None else self.candidates
        if not names:
            raise ConfigError("candidates is empty; give indicator names (see phi indicators list)")
        self._check_candidates(names)
        rows: list[dict[str, Any]] = []
        for i, name in enumerate(names):
            space = search_space(name)
            try:
                trials = self._probe(space, probe_trials)
            except PhiError as exc:
                rows.append(
                    {
                        "name": name,
                        "is_score": math.nan,
                        "oos_score": math.nan,
                        "trades": 0,
                        "chosen": False,
                        "why": f"could not compute: {exc}",
                        "params": {},
                        "feasible": False,
                        "trials": 0,
                    }
                )
                continue
            wf, oos = self._walk_forward(trials)
            best = self._best_index(self._objectives(trials))
            t = trials[best]
            rows.append(
                {
                    "name": name,
                    "is_score": nanmean(t.scores.is_folds),
                    "oos_score": oos,
                    "trades": t.scores.dev_trades,
                    "chosen": False,
                    "why": t.why,
                    "params": dict(t.params),
                    "feasible": any(x.feasible for x in trials),
                    "trials": len(trials),
                }
            )
            self._progress("select", i + 1, len(names))
        frame = pd.DataFrame(rows)
        order = sorted(
            range(len(rows)),
            key=lambda k: (
                not rows[k]["feasible"],
                _sort_key(rows[k]["oos_score"], self.direction),
            ),
        )
        chosen = 0
        for rank, k in enumerate(order, start=1):
            r = rows[k]
            if not r["feasible"]:
                r["why"] = r["why"] or "no parameter set met the constraints"
                continue
            edge = not (self.metric in _ZERO_IS_NO_EDGE and not (r["oos_score"] > 0))
            if chosen < top_n and edge and math.isfinite(r["oos_score"]):
                r["chosen"], chosen = True, chosen + 1
                r["why"] = (
                    f"rank {rank} by walk-forward out-of-sample {self.metric} {r['oos_score']:.3g} (in-sample {r['is_score']:.3g})"
                )
            elif not edge:
                r["why"] = f"out-of-sample {self.metric} {r['oos_score']:.3g} is not above 0"
            else:
                r["why"] = f"rank {rank}: not in the top {top_n}"
        if chosen == 0 and order:
            r = rows[order[0]]
            r["chosen"] = True
            r["why"] = (
                f"fallback: no candidate qualified; best walk-forward {self.metric} {r['oos_score']:.3g}"
            )
        frame = pd.DataFrame(rows).drop(columns="feasible")
        return frame

    def _probe(self, space: SearchSpace, n: int) -> list[_Trial]:
        rng = np.random.default_rng([self.seed, zlib.crc32(space.name.encode())])
        params = [space.spec.defaults] + [
            space.sample(rng) for _ in range(n - 1 if space.params else 0)
        ]
        params = [p for p in params if space.problem(p) is None]
        uniq = list({tuple(sorted(p.items())): p for p in params}.values())
        return self._record("select", space.name, uniq)

    def tune_indicator(
        self,
        name: str,
        n_trials: int = 200,
        sampler: str = "tpe",
        grid: Sequence[Mapping[str, Any]] | None = None,
    ) -> TuneResult:
        """Tune ``name``'s parameters with Optuna over its registry space.

        ``sampler``: ``"tpe"`` (default), ``"random"`` or ``"grid"`` (a regular grid of at most
        ``n_trials`` valid points, or the parameter sets in ``grid``, each validated against the
        registry; at most 100,000 either way). Returns a :class:`TuneResult`. An in-memory study (``storage=None``) runs
        without Optuna: TPE through the batched :class:`~phi.phiai.tpe.BatchedTPE` (Optuna's
        default Parzen estimator and constant liar, one parameter at a time, its own seeded
        random numbers), each batch told before the next is asked and scored on numba's threads
        (:class:`~phi.backtest.segments.SegmentSweep` runs its segments in groups); a stored study (SQLite/PostgreSQL, shareable across processes) keeps Optuna's
        ``TPESampler`` via ask/tell, so its trials differ from the in-memory ones.
        """
        import optuna

        if sampler not in SAMPLERS:
            from phi.errors import unknown_choice

            raise ConfigError(unknown_choice("sampler", sampler, SAMPLERS))
        check_n_trials(n_trials)
        self._check_candidates([name])
        space = search_space(name)
        start = len(self.log)
        points: list[dict[str, Any]] | None = None
        if grid is not None:
            if sampler != "grid":
                raise ConfigError("grid= (explicit parameter sets) needs sampler='grid'")
            if not isinstance(grid, Sequence) or isinstance(grid, str):
                raise ConfigError(
                    f"grid must be a list of parameter sets (dicts), got {type(grid).__name__}"
                )
            if len(grid) > MAX_TRIALS:
                raise ConfigError(
                    f"grid has {len(grid):,} parameter sets; at most {MAX_TRIALS:,} per study"
                )
            points = [space.spec.resolve(p) for p in grid]
            if not points:
                raise ConfigError("grid is empty; give at least one parameter set")
        elif sampler == "grid" or not space.params:
            points = list(space.grid(n_trials))
        size = self.batch_size or (16 if sampler == "tpe" else 256)
        if self._without_optuna(points, sampler):
            if points is None and sampler == "tpe":
                from phi.phiai.tpe import batch_sizes

                trials = self._tune_tpe(name, space, batch_sizes(n_trials, self.batch_size))
                return self._result(name, space, trials)
            # Nothing learns between trials and the study is not kept: the trials Optuna would
            # ask (the points in order, or RandomSampler(seed)'s draws) without a study.
            todo = points if points is not None else space.optuna_random(self.seed, n_trials)
            if self.batch_size is None:  # fewer, larger batches: the same trials and scores
                size = _sweep_batch(len(todo), len(self.ohlcv))
            for done in range(0, len(todo), size):
                chunk = todo[done : done + size]
                self._record("tune", name, [p for p in chunk if space.problem(p) is None])
                self._progress(f"tune {name}", done + len(chunk), len(todo))
            return self._result(name, space, self.log[start:])
        with _quiet_optuna(), self._storage_errors():
            study = self._study(name, "random" if sampler == "grid" else sampler, n_trials)
            total = len(points) if points is not None else n_trials
            for p in points or []:
                study.enqueue_trial(p)
            done = 0
            untold: list[optuna.trial.Trial] = []  # asked, not yet told: FAIL if cut off
            try:
                while done < total:
                    asked = []
                    for _ in range(min(size, total - done)):
                        asked.append(study.ask())
                        untold.append(asked[-1])
                    params = [space.suggest(t) for t in asked]
                    valid = [
                        (t, p) for t, p in zip(asked, params, strict=True) if space.problem(p) is None
                    ]
                    for t, p in zip(asked, params, strict=True):
                        if space.problem(p) is not None:
                            study.tell(t, state=optuna.trial.TrialState.FAIL)
                            untold.remove(t)
                    recorded = self._record("tune", name, [p for _, p in valid])
                    for (t, _), rec in zip(valid, recorded, strict=True):
                        study.tell(t, self._objective(rec))
                        untold.remove(t)
                    done += len(asked)
                    self._progress(f"tune {name}", done, total)
            except BaseException:  # Ctrl-C, a failed batch, the storage: no trial left "running"
                from phi.phiai.storage import fail_untold

                fail_untold(study, untold)
                raise
        trials = self.log[start:]
        if self.study_name is not None:  # count the trials other processes finished in this study
            complete = optuna.trial.TrialState.COMPLETE
            self._shared_trials += max(
                0, len(study.get_trials(deepcopy=False, states=(complete,))) - len(trials)
            )
        return self._result(name, space, trials)

    def _without_optuna(self, points: list[dict[str, Any]] | None, sampler: str) -> bool:
        """Whether a study may skip Optuna: in memory (nothing to keep). Fixed points and the
        random sampler give Optuna's own trials (:meth:`SearchSpace.optuna_random`); TPE runs the
        batched :class:`~phi.phiai.tpe.BatchedTPE` (Optuna's estimator, its own random numbers)."""
        return self.storage is None and (points is not None or sampler in ("random", "tpe"))

    def _tune_tpe(self, name: str, space: SearchSpace, sizes: Sequence[int]) -> list[_Trial]:
        """An in-memory TPE study: batches of ``sizes``; invalid parameter sets are not
        evaluated and not told (Optuna's failed trials); infeasible ones are told the penalty,
        as in the Optuna path. A parameter set TPE proposes again is a trial of its own (counted,
        told) with the scores simulated the first time.

        For an indicator whose batch signals are one kernel call (the crossovers,
        :data:`~phi.phiai.sharing.ONE_KERNEL`), each batch is scored by a helper thread and this
        one together (:class:`~phi.phiai.sharing.SharedScoring`), and after the first 64 trials
        each batch is proposed while the one before it is scored
        (:func:`~phi.phiai.tpe.run_pipelined`: from the trials told up to the batch before
        that one, the running batch's sets as running trials), its trials recorded while the
        next one is scored. Any other indicator's batches are scored on this thread, each told
        before the next is asked. The trials depend on the seed, ``sizes`` and the indicator
        alone.
        """
        from phi.phiai.sharing import SharedScoring
        from phi.phiai.tpe import SMALL_BATCHES_UNTIL, BatchedTPE, run_pipelined

        start = len(self.log)
        n_trials = sum(sizes)
        tpe = BatchedTPE(space, self.seed, _n_startup(n_trials), self.direction)
        seen: dict[tuple[Any, ...], TrialScores] = {}
        done = [0]

        with SharedScoring(self.evaluator, name) as scoring:

            def begin(asked: list[dict[str, Any]], busy: bool) -> tuple[list[dict[str, Any]], Any]:
                valid = [p for p in asked if space.problem(p) is None]
                new = {k: p for p in valid if (k := tuple(p.values())) not in seen}
                job = scoring.start(list(new.values()))  # cut the same way, busy or not
                return valid, (len(asked), valid, list(new), job)

            def end(handle: Any) -> tuple[int, list[dict[str, Any]]]:
                size, valid, new, job = handle
                seen.update(zip(new, scoring.finish(job), strict=True))
                return size, valid

            def record(done_batch: tuple[int, list[dict[str, Any]]]) -> tuple[Any, list[float]]:
                size, valid = done_batch  # while the next batch is scored
                recorded = []
                for p in valid:
                    s = seen[tuple(p.values())]
                    ok, why = self._feasibility(s)
                    recorded.append(_Trial("tune", name, p, s, ok, why))
                self.log.extend(recorded)
                done[0] += size
                self._progress(f"tune {name}", done[0], n_trials)
                return valid, self._objectives(recorded)

            # proposed ahead only while a second thread scores (else nothing runs meanwhile)
            lag_from = SMALL_BATCHES_UNTIL if scoring.split else n_trials + 1
            run_pipelined(tpe, sizes, begin, end, lag_from, record)
        return self.log[start:]

    def _result(self, name: str, space: SearchSpace, trials: list[_Trial]) -> TuneResult:
        folds = _fold_scores(trials)
        is_mean, oos_mean = self._means(trials, folds)
        penalty = -PENALTY if self.direction == "maximize" else PENALTY
        objectives = [  # self._objective(t) of the feasible trials
            (m if math.isfinite(m) else penalty) if t.feasible else math.nan
            for t, m in zip(trials, is_mean.tolist(), strict=True)
        ]
        best = self._best_index(objectives)
        if best < 0:
            best = self._best_index(is_mean.tolist())
        best = max(best, 0)
        bt = trials[best]
        wf, oos = self._walk_forward(trials, folds[0])
        is_score = float(is_mean[best])
        stats = self._luck_stats(bt.scores.returns, trials)
        plist = np.empty((len(trials), len(space.params)))  # one column per parameter
        for k, p in enumerate(space.params):
            plist[:, k] = [float(t.params.get(p.name, 0)) for t in trials]
        stab, neighbours = st.stability(plist, is_mean, best, space.spans)
        stats.update(
            is_score=is_score,
            oos_score=oos,
            oos_is_efficiency=st.oos_is_efficiency(oos, is_score),
            stability=stab,
            stability_neighbours=neighbours,
            n_trials=len(trials),
            feasible_trials=sum(t.feasible for t in trials),
        )
        frame = self._trial_frame(trials, is_mean, oos_mean, folds)
        holdout = self.holdout_metrics(name, bt.params)
        return TuneResult(name, dict(bt.params), is_score, oos, frame, stats, wf, holdout)


def _kept_means(trials: Sequence[_Trial], which: int) -> list[float] | None:
    """The trials' in-sample (``which`` 0) or out-of-sample (1) fold means as their scoring
    batches computed them (:attr:`TrialScores.is_mean`), or None if one lacks it."""
    got = [t.scores.oos_mean if which else t.scores.is_mean for t in trials]
    return None if any(m is None for m in got) else cast(list[float], got)


def _fold_scores(trials: Sequence[_Trial]) -> tuple[np.ndarray, np.ndarray]:
    """The trials' ``(n, folds)`` in-sample and out-of-sample fold scores."""
    return (
        np.array([t.scores.is_folds for t in trials], dtype=np.float64),
        np.array([t.scores.oos_folds for t in trials], dtype=np.float64),
    )


def _param_column(values: list[Any]) -> np.ndarray | list[Any]:
    """One parameter's values as the array pandas makes of the list (int64 for Python ints,
    float64 for floats); the list itself when the values are of mixed or other types."""
    kinds = {type(v) for v in values}
    if kinds == {int}:
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            return values
    if kinds == {float}:
        return np.array(values, dtype=np.float64)
    return values


def check_n_trials(n_trials: object) -> None:
    """:class:`ConfigError` unless ``n_trials`` is an integer from 1 to :data:`MAX_TRIALS`."""
    if (
        isinstance(n_trials, bool)
        or not isinstance(n_trials, int)
        or not 1 <= n_trials <= MAX_TRIALS
    ):
        raise ConfigError(
            f"n_trials must be an integer from 1 to {MAX_TRIALS:,}, got {shown(n_trials)}"[:200]
        )


def _check_constraints(constraints: Mapping[str, Any]) -> None:
    """:class:`ConfigError` for an unknown constraint or a value outside its range: a drawdown
    cap in [-1, 0] (a negative fraction), a minimum trade count >= 0."""
    if not isinstance(constraints, Mapping):
        raise ConfigError(
            "constraints must be a mapping like {'max_drawdown': -0.3, 'min_trades': 10}, "
            f"got {type(constraints).__name__}"
        )
    unknown = set(constraints) - set(DEFAULT_CONSTRAINTS)
    if unknown:
        raise ConfigError(
            f"unknown constraint(s) {sorted(unknown)}; valid: {', '.join(DEFAULT_CONSTRAINTS)}"
        )
    for key, value in constraints.items():
        ok = (
            not isinstance(value, bool)
            and isinstance(value, int | float)
            and math.isfinite(value)
        )
        if key == "max_drawdown" and not (ok and -1.0 <= value <= 0.0):
            raise ConfigError(
                f"constraints['max_drawdown'] must be a drawdown cap in [-1, 0] "
                f"(e.g. -0.3 for 30 %), got {shown(value)}"
            )
        if key == "min_trades" and not (ok and value >= 0):
            raise ConfigError(f"constraints['min_trades'] must be a number >= 0, got {shown(value)}")


def _pbo(trials: Sequence[_Trial], splits: int) -> float:
    """PBO (CSCV, ``splits`` blocks) of the trials' development-region returns: from the block
    sums their batches computed (:attr:`TrialScores.blocks`), else from the stacked rows."""
    parts: list[tuple[st.BlockSums, int, int]] = []
    for t in trials:
        b = t.scores.blocks
        if b is None or b[0].n_splits != splits:
            rows = np.stack([t.scores.returns for t in trials])  # one row per trial
            return st.pbo_cscv_rows(rows, splits)[0]
        sums, j = b
        if parts and parts[-1][0] is sums and parts[-1][2] == j:
            parts[-1] = (sums, parts[-1][1], j + 1)
        else:
            parts.append((sums, j, j + 1))
    return st.pbo_cscv_sums(parts)[0]


#: Signal values (candidates x bars) up to which a random or grid study is one batch.
ONE_BATCH_CELLS = 2_000_000


def _sweep_batch(n_points: int, n_bars: int) -> int:
    """Batch size of an in-memory random or grid study: all points at once while their signals
    stay under :data:`ONE_BATCH_CELLS` values (one engine call; big arrays the system backs with
    huge pages), else 256. Nothing learns between batches, so the trials and their scores are
    the same for any size (tested)."""
    return max(1, n_points) if n_points * n_bars <= ONE_BATCH_CELLS else 256


def _n_startup(n_trials: int) -> int:
    """Random trials before TPE models the results."""
    return min(10, max(1, n_trials // 4))


def _sort_key(value: float, direction: str) -> float:
    if not math.isfinite(value):
        return math.inf
    return -value if direction == "maximize" else value


from phi.phiai.auto import blended_holdout, load_bars, phiai_full_auto  # noqa: E402 - re-exported (auto imports this module)
