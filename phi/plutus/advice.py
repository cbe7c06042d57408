"""Plutus's reply: the :class:`Advice` record and the strict parser of the model's text.

The rule for a reply (stated once, tested): the text must hold **exactly one** JSON object,
optionally wrapped in a Markdown code fence or surrounded by prose; that object must match
:data:`ADVICE_SCHEMA` exactly (the four keys, no others; ``signal`` one of ``BUY``, ``SELL``,
``HOLD`` in capitals; ``confidence`` a number in [0, 1]; ``reasoning`` and ``risk_note``
strings). Anything else — no object, two objects, invalid JSON, a missing or extra key, a
confidence of 1.2 — is a HOLD with confidence 0 and the reason in :attr:`Advice.error`: never a
guess, never a clipped value. Prose around the one object is kept in ``raw`` and flagged in
:attr:`Advice.note`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Final

__all__ = ["ADVICE_SCHEMA", "MAX_FALSE_STARTS", "MAX_REPLY_CHARS", "SIGNALS", "Advice", "parse_reply"]

SIGNALS: Final = ("BUY", "SELL", "HOLD")

#: JSON schema of a reply (sent to the server as the structured-output format, checked here).
ADVICE_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "signal": {"type": "string", "enum": list(SIGNALS)},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reasoning": {"type": "string"},
        "risk_note": {"type": "string"},
    },
    "required": ["signal", "confidence", "reasoning", "risk_note"],
    "additionalProperties": False,
}

_KEYS: Final = frozenset(ADVICE_SCHEMA["required"])
_MAX_SHOWN = 60
#: a longer reply is a HOLD unread (an advice object is a few hundred characters)
MAX_REPLY_CHARS: Final = 100_000
#: a reply with more ``{`` that start no JSON value than this is a HOLD (bounds the parse time)
MAX_FALSE_STARTS: Final = 100


@dataclass(frozen=True)
class Advice:
    """One decision of Plutus.

    Attributes
    ----------
    signal : str
        ``"BUY"``, ``"SELL"`` or ``"HOLD"`` (HOLD whenever the reply did not parse).
    confidence : float
        In [0, 1]; 0 when the reply did not parse.
    reasoning, risk_note : str
        The model's words ("" when the reply did not parse).
    raw : str
        The model's reply exactly as received ("" when no reply came).
    error : str or None
        Why the reply was not used, in one line; ``None`` when it parsed.
    note : str or None
        A remark on a reply that was used (e.g. prose around the JSON object).
    from_cache : bool
        The reply came from the reply cache, not from the server.
    """

    signal: str
    confidence: float
    reasoning: str
    risk_note: str
    raw: str
    error: str | None = None
    note: str | None = None
    from_cache: bool = False

    @classmethod
    def hold(cls, raw: str, error: str, *, from_cache: bool = False) -> Advice:
        """A HOLD with confidence 0 recording why the reply was not used."""
        return cls("HOLD", 0.0, "", "", raw, error=error, from_cache=from_cache)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _decode_error(text: str, start: int) -> str | None:
    """Why the JSON value at ``start`` does not decode (None if it does)."""
    try:
        json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return "nested too deeply"
    except ValueError as exc:  # e.g. an integer beyond Python's 4,300-digit limit
        return str(exc).split(";")[0].split(":")[0]
    return None


def _objects(text: str) -> tuple[list[tuple[int, int, Any]], bool]:
    """Every top-level JSON value that starts with ``{`` in ``text``: (start, end, value), and
    whether the search gave up after :data:`MAX_FALSE_STARTS` braces that start none."""
    decoder = json.JSONDecoder()
    found: list[tuple[int, int, Any]] = []
    false_starts = 0
    i = text.find("{")
    while i != -1:
        try:
            value, end = decoder.raw_decode(text, i)
        except (ValueError, RecursionError):  # invalid, nested too deeply, a 5,000-digit number
            false_starts += 1
            if false_starts > MAX_FALSE_STARTS:
                return found, True
            i = text.find("{", i + 1)
            continue
        found.append((i, end, value))
        i = text.find("{", end)
    return found, False


_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)


def _check(obj: dict[str, Any]) -> str | None:
    """The first way ``obj`` breaks :data:`ADVICE_SCHEMA`, or None."""
    missing = sorted(_KEYS - obj.keys())
    if missing:
        return f"missing key(s) {', '.join(missing)}"
    extra = sorted(obj.keys() - _KEYS)
    if extra:
        return f"unexpected key(s) {', '.join(map(str, extra))}"
    if obj["signal"] not in SIGNALS:
        return f"signal {_shown(obj['signal'])} is not one of BUY, SELL, HOLD"
    conf = obj["confidence"]
    if isinstance(conf, bool) or not isinstance(conf, int | float):
        return f"confidence {_shown(conf)} is not a number"
    if not math.isfinite(conf) or not 0.0 <= conf <= 1.0:
        return f"confidence {conf!r} is outside [0, 1]"
    for key in ("reasoning", "risk_note"):
        if not isinstance(obj[key], str):
            return f"{key} {_shown(obj[key])} is not a string"
    return None


def parse_reply(raw: str, *, from_cache: bool = False) -> Advice:
    """Parse the model's reply strictly (see the module doc for the rule).

    >>> parse_reply('{"signal": "BUY", "confidence": 0.7, "reasoning": "up", "risk_note": "gap"}').signal
    'BUY'
    >>> parse_reply('{"signal": "BUY", "confidence": 1.5, "reasoning": "", "risk_note": ""}').error
    'confidence 1.5 is outside [0, 1]'
    """
    if len(raw) > MAX_REPLY_CHARS:
        return Advice.hold(
            raw, f"the reply is {len(raw):,} characters long; at most {MAX_REPLY_CHARS:,} are read",
            from_cache=from_cache,
        )  # fmt: skip
    text = raw.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    found, gave_up = _objects(text)
    if gave_up:
        reason = f"more than {MAX_FALSE_STARTS} '{{' in the reply start no JSON object"
        return Advice.hold(raw, reason, from_cache=from_cache)
    if not found:
        first = text.find("{")
        why = _decode_error(text, first) if first != -1 else None
        reason = f"invalid JSON ({why})" if why else "no JSON object in the reply"
        return Advice.hold(raw, reason, from_cache=from_cache)
    if len(found) > 1:
        return Advice.hold(raw, f"{len(found)} JSON objects in the reply; exactly one is accepted", from_cache=from_cache)
    start, end, obj = found[0]
    problem = _check(obj)
    if problem:
        return Advice.hold(raw, f"reply does not match the schema: {problem}", from_cache=from_cache)
    prose = bool(text[:start].strip() or text[end:].strip())
    return Advice(
        signal=obj["signal"],
        confidence=float(obj["confidence"]),
        reasoning=obj["reasoning"],
        risk_note=obj["risk_note"],
        raw=raw,
        note="prose around the JSON object was ignored" if prose else None,
        from_cache=from_cache,
    )
