"""Plutus's trade journal, kept in **simulated** time: every entry is dated with the bar it was
decided on (never the wall clock), and every decision — BUY, SELL and HOLD — gets its outcome.

The outcome of a decision is the close-to-close move from its bar to the next decision's bar,
filled in when that next decision is recorded (so at any bar the journal holds only outcomes
already known then). A BUY is right when that move is up, a SELL when it is down; a flat move
is wrong and HOLD is no call (the seed dashboard's scoring).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from phi.errors import ConfigError, DataError

__all__ = ["JournalEntry", "TradeJournal"]


@dataclass
class JournalEntry:
    """One decision: the bar's timestamp, the call, and (once known) its outcome."""

    date: pd.Timestamp
    signal: str
    confidence: float
    price: float
    outcome: float | None = None

    @property
    def correct(self) -> bool | None:
        """True/False for a BUY/SELL with a known outcome; None for HOLD or no outcome yet."""
        if self.signal == "HOLD" or self.outcome is None:
            return None
        return self.outcome > 0 if self.signal == "BUY" else self.outcome < 0


def _fmt_date(ts: pd.Timestamp) -> str:
    return f"{ts:%Y-%m-%d}" if ts == ts.normalize() else f"{ts:%Y-%m-%d %H:%M}"


class TradeJournal:
    """Every decision in bar order; the prompt shows the last ``max_entries`` (see the module doc).

    >>> j = TradeJournal()
    >>> j.record(pd.Timestamp("2024-01-02", tz="UTC"), "BUY", 0.7, 100.0)
    >>> j.record(pd.Timestamp("2024-01-03", tz="UTC"), "HOLD", 0.2, 101.0)
    >>> j.entries[0].outcome, j.entries[0].correct
    (0.01, True)
    """

    def __init__(self, max_entries: int = 20) -> None:
        if not (isinstance(max_entries, int) and max_entries >= 1):
            raise ConfigError(f"journal size must be an integer >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._entries: list[JournalEntry] = []
        self._right = 0
        self._scored = 0

    @property
    def entries(self) -> list[JournalEntry]:
        """Every decision recorded, oldest first."""
        return list(self._entries)

    @property
    def recent(self) -> list[JournalEntry]:
        """The last ``max_entries`` decisions (what the prompt shows)."""
        return self._entries[-self.max_entries :]

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, date: Any, signal: str, confidence: float, price: float) -> None:
        """Add the decision taken on the bar stamped ``date`` at close ``price``; the previous
        decision's outcome becomes known now. Dates must move forward."""
        ts = pd.Timestamp(date)
        if signal not in ("BUY", "SELL", "HOLD"):
            raise ConfigError(f"journal signal must be BUY, SELL or HOLD, got {signal!r}")
        if not (math.isfinite(price) and price > 0):
            raise DataError(f"journal price must be a positive number, got {price!r} on {ts}")
        if self._entries:
            last = self._entries[-1]
            if ts <= last.date:
                raise DataError(f"journal dates must move forward: {ts} is not after {last.date}")
            last.outcome = price / last.price - 1.0
            if last.correct is not None:
                self._scored += 1
                self._right += int(last.correct)
        self._entries.append(JournalEntry(ts, signal, float(confidence), float(price)))

    def hit_rate(self) -> tuple[int, int]:
        """(right, scored) over every BUY/SELL whose outcome is known."""
        return self._right, self._scored

    def brief(self) -> str:
        """The journal as the prompt shows it."""
        if not self._entries:
            return "Trade journal: no decisions yet."
        shown = self.recent
        lines = [
            f"Trade journal (last {len(shown)} decisions, dated by bar; "
            "outcome = close-to-close move to the next decision):"
        ]
        for e in shown:
            line = f"{_fmt_date(e.date)} {e.signal} conf {e.confidence:.2f} at {e.price:.2f}"
            if e.outcome is None:
                line += " -> pending"
            else:
                verdict = {True: " (right)", False: " (wrong)", None: ""}[e.correct]
                line += f" -> {e.outcome:+.2%}{verdict}"
            lines.append(line)
        right, scored = self.hit_rate()
        lines.append(f"Hit rate of BUY/SELL calls: {right}/{scored}" + (f" ({right / scored:.0%})" if scored else ""))
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Every decision as a table (date, signal, confidence, price, outcome, correct)."""
        rows = [{**asdict(e), "correct": e.correct} for e in self._entries]
        return pd.DataFrame(rows, columns=["date", "signal", "confidence", "price", "outcome", "correct"])
