"""Real end-of-day option chains from a user's CSV: loading, contract choice, quote series.

A chain CSV has one row per quote: ``date, expiry, strike, kind, bid, ask`` and optionally
``iv``, ``delta``, ``gamma``, ``vega``, ``theta``, ``open_interest``, ``underlying`` (the
underlying's price that day). ``kind`` is ``call``/
``put`` (or ``c``/``p``); dates are days (``2024-01-31``). A blank bid or ask is a missing
quote: it is reported where it is needed, never filled in.

>>> chain = load_chain("chain.csv")  # doctest: +SKIP
>>> chain.expiries_on(pd.Timestamp("2024-01-02", tz="UTC"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from phi.data.dates import EARLIEST as _FIRST_DAY
from phi.data.dates import LATEST as _LAST_DAY
from phi.errors import DataError

__all__ = ["CHAIN_COLUMNS", "OPTIONAL_COLUMNS", "OptionChain", "load_chain"]

CHAIN_COLUMNS: Final = ("date", "expiry", "strike", "kind", "bid", "ask")
OPTIONAL_COLUMNS: Final = ("iv", "delta", "gamma", "vega", "theta", "open_interest", "underlying")
_KINDS: Final = {"call": "call", "c": "call", "put": "put", "p": "put"}


@dataclass(frozen=True)
class OptionChain:
    """Quotes indexed by ``(expiry, strike, kind)`` contract, one row per date.

    Attributes
    ----------
    quotes : DataFrame
        Columns ``date, expiry, strike, kind, bid, ask`` (+ any optional ones); dates UTC
        midnight; sorted by contract and date.
    path : str
        Where it was read from.
    fingerprint : str
        SHA-256 of the file's bytes (recorded in the assumption ledger).
    """

    quotes: pd.DataFrame
    path: str
    fingerprint: str
    _by_contract: dict[tuple[pd.Timestamp, float, str], pd.DataFrame] = field(
        default_factory=dict, repr=False, compare=False
    )

    def listed_on(self, day: pd.Timestamp) -> pd.DataFrame:
        """The rows quoted (listed) on ``day`` (missing bid/ask included: the strike is listed)."""
        return self.quotes[self.quotes["date"] == day]

    def series(self, expiry: pd.Timestamp, strike: float, kind: str, days: pd.DatetimeIndex) -> pd.DataFrame:
        """One contract's quotes on ``days`` (NaN rows where it has no quote that day)."""
        key = (expiry, float(strike), kind)
        if not self._by_contract:
            for k, g in self.quotes.groupby(["expiry", "strike", "kind"], sort=False):
                self._by_contract[(k[0], float(k[1]), str(k[2]))] = g.set_index("date")
        g = self._by_contract.get(key)
        cols = [c for c in self.quotes.columns if c not in ("date", "expiry", "strike", "kind")]
        if g is None:
            return pd.DataFrame(np.nan, index=days, columns=cols)
        return g[cols].reindex(days)


def _fail(path: str, msg: str) -> DataError:
    return DataError(f"option chain {path}: {msg}")


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


#: ``2024-01-31`` at the start of a stamp (a time or an offset may follow)
_ISO_DAY: Final = r"^\s*\d{4}-\d{2}-\d{2}"


