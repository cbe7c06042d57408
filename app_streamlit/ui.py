"""Small page helpers shared by the views: calling phi safely, headers, ribbons, charts.

:func:`attempt` is how every view calls phi: a :class:`~phi.errors.PhiError` becomes an
``st.error`` with phi's one-line message, warnings become ``st.warning``, and an unexpected
exception becomes an ``st.error`` naming it (logged with its traceback) — never a traceback in
the page, and never a lost form.
"""

from __future__ import annotations

import html
import logging
import math
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import streamlit as st

from app_streamlit.charts import Chart

T = TypeVar("T")
log = logging.getLogger("phi.workbench")


class Failed:
    """Marker returned by :func:`attempt` when the call failed (the error is already shown)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __bool__(self) -> bool:
        return False


def error_text(exc: BaseException) -> str:
    """The message to show for ``exc``: phi's own message for a PhiError, else its type too."""
    from phi.errors import PhiError

    if isinstance(exc, PhiError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


#: Vendors that need the network, by the name people know them by.
VENDOR_NAMES = {"yfinance": "Yahoo Finance", "alpha_vantage": "Alpha Vantage"}
_NETWORK_SIGNS = (
    "could not resolve", "failed to connect", "could not connect", "connection refused", "timed out",
    "name or service not known", "temporary failure in name resolution", "network is unreachable",
    "max retries exceeded", "connectionerror", "curl: (",
)  # fmt: skip


def vendor_error_text(exc: BaseException, vendor: str) -> str:
    """The message for a failed fetch, in words a user can act on: a network failure of a
    vendor becomes "Could not reach Yahoo Finance — no network?" (the technical reason after it)."""
    text = error_text(exc)
    low = text.lower()
    name = VENDOR_NAMES.get(vendor)
    if name and any(sign in low for sign in _NETWORK_SIGNS):
        reason = text.split("curl:", 1)[-1].split(". See https", 1)[0].strip(" :.") if "curl:" in text else text
        reason = re.sub(r"^\(\d+\)\s*", "", reason)
        return f"Could not reach {name} — no network? Check the connection (or proxy) and fetch again. Details: {reason[:160]}."
    return text


def count(n: int, noun: str) -> str:
    """``"1 bar"``, ``"1,305 bars"``: a count with its noun in the right number."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


_MD_INLINE = re.compile(r"([\\`*_\[\]<~$:&])")
_MD_BLOCK = re.compile(r"^([#>+\-=]|\d+(?=[.)]))")
_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)


def md_text(text: object) -> str:
    """``text`` shown literally by ``st.markdown`` / ``st.warning``, on one line (runs of white
    space, line breaks included, are one space): the punctuation that starts Markdown inline
    (emphasis, code, links and images, HTML, entities) or Streamlit's own (``:red[..]``,
    ``:material/x:``, ``$..$``) is backslash-escaped, and so is a leading heading, quote or
    list marker, so a model's or a file's words never become an image, a link or a heading."""
    line = _MD_INLINE.sub(r"\\\1", " ".join(str(text).split()))
    line = _WWW.sub(r"\1\\.", line)  # GFM links a bare www.host
    return _MD_BLOCK.sub(lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), line, count=1)


def sentence(text: str) -> str:
    """``text`` ending in a full stop (or its own ``.``, ``!`` or ``?``), so another
    sentence can follow it: phi's one-line messages carry no final full stop."""
    text = text.rstrip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def show_error(exc: BaseException, prefix: str = "") -> None:
    """``st.error`` for ``exc`` (unexpected exceptions are also logged with their traceback)."""
    from phi.errors import PhiError

    if not isinstance(exc, PhiError):
        log.error("workbench: unexpected error", exc_info=exc)
    st.error(f"{prefix}{error_text(exc)}", icon=":material/error:")


def show_warnings(messages: Iterable[str]) -> None:
    for msg in dict.fromkeys(messages):  # unique, in order
        st.warning(msg, icon=":material/warning:")


