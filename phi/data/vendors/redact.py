"""Keep API keys out of messages and logs.

A key reaches text in many spellings: raw, URL-encoded by ``requests`` (``a+b`` ->
``a%2Bb``, a space -> ``+``), percent-encoded with lower-case hex, encoded twice, escaped by
``repr`` or JSON. So:

1. query strings are removed from every URL-like text (``/query?function=..&apikey=..``
   -> ``/query?<query hidden>``), and any ``apikey=<value>`` pair is masked: the key's usual
   way into a message (``requests`` puts the URL into its exception text) is closed whatever
   the key looks like;
2. every spelling of the key is masked where it stands as a token (not inside a longer run of
   letters and digits), so a short key never garbles ordinary words. Spellings shorter than
   :data:`MIN_TOKEN` characters are only masked through rule 1: a one-letter "key" is a word,
   not a secret.
"""

from __future__ import annotations

import json
import logging
import re
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_TOKEN = 4
_QUERY = re.compile(r"\?[^\s'\"<>]*=[^\s'\"<>]*")
_PAIR = re.compile(r"(?i)\b(apikey|api_key|api-key|access_token|token)=[^\s&'\"<>]+")
_HEX = re.compile(r"%[0-9A-F]{2}")


def secret_forms(secret: str) -> list[str]:
    """Every spelling of ``secret`` a message may hold, longest first."""
    if not secret:
        return []
    base = {secret, " ".join(secret.split()), repr(secret)[1:-1], json.dumps(secret)[1:-1]}
    encoded = set()
    for s in base:
        for enc in (quote(s, safe=""), quote(s), quote_plus(s), quote_plus(s, safe="/"), quote(s, safe="/+")):
            encoded |= {enc, quote(enc, safe=""), _HEX.sub(lambda m: m.group(0).lower(), enc)}
    return sorted({f for f in base | encoded if f}, key=len, reverse=True)


def hide_queries(text: str) -> str:
    """``text`` with URL query strings and ``apikey=...`` pairs hidden."""
    return _PAIR.sub(lambda m: f"{m.group(1)}={MASK}", _QUERY.sub("?<query hidden>", text))


def redact(text: object, secret: str | None) -> str:
    """``text`` with query strings hidden and every token-spelling of ``secret`` masked."""
    out = hide_queries(str(text))
    forms = [f for f in secret_forms(secret or "") if len(f) >= MIN_TOKEN]
    if forms:
        pattern = "|".join(re.escape(f) for f in forms)
        out = re.sub(rf"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])", MASK, out)
    return out


class QueryFilter(logging.Filter):
    """A logging filter that hides query strings (urllib3 logs every request URL at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        hidden = hide_queries(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_FILTER = QueryFilter()


def guard_http_logs() -> None:
    """Attach :class:`QueryFilter` to urllib3's request logger (idempotent)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