def _days(values: pd.Series, col: str, path: str) -> pd.Series:
    """Quote dates and expiries as days (UTC midnight). An ISO stamp's own date is its day, a
    time or offset after it aside (``2024-01-03T16:00-05:00`` is a quote of 2024-01-03, not of
    the UTC date 2024-01-03 21:00 falls on); other spellings must all share one format."""
    text = values.astype("string")
    if bool(text.str.match(_ISO_DAY).fillna(False).all()):
        parsed = pd.to_datetime(text.str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
        why = "is not a date"
    else:
        parsed = pd.to_datetime(values, errors="coerce")
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_localize(None)
        why = f"is not a date in the format of row 2 ({values.iloc[0]!r})"
    bad = parsed.isna() | ~((parsed >= _FIRST_DAY) & (parsed <= _LAST_DAY))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        if not pd.isna(parsed.iloc[i]):
            why = f"is outside the supported dates {_FIRST_DAY:%Y-%m-%d} .. {_LAST_DAY:%Y-%m-%d}"
        raise _fail(path, f"row {i + 2}: {col} {values.iloc[i]!r} {why} (use YYYY-MM-DD)")
    return parsed.dt.tz_localize("UTC")


def load_chain(path: str | Path) -> OptionChain:
    """Read and check an end-of-day option-chain CSV (one-line :class:`DataError` if unusable).

    Checks: the six required columns, each once (any case); dates and expiries parse as days
    in 1800..2200 (an ISO stamp's own date, whatever time or offset follows), ``expiry >=
    date``; ``kind`` is call/put; strikes > 0; bid and ask (where given) >= 0 with ``bid <=
    ask``; ``|delta| <= 1``, ``gamma`` and ``vega`` >= 0; one row per ``(date, expiry, strike, kind)``.
    """
    p = str(path)
    try:
        st = os.stat(p)  # never blocks: a FIFO or a device is refused before it is opened
        if not stat.S_ISREG(st.st_mode):
            raise _fail(p, f"is {_file_kind(st.st_mode)}, not a regular file")
        raw = Path(p).read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise _fail(p, f"cannot read it ({reason})") from None
    import io

    if b"\x00" in raw:
        raise _fail(p, "holds NUL bytes: a binary file, not CSV text")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(p, f"is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    try:
        header = raw.split(b"\n", 1)[0].decode("utf-8")
        sep = max((",", ";", "\t", "|"), key=header.count)  # spreadsheets in many locales write ';'
        df = pd.read_csv(io.BytesIO(raw), sep=sep, skipinitialspace=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(p, f"not a readable CSV ({str(exc).splitlines()[0][:200]})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    twice = df.columns[df.columns.duplicated()]
    if len(twice):
        raise _fail(p, f"two columns are named {twice[0]!r} (any case); keep one of them")
    missing = [c for c in CHAIN_COLUMNS if c not in df.columns]
    if missing:
        raise _fail(p, f"no column {missing[0]!r} (needs {', '.join(CHAIN_COLUMNS)})")
    if df.empty:
        raise _fail(p, "has no rows")
    df = df[[c for c in (*CHAIN_COLUMNS, *OPTIONAL_COLUMNS) if c in df.columns]].copy()
    for col in ("date", "expiry"):
        df[col] = _days(df[col], col, p)
    kinds = df["kind"].astype(str).str.strip().str.lower().map(_KINDS)
    if kinds.isna().any():
        i = int(np.flatnonzero(kinds.isna().to_numpy())[0])
        raise _fail(p, f"row {i + 2}: kind {df['kind'].iloc[i]!r} is not call or put")
    df["kind"] = kinds
    numeric = ["strike", "bid", "ask", *[c for c in OPTIONAL_COLUMNS if c in df.columns]]
    for col in numeric:
        num = pd.to_numeric(df[col], errors="coerce")
        bad = num.isna() & df[col].notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _fail(p, f"row {i + 2}: {col} {df[col].iloc[i]!r} is not a number")
        df[col] = num.astype(np.float64)
    checks = (
        (~(df["strike"] > 0), "strike must be > 0"),
        (df["expiry"] < df["date"], "expiry is before the quote's date"),
        (np.isinf(df[numeric]).any(axis=1), "numbers must be finite (an empty cell is a missing value)"),
        (df["bid"] < 0, "bid must be >= 0"),
        (df["ask"] < 0, "ask must be >= 0"),
        (df["bid"] > df["ask"], "bid is above ask"),
        *((df[c] < 0, f"{c} must be >= 0") for c in ("open_interest", "iv") if c in df.columns),
        *((~(df[c] > 0) & df[c].notna(), f"{c} must be > 0") for c in ("underlying",) if c in df.columns),
        *((df[c] < 0, f"{c} must be >= 0 (a bought option's {c} is never negative)") for c in ("gamma", "vega") if c in df.columns),
        *((df[c].abs() > 1, f"{c} must be in [-1, 1]") for c in ("delta",) if c in df.columns),
    )
    for bad, what in checks:
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _fail(p, f"row {i + 2}: {what}")
    dup = df.duplicated(["date", "expiry", "strike", "kind"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise _fail(p, f"row {i + 2}: a second quote for the same date, expiry, strike and kind")
    df = df.sort_values(["expiry", "strike", "kind", "date"], kind="stable").reset_index(drop=True)
    return OptionChain(df, p, hashlib.sha256(raw).hexdigest())


def choose_expiry(listed: pd.DataFrame, day: pd.Timestamp, dte: int) -> pd.Timestamp | None:
    """The listed expiry after ``day`` whose calendar days to expiry are nearest ``dte``
    (the later one on a tie); ``None`` if none is listed."""
    exps = pd.DatetimeIndex(listed["expiry"].unique()).sort_values()
    exps = exps[exps > day]
    if len(exps) == 0:
        return None
    gap = np.abs((exps - day).days.to_numpy() - dte)
    return exps[len(gap) - 1 - int(np.argmin(gap[::-1]))]


def choose_strike(strikes: np.ndarray, target: float) -> float:
    """The listed strike nearest ``target`` (the lower one on a tie)."""
    s = np.sort(np.asarray(strikes, dtype=np.float64))
    return float(s[int(np.argmin(np.abs(s - target)))])