def attempt(fn: Callable[..., T], *args: Any, prefix: str = "", quiet: bool = False, **kwargs: Any) -> T | Failed:
    """Call ``fn``; show its warnings (unless ``quiet``: a look-up whose warnings another part of
    the page gives), and its error instead of raising (returns :class:`Failed`)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(*args, **kwargs)
        except Exception as exc:
            if not quiet:
                show_warnings(str(w.message) for w in caught if issubclass(w.category, UserWarning))
            show_error(exc, prefix)
            return Failed(exc)
    if not quiet:
        show_warnings(str(w.message) for w in caught if issubclass(w.category, UserWarning))
    return out


def step_header(number: int | str, title: str) -> None:
    """A numbered step title (Step 1 — Dataset, ...)."""
    st.html(f'<div class="phi-step"><span>Step {html.escape(str(number))}</span>{html.escape(title)}</div>')


def fmt_value(value: Any, kind: str = "num") -> str:
    """Format a metric for people: ``pct`` (signed percent), ``rate`` (percent), ``money``,
    ``int`` or ``num``; NaN/inf as text."""
    if value is None:
        return "–"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if kind == "pct":
        return f"{x:+.2%}"
    if kind == "rate":
        return f"{x:.2%}"
    if kind == "money":
        return f"{x:,.2f}"
    if kind == "int":
        return f"{x:,.0f}"
    return f"{x:,.3f}"


#: A :func:`ribbon` card's sign for a warning (amber): works, with a limitation.
WARN = 2


def ribbon(cards: Sequence[tuple[str, str, int] | tuple[str, str, int, str]]) -> None:
    """A row of value cards ``(label, text, sign)`` or ``(label, text, sign, note)``; sign
    :data:`WARN` amber, else > 0 green, < 0 red; a note is a small second line under the value."""
    parts = []
    for label, text, sign, *note in cards:
        cls = "phi-warn" if sign == WARN else "phi-pos" if sign > 0 else "phi-neg" if sign < 0 else ""
        sub = "".join(f'<div class="n">{html.escape(n)}</div>' for n in note)
        parts.append(
            f'<div class="phi-card"><div class="k">{html.escape(label)}</div>'
            f'<div class="v {cls}">{html.escape(text)}</div>{sub}</div>'
        )
    st.html(f'<div class="phi-ribbon">{"".join(parts)}</div>')


def show_chart(chart: Chart, key: str) -> None:
    """Draw a :class:`~app_streamlit.charts.Chart` (its own dark layout) and state any thinning."""
    st.plotly_chart(chart.figure, key=key, theme=None, config={"displaylogo": False})
    if chart.thinned:
        st.caption(f"Display only{chart.note}.")


def section_open(label: str) -> bool:
    """True when the Workbench section ``label`` is the one on screen: hidden sections keep
    their widgets (nothing typed is lost) but skip their charts, so a run or a rerun draws
    only what is visible."""
    from app_streamlit.forms import SECTION

    return st.session_state.get(SECTION) == label


_FLASH = "ui:flash"


def flash(message: str, kind: str = "success") -> None:
    """Queue a message for the next script run (e.g. after an action followed by ``st.rerun``)."""
    st.session_state.setdefault(_FLASH, []).append((kind, message))


def show_flash() -> None:
    """Show and clear the queued messages."""
    for kind, message in st.session_state.pop(_FLASH, []):
        {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[kind](message)


def memo(bucket: str, key: Any, build: Callable[[], T], max_entries: int = 16) -> T:
    """``build()`` once per ``key`` in this session (e.g. a chart of large data), kept in a small
    per-session store named ``bucket`` (oldest entries dropped beyond ``max_entries``)."""
    store: dict[Any, Any] = st.session_state.setdefault(f"_memo:{bucket}", {})
    if key in store:
        value: T = store[key]
        return value
    value = build()
    store[key] = value
    while len(store) > max_entries:
        store.pop(next(iter(store)))
    return value


#: Prefix of the non-widget keys that hold the last value a user gave a kept widget.
KEPT = "kept:"


def kept(key: str, default: Any, *, options: Iterable[Any] | None = None,
         lo: Any = None, hi: Any = None) -> dict[str, Any]:
    """Keyword arguments (``key``, ``on_change``, ``args``) of a widget that keeps what the user
    typed across script runs that do not draw it (another page, a mode that hides it).

    Streamlit deletes a widget's state on a run that does not draw it; the user's last value is
    also kept under ``KEPT + key``, a plain session key, and given back before the widget is drawn
    (else ``default``). Draw the widget with no ``value``/``index``/``default`` of its own.

    ``options`` (a selectbox's, radio's or, with a list ``default``, a multiselect's) and
    ``lo``/``hi`` (a number's or date's bounds) are the widget's on this run: a kept value they
    no longer allow (another dataset, a deleted preset, fewer cores) is dropped for ``default``
    (a multiselect keeps the choices still offered), silently. Streamlit would raise, or put
    its own first option or minimum in its place."""
    state = st.session_state
    check = _checker(default, options, lo, hi)
    for name in (key, KEPT + key):
        if name in state:
            value = check(state[name])
            if value is _INVALID:
                del state[name]
            elif value is not state[name]:
                state[name] = value
    if key not in state:
        state[key] = state.get(KEPT + key, default)
    return {"key": key, "on_change": _remember, "args": (key,)}


_INVALID = object()


def _checker(default: Any, options: Iterable[Any] | None, lo: Any, hi: Any) -> Callable[[Any], Any]:
    """``value`` if the widget allows it, the choices it still offers (a multiselect), else ``_INVALID``."""
    allowed = None if options is None else list(options)

    def check(value: Any) -> Any:
        if allowed is not None:
            if isinstance(default, list):
                if not isinstance(value, (list, tuple)):
                    return _INVALID
                still = [v for v in value if v in allowed]
                return value if len(still) == len(value) else still
            if value not in allowed:
                return _INVALID
        try:
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return _INVALID
        except TypeError:  # a value of another kind than the bounds
            return _INVALID
        return value

    return check


def _remember(key: str) -> None:
    st.session_state[KEPT + key] = st.session_state[key]


def forget(key: str) -> None:
    """Drop what the user gave the kept widget ``key`` (call from a callback): the next run
    draws it with its default."""
    st.session_state.pop(KEPT + key, None)
    st.session_state.pop(key, None)


def changed(ran: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between the settings a shown result ran with and the page's now, both keyed
    by the label the page shows: ``["symbols SPY QQQ (run: SPY)"]`` (``[]`` when nothing does)."""
    return [f"{k} {now.get(k)} (run: {ran.get(k)})" for k in dict.fromkeys([*now, *ran]) if now.get(k) != ran.get(k)]


def outdated(shown: str, button: str, reasons: list[str], *, failed: bool = False, said_above: bool = False) -> None:
    """The warning over a result the page no longer describes: ``"Previous scan shown — the page
    now differs: ...; press Scan to update"`` (nothing when it does and the last run did not fail);
    ``failed``: the last press of ``button`` failed (``said_above``: its reason is on this draw)."""
    if not reasons and not failed:
        return
    why = (f"the last {button} failed{' (the reason is above)' if said_above else ''}; " if failed else "") + (
        "the page now differs: " + "; ".join(reasons) if reasons else "the settings are unchanged"
    )
    st.warning(f"Previous {shown} shown — {why}. Press {button} to update.", icon=":material/history:")
