"""Level-2 quote features from a Polygon-style websocket stream (quotes ``Q.*`` and trades ``T.*``).

:class:`L2Book` keeps the NBBO of each symbol (one level: best bid and ask with their sizes)
and the recent trades, and computes the seed's features (REFERENCE §3.5):

* ``book_imbalance`` = bid size / (bid size + ask size), in [0, 1];
* ``spread_bps`` = (ask - bid) / mid * 10 000;
* ``ofi`` = mean / std (population) of the last ``trade_window`` signed trade sizes, clipped
  to [-5, 5]. A trade is signed against the mid of the NBBO at that moment: above the mid a
  buy (+size), below a sell (-size); at the mid, or before any quote, by the tick rule (up from
  the previous trade +, down -, unchanged: the previous sign). NaN with fewer than 2 trades; a
  one-sided flow with no spread in size (std 0) is +-5;
* ``depth_ratio`` = NBBO depth (bid + ask size) / its mean over the last ``depth_window``
  quotes (this one included), clipped to [0, 10];
* ``depth_trend`` = least-squares slope of that depth per quote update over the same window
  (shares per update); NaN with fewer than 2 quotes.

A feature that cannot be computed is NaN, never 0. :class:`PolygonL2Client` runs the stream in
a background thread: connect, authenticate with ``$POLYGON_API_KEY`` (read when connecting, never
kept on the object, never shown), subscribe, feed every message to the book, and reconnect
after a disconnect (bounded). A malformed message is counted and skipped. Without a key or a
server it says so in one line (:class:`L2Unavailable`).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from phi.errors import PhiError

__all__ = ["DEFAULT_URL", "FEATURES", "L2Book", "L2Unavailable", "PolygonL2Client", "scanner_source"]

DEFAULT_URL: Final = "wss://socket.polygon.io/stocks"
FEATURES: Final = ("book_imbalance", "spread_bps", "ofi", "depth_ratio", "depth_trend")
KEY_ENV: Final = "POLYGON_API_KEY"
OFI_CLIP: Final = 5.0
DEPTH_CLIP: Final = 10.0


class L2Unavailable(PhiError):
    """No level-2 source: no API key, no server, or the server refused the key."""


def _num(ev: Mapping[str, Any], key: str) -> float | None:
    """A finite number field of an event, else None."""
    x = ev.get(key)
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x):
        return float(x)
    return None


@dataclass
class _Symbol:
    bid: float = math.nan
    ask: float = math.nan
    bid_size: float = math.nan
    ask_size: float = math.nan
    depths: deque[float] = field(default_factory=deque)
    signed: deque[float] = field(default_factory=deque)
    last_price: float = math.nan
    last_sign: float = 0.0
    quotes: int = 0
    trades: int = 0


class L2Book:
    """NBBO and recent trades per symbol, fed message by message (see the module doc).

    Parameters
    ----------
    trade_window
        Signed trades kept for ``ofi`` (default 200, the seed's).
    depth_window
        Quote updates kept for ``depth_ratio`` and ``depth_trend`` (default 100).
    """

    def __init__(self, trade_window: int = 200, depth_window: int = 100) -> None:
        self.trade_window = int(trade_window)
        self.depth_window = int(depth_window)
        self._symbols: dict[str, _Symbol] = {}
        self._lock = threading.Lock()
        self.messages = 0
        self.malformed: list[str] = []
        self.statuses: list[dict[str, Any]] = []

    def _sym(self, name: str) -> _Symbol:
        s = self._symbols.get(name)
        if s is None:
            s = self._symbols[name] = _Symbol(depths=deque(maxlen=self.depth_window), signed=deque(maxlen=self.trade_window))
        return s

    def _bad(self, why: str) -> None:
        if len(self.malformed) < 100:
            self.malformed.append(why)

    def on_message(self, text: str | bytes) -> None:
        """Apply one websocket message (a JSON array of events, or one event)."""
        with self._lock:
            self.messages += 1
            try:
                events = json.loads(text)
            except (ValueError, TypeError) as exc:
                self._bad(f"not JSON: {str(exc)[:80]}")
                return
            for ev in events if isinstance(events, list) else [events]:
                self._event(ev)

    def _event(self, ev: Any) -> None:
        if not isinstance(ev, dict):
            self._bad(f"event is not an object: {str(ev)[:60]}")
            return
        kind, sym = ev.get("ev"), ev.get("sym")
        if kind == "status":
            self.statuses.append(ev)
            return
        if kind not in ("Q", "T") or not isinstance(sym, str) or not sym:
            self._bad(f"unknown event {str(ev)[:60]}")
            return
        if kind == "Q":
            bp, bs, ap, asz = (_num(ev, k) for k in ("bp", "bs", "ap", "as"))
            if bp is None or bs is None or ap is None or asz is None or bp <= 0 or ap < bp or bs < 0 or asz < 0:
                self._bad(f"bad quote {str(ev)[:60]}")
                return
            s = self._sym(sym)
            s.bid, s.bid_size, s.ask, s.ask_size = bp, bs, ap, asz
            s.depths.append(bs + asz)
            s.quotes += 1
        else:
            p, size = _num(ev, "p"), _num(ev, "s")
            if p is None or size is None or p <= 0 or size <= 0:
                self._bad(f"bad trade {str(ev)[:60]}")
                return
            s = self._sym(sym)
            mid = (s.bid + s.ask) / 2.0
            if math.isfinite(mid) and p > mid:
                sign = 1.0
            elif math.isfinite(mid) and p < mid:
                sign = -1.0
            elif math.isfinite(s.last_price) and p != s.last_price:  # at the mid: tick rule
                sign = 1.0 if p > s.last_price else -1.0
            else:
                sign = s.last_sign
            s.last_price, s.last_sign = p, sign
            s.signed.append(sign * size)
            s.trades += 1

    def symbols(self) -> list[str]:
        with self._lock:
            return sorted(self._symbols)

    def features(self, symbol: str) -> dict[str, float] | None:
        """The five features of ``symbol`` now; None before its first quote."""
        with self._lock:
            s = self._symbols.get(symbol)
            if s is None or s.quotes == 0:
                return None
            depth = s.bid_size + s.ask_size
            mid = (s.bid + s.ask) / 2.0
            out = {
                "book_imbalance": s.bid_size / depth if depth > 0 else math.nan,
                "spread_bps": (s.ask - s.bid) / mid * 1e4,
                "ofi": _ofi(np.fromiter(s.signed, dtype=np.float64)),
                "depth_ratio": math.nan,
                "depth_trend": math.nan,
            }
            d = np.fromiter(s.depths, dtype=np.float64)
            mean = float(d.mean())
            if mean > 0:
                out["depth_ratio"] = min(max(depth / mean, 0.0), DEPTH_CLIP)
            if len(d) >= 2:
                x = np.arange(len(d), dtype=np.float64)
                x -= x.mean()
                out["depth_trend"] = float(np.dot(x, d - mean) / np.dot(x, x))
            return out


def _ofi(signed: np.ndarray) -> float:
    if len(signed) < 2:
        return math.nan
    mean, std = float(signed.mean()), float(signed.std())
    if std == 0.0:
        return math.copysign(OFI_CLIP, mean) if mean != 0 else 0.0
    return min(max(mean / std, -OFI_CLIP), OFI_CLIP)


class PolygonL2Client:
    """The quote/trade stream of ``symbols`` in a background thread, kept in :attr:`book`.

    Parameters
    ----------
    symbols
        Tickers to subscribe to (``Q.SYM`` and ``T.SYM``).
    url
        Websocket address (default Polygon's stocks cluster).
    max_reconnects
        Reconnections after a disconnect before giving up.
    open_timeout
        Seconds to wait for the connection and the authentication.

    Raises
    ------
    L2Unavailable
        From :meth:`start` when ``$POLYGON_API_KEY`` is not set.
    """

    def __init__(self, symbols: Iterable[str], url: str = DEFAULT_URL, *, max_reconnects: int = 3,
                 open_timeout: float = 5.0, book: L2Book | None = None) -> None:  # fmt: skip
        self.symbols = [str(s).upper() for s in symbols]
        self.url = url
        self.max_reconnects = max_reconnects
        self.open_timeout = open_timeout
        self.book = book or L2Book()
        self.connections = 0
        self.status = "not started"
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._authed = threading.Event()

    def start(self) -> PolygonL2Client:
        """Start the background thread (returns at once)."""
        if not os.environ.get(KEY_ENV, "").strip():
            raise L2Unavailable(f"{KEY_ENV} is not set; level-2 features are unavailable")
        self._thread = threading.Thread(target=self._run, name="phi-l2", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as exc:  # noqa: BLE001 - reported in .error, never raised in the thread
            self.error = f"{type(exc).__name__}: {exc}"
            self.status = "stopped"

    async def _main(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

        attempts = 0
        while not self._stop.is_set():
            try:
                async with connect(self.url, open_timeout=self.open_timeout, max_size=2**22) as ws:
                    self.connections += 1
                    await self._handshake(ws)
                    self.status = "connected"
                    while not self._stop.is_set():
                        try:  # poll the stop flag 5 times a second (cancelling recv() is safe)
                            raw = await asyncio.wait_for(ws.recv(), 0.2)
                        except TimeoutError:
                            continue
                        self.book.on_message(raw)
            except L2Unavailable as exc:
                self.error, self.status = str(exc), "stopped"
                self._authed.set()
                return
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ConnectionClosed) as exc:
                if self._stop.is_set():
                    break
                if self.connections == 0:  # never connected: nothing to reconnect to
                    self.error = f"no quote stream at {self.url} ({_reason(exc)})"
                    self.status = "stopped"
                    self._authed.set()
                    return
                self.status = f"disconnected ({_reason(exc)}); reconnecting"
            if self._stop.is_set():
                break
            attempts += 1
            if attempts > self.max_reconnects:
                self.error = f"the quote stream at {self.url} dropped {attempts} times; gave up"
                self.status = "stopped"
                return
            self.status = f"reconnecting ({attempts}/{self.max_reconnects})"
            await asyncio.sleep(min(0.1 * 2 ** (attempts - 1), 5.0))
        self.status = "stopped"

    async def _handshake(self, ws: Any) -> None:
        """Authenticate (key read here, sent once, not kept) and subscribe."""
        await ws.send(json.dumps({"action": "auth", "params": os.environ.get(KEY_ENV, "")}))
        deadline = time.monotonic() + self.open_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise L2Unavailable(f"the quote stream at {self.url} did not confirm the login")
            raw = await asyncio.wait_for(ws.recv(), remaining)
            try:
                events = json.loads(raw)
            except ValueError:
                self.book.on_message(raw)  # counted as malformed
                continue
            states = [e.get("status") for e in (events if isinstance(events, list) else [events]) if isinstance(e, dict)]
            if "auth_failed" in states:
                raise L2Unavailable(f"the quote stream at {self.url} refused {KEY_ENV} (auth_failed)")
            if "auth_success" in states:
                break
        params = ",".join(f"{k}.{s}" for s in self.symbols for k in ("Q", "T"))
        await ws.send(json.dumps({"action": "subscribe", "params": params}))
        self._authed.set()

    def wait_connected(self, timeout: float = 5.0) -> bool:
        """True once logged in and subscribed (False on failure or timeout; see :attr:`error`)."""
        return self._authed.wait(timeout) and self.error is None

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and end the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def features(self, symbol: str) -> dict[str, float] | None:
        return self.book.features(symbol.upper())


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]


def scanner_source(symbols: Iterable[str], *, url: str | None = None, wait: float = 3.0) -> tuple[Any, str]:
    """For the scanner: listen to the stream for ``wait`` seconds and return (a lookup of the
    features per symbol, or None; one status line)."""
    names = [str(s).upper() for s in symbols]
    if not os.environ.get(KEY_ENV, "").strip():
        return None, f"L2 quotes: unavailable - {KEY_ENV} is not set"
    client = PolygonL2Client(names, url or os.environ.get("PHI_L2_URL") or DEFAULT_URL)
    try:
        client.start()
        if not client.wait_connected(wait):
            return None, f"L2 quotes: unavailable - {client.error or f'no login confirmed within {wait:g} s'}"
        time.sleep(wait)
        snapshot: Mapping[str, dict[str, float] | None] = {s: client.features(s) for s in names}
    finally:
        client.stop()
    have = sum(v is not None for v in snapshot.values())
    return snapshot.get, f"L2 quotes: {client.url}, {have} of {len(names)} symbols quoted in {wait:g} s"
