"""Storage roots. ``PHI_HOME`` moves both the data cache and the run history."""

from __future__ import annotations

import os
from pathlib import Path


def phi_home() -> Path:
    """The root under which ``data_cache/`` and ``runs/`` live (``$PHI_HOME`` or the cwd)."""
    home = os.environ.get("PHI_HOME")
    return Path(home).expanduser() if home else Path.cwd()


def cache_root() -> Path:
    """Directory of the dataset cache: ``$PHI_HOME/data_cache``."""
    return phi_home() / "data_cache"


def runs_root() -> Path:
    """Directory of the run history: ``$PHI_HOME/runs``."""
    return phi_home() / "runs"
