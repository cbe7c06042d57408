"""Optuna study storages for shared studies: bounded waits and one-line, password-free errors.

A ``postgresql://`` server that does not answer would otherwise keep ``phi tune`` waiting
forever (libpq has no connect timeout by default), and a driver error would show the URL with
its password. :func:`study_storage` opens the storage with the run index's timeouts
(:data:`~phi.backtest.run_index.INDEX_TIMEOUT_S`); :func:`storage_error` says what went wrong
in one line, the URL's password masked. :func:`fail_untold` tells the trials a study cut off
mid-batch had asked as failed, so that a stored study keeps none of them "running".
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from phi.errors import ConfigError

if TYPE_CHECKING:
    import optuna

__all__ = ["fail_untold", "no_server", "shown_storage", "storage_error", "study_storage"]


def study_storage(url: str) -> optuna.storages.RDBStorage:
    """``RDBStorage(url)`` whose connections give up after ``INDEX_TIMEOUT_S``: PostgreSQL's
    connect timeout, SQLite's busy timeout (another process writing the same study)."""
    import optuna
    from sqlalchemy.engine import make_url

    from phi.backtest.run_index import INDEX_TIMEOUT_S

    backend = make_url(url).get_backend_name()
    connect: dict[str, Any] = {}
    if backend == "postgresql":
        connect = {"connect_timeout": max(1, math.ceil(INDEX_TIMEOUT_S))}
    elif backend == "sqlite":
        connect = {"timeout": INDEX_TIMEOUT_S}
    return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": connect, "pool_pre_ping": True} if connect else None)


def shown_storage(storage: str) -> str:
    """A storage as messages show it: a URL without its password, anything else as given."""
    from phi.backtest.run_index import _shown

    return _shown(storage) if "://" in storage else storage


def storage_error(exc: BaseException, storage: str, doing: str) -> ConfigError:
    """One line for a storage that failed while ``doing`` (e.g. ``"cannot be used"``): the
    database's own first line (Optuna's wrapper unwrapped), the password masked."""
    from phi.backtest.run_index import _reason

    cause = exc.__cause__ if type(exc).__name__ == "StorageInternalError" and exc.__cause__ else exc
    why = _reason(cause, storage if "://" in storage else None)
    return ConfigError(f"the study storage {shown_storage(storage)} {doing}: {why}")


def no_server(exc: BaseException) -> bool:
    """Whether ``exc`` is a PostgreSQL server that could not be reached or logged into (refused,
    no answer, unknown host, database or user, bad password): waiting and retrying cannot help."""
    orig = getattr(exc.__cause__ or exc, "orig", None) or getattr(exc, "orig", None)
    return type(orig).__module__.startswith("psycopg") and getattr(orig, "sqlstate", "") is None


def fail_untold(study: optuna.Study, trials: list[optuna.trial.Trial]) -> None:
    """Tell each of ``trials`` (asked, not yet told) as FAIL and empty the list. Best effort,
    for a study being cut off (Ctrl-C, a failed batch, a storage error): the first tell that
    fails (the storage is gone) ends it, so the error that cut the study off is the one raised."""
    import optuna

    while trials:
        try:
            study.tell(trials[0], state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
        except Exception:  # noqa: BLE001 - the storage itself failed: nothing more can be told
            break
        del trials[0]
    trials.clear()
