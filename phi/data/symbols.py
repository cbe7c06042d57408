"""Ticker symbols: what is allowed before a symbol may become part of a file path."""

from __future__ import annotations

import re

from phi.errors import SymbolError

_ALLOWED = re.compile(r"[A-Za-z0-9.\-^=_]")
MAX_SYMBOL_LENGTH = 32


def validate_symbol(symbol: str) -> str:
    """Return ``symbol`` upper-cased if it is a safe ticker, else raise :class:`SymbolError`.

    Allowed: letters, digits and ``. - ^ = _`` as real tickers use them (``BRK-B``, ``^GSPC``,
    ``EURUSD=X``, ``BF.B``), 1 to 32 characters, not starting with ``.`` and without ``..``,
    so a symbol can never name a path outside its cache directory.
    """
    if not isinstance(symbol, str):
        raise SymbolError(f"symbol must be a string, got {type(symbol).__name__}")
    sym = symbol.strip()
    if not sym:
        raise SymbolError("symbol is empty")
    if len(sym) > MAX_SYMBOL_LENGTH:
        raise SymbolError(f"symbol {sym[:40]!r} is longer than {MAX_SYMBOL_LENGTH} characters")
    bad = sorted({ch for ch in sym if not _ALLOWED.fullmatch(ch)})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        raise SymbolError(
            f"symbol {sym!r} contains {shown}; only letters, digits and . - ^ = _ are allowed"
        )
    if sym.startswith(".") or ".." in sym:
        raise SymbolError(f"symbol {sym!r} may not start with '.' or contain '..'")
    return sym.upper()
