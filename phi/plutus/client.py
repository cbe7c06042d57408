"""A small client for a local LLM server: Ollama's ``/api/chat`` or any OpenAI-compatible
``/v1/chat/completions`` (llama.cpp server, vLLM).

Where the server is: ``base_url`` if given, else ``$OLLAMA_HOST`` (Ollama; default
``http://127.0.0.1:11434``) or ``$OPENAI_BASE_URL`` (OpenAI protocol; default
``http://127.0.0.1:8080``). An OpenAI-compatible server's key, if it needs one, is read from
``$OPENAI_API_KEY`` and sent only in the ``Authorization`` header (never logged or shown).

Failure rules: no server listening (connection refused, host not found, connect timeout) is
:class:`LLMUnavailableError` at once, with one line saying how to fix it; a 4xx answer (e.g. an
unknown model) is :class:`LLMError`, and so is a redirect (never followed: the request and its
key would go to another address); a read timeout, a 429 (rate limit) or a 5xx answer is retried
``retries`` times with a short backoff (a ``Retry-After`` of up to :data:`MAX_RETRY_AFTER` s is
waited for, a longer one ends the retries), then reported as :class:`LLMNoReply` — every wait
is bounded by ``timeout`` seconds per attempt (the whole reply, not each read: a server that trickles bytes
is cut off), and a reply body over :data:`MAX_REPLY_BYTES` is refused unread. No message shows
the API key or a password in the server's URL (both are replaced by ``***``).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from phi.errors import ConfigError, PhiError

__all__ = [
    "DEFAULT_MODEL",
    "PROTOCOLS",
    "LLMClient",
    "LLMError",
    "LLMNoReply",
    "LLMUnavailableError",
    "MAX_REPLY_BYTES",
    "MAX_RETRY_AFTER",
    "redact",
    "resolve_base_url",
]

PROTOCOLS: Final = ("ollama", "openai")
#: The seed's finance-tuned model (a LLaMA-3.1-8B fine-tune) on Ollama.
DEFAULT_MODEL: Final = "0xroyce/plutus"
DEFAULT_URLS: Final = {"ollama": "http://127.0.0.1:11434", "openai": "http://127.0.0.1:8080"}
URL_ENV: Final = {"ollama": "OLLAMA_HOST", "openai": "OPENAI_BASE_URL"}
#: The largest reply body read from a server (an advice reply is well under 10 kB).
MAX_REPLY_BYTES: Final = 2 * 2**20
#: The longest ``Retry-After`` (seconds) waited for before another attempt; a longer one ends the retries.
MAX_RETRY_AFTER: Final = 5.0
#: Sampling settings of the seed (temperature 0.4, top_p 0.9, top_k 40).
SAMPLING: Final[dict[str, float | int]] = {"temperature": 0.4, "top_p": 0.9, "top_k": 40}


class LLMError(PhiError):
    """The LLM server refused a request (an unknown model, a bad request)."""


class LLMUnavailableError(LLMError):
    """No LLM server answers at the configured address."""


class LLMNoReply(LLMError):
    """The server did not answer in time or failed (5xx) on every attempt."""


def requests_broken() -> Exception:
    """The error requests raises for a reply that breaks off (a ChunkedEncodingError)."""
    import requests

    return requests.exceptions.ChunkedEncodingError("the reply broke off")


def redact(text: str) -> str:
    """``text`` with the OpenAI API key (``$OPENAI_API_KEY``) and any URL password shown as ``***``."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    if len(key) >= 4:
        text = text.replace(key, "***")
    return re.sub(r"(://[^/@\s:]*):[^/@\s]*@", r"\1:***@", re.sub(r"://[^/@\s:]+@", "://***@", text))


def _one_line(text: object, limit: int = 200) -> str:
    s = redact(" ".join(str(text).split()))
    return s if len(s) <= limit else s[: limit - 3] + "..."


def retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (a number or an HTTP date), or None when
    it is absent or not understood (garbage, negative, not finite)."""
    if not value:
        return None
    text = value.strip()
    try:
        wait = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        wait = when.timestamp() - time.time()
        return max(wait, 0.0)
    return wait if math.isfinite(wait) and wait >= 0 else None


def resolve_base_url(base_url: str | None, protocol: str) -> str:
    """The server's base URL: ``base_url``, else the protocol's environment variable, else
    the local default; ``host:port`` gets ``http://``; a bind-all host becomes 127.0.0.1."""
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown LLM protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}")
    if base_url is not None and not isinstance(base_url, str):
        raise ConfigError(f"LLM server URL must be a string like http://127.0.0.1:11434, got {type(base_url).__name__}")
    url = (base_url or os.environ.get(URL_ENV[protocol]) or DEFAULT_URLS[protocol]).strip()
    if "://" not in url:
        url = "http://" + url
    bad = ConfigError(f"LLM server URL {redact(url)!r} is not a valid http(s) URL; set {URL_ENV[protocol]} like http://127.0.0.1:11434")
    if any(c.isspace() or not c.isprintable() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise bad from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad
    if parts.hostname in ("0.0.0.0", "::"):
        url = url.replace(parts.hostname, "127.0.0.1", 1)
    if protocol == "ollama" and parts.port is None and parts.path in ("", "/") and url.count(":") == 1:
        url = url.rstrip("/") + ":11434"  # OLLAMA_HOST=somehost means port 11434
    url = url.rstrip("/")
    if protocol == "openai" and url.endswith("/v1"):
        url = url[:-3]
    return url


@dataclass
class LLMClient:
    """Chat with one model on one server (see the module doc for addresses and failures).

    Parameters
    ----------
    base_url
        Server address (default from the environment, see :func:`resolve_base_url`).
    model
        Model name (default :data:`DEFAULT_MODEL`).
    protocol
        ``"ollama"`` or ``"openai"``.
    timeout
        Seconds to wait for one reply (the connection itself waits at most 5 s).
    retries
        Extra attempts after a read timeout or a 5xx answer (0..5).
    """

    base_url: str | None = None
    model: str | None = None
    protocol: str = "ollama"
    timeout: float = 60.0
    retries: int = 1
    backoff: float = 0.5
    options: dict[str, Any] = field(default_factory=lambda: dict(SAMPLING))

    def __post_init__(self) -> None:
        self.base_url = resolve_base_url(self.base_url, self.protocol)
        self.model = self.model or DEFAULT_MODEL
        if not isinstance(self.model, str) or not self.model.strip() or any(c.isspace() or not c.isprintable() for c in self.model):
            raise ConfigError(f"LLM model must be a model name like {DEFAULT_MODEL}, got {self.model!r}")
        if not isinstance(self.options, dict):
            raise ConfigError(f"LLM options must be a dict of sampling settings, got {type(self.options).__name__}")
        if isinstance(self.timeout, bool) or not (isinstance(self.timeout, int | float) and 0 < self.timeout <= 600):
            raise ConfigError(f"LLM timeout must be a number of seconds in (0, 600], got {self.timeout!r}")
        if isinstance(self.retries, bool) or not (isinstance(self.retries, int) and 0 <= self.retries <= 5):
            raise ConfigError(f"LLM retries must be an integer 0..5, got {self.retries!r}")

    @property
    def shown_url(self) -> str:
        """The server's address as shown to people: any user name or password is ``***``."""
        return redact(str(self.base_url))

    @property
    def url(self) -> str:
        """The endpoint chat requests go to."""
        path = "/api/chat" if self.protocol == "ollama" else "/v1/chat/completions"
        return f"{self.base_url}{path}"

    def unavailable_text(self) -> str:
        hint = "start Ollama or set OLLAMA_HOST" if self.protocol == "ollama" else "start the server or set OPENAI_BASE_URL"
        return f"no LLM server at {self.shown_url}; {hint}"

    def payload(self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON body of a chat request (what the reply cache hashes, with the protocol)."""
        if self.protocol == "ollama":
            body: dict[str, Any] = {"model": self.model, "messages": messages, "stream": False, "options": dict(self.options)}
            if schema is not None:
                body["format"] = schema
            return body
        opts = {k: v for k, v in self.options.items() if k in ("temperature", "top_p", "seed", "max_tokens")}
        body = {"model": self.model, "messages": messages, "stream": False, **opts}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {"name": "advice", "schema": schema, "strict": True}}
        return body

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get("OPENAI_API_KEY") if self.protocol == "openai" else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _content(self, body: Any) -> str:
        try:
            if self.protocol == "ollama":
                content = body["message"]["content"]
            else:
                content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise LLMNoReply(f"the LLM server at {self.shown_url} sent an answer without a message: {_one_line(body, 120)}") from None
        if not isinstance(content, str):
            raise LLMNoReply(f"the LLM server at {self.shown_url} sent a non-text message: {_one_line(content, 120)}")
        return content

    def chat(self, messages: list[dict[str, str]], schema: dict[str, Any] | None = None) -> str:
        """Send ``messages``; return the assistant's text.

        Raises
        ------
        LLMUnavailableError
            Nothing answers at the address.
        LLMError
            The server refused the request (4xx but 429), e.g. an unknown model or a key, or
            redirected it.
        LLMNoReply
            Every attempt timed out, was rate-limited (429) or failed on the server (5xx), or
            the answer had no message.
        """
        import requests

        body = self.payload(messages, schema)
        attempts = self.retries + 1
        last = ""
        pause: float | None = None  # what the server's Retry-After asked for
        tried = 0
        for attempt in range(attempts):
            if attempt:
                time.sleep(pause if pause is not None else min(self.backoff * 2 ** (attempt - 1), MAX_RETRY_AFTER))
            pause = None
            tried += 1
            deadline = time.monotonic() + float(self.timeout)
            try:
                resp = requests.post(
                    self.url, json=body, headers=self._headers(), stream=True, allow_redirects=False,
                    timeout=(min(5.0, float(self.timeout)), float(self.timeout)),
                )  # fmt: skip
                with resp:
                    text = self._read(resp, deadline)
            except requests.exceptions.ConnectionError as exc:  # refused, unknown host, connect timeout
                if "Read timed out" in str(exc):  # requests' name for a read timeout in the body
                    last = f"no reply within {self.timeout:g} s"
                    continue
                raise LLMUnavailableError(self.unavailable_text()) from None
            except (requests.exceptions.Timeout, TimeoutError):
                last = f"no reply within {self.timeout:g} s"
                continue
            except requests.exceptions.ChunkedEncodingError:
                last = "the reply broke off"
                continue
            except requests.exceptions.RequestException as exc:
                raise LLMUnavailableError(f"{self.unavailable_text()} ({_one_line(type(exc).__name__)})") from None
            if resp.status_code >= 500 or resp.status_code == 429:
                last = f"HTTP {resp.status_code} {_one_line(text, 120)}"
                pause = retry_after(resp.headers.get("Retry-After"))
                if pause is not None and pause > MAX_RETRY_AFTER:
                    last += f"; it asks to retry after {pause:.0f} s (Retry-After)"
                    break
                continue
            if 300 <= resp.status_code < 400 and resp.headers.get("Location"):
                where = _one_line(resp.headers["Location"], 120)
                raise LLMError(
                    f"the LLM server at {self.shown_url} redirects to {where} (HTTP {resp.status_code}); "
                    "redirects are not followed: set the server's own address"
                )
            if resp.status_code >= 400:
                raise LLMError(self._refusal(resp.status_code, text))
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                said = _one_line(text, 120) or f"an empty body (HTTP {resp.status_code})"
                raise LLMNoReply(f"the LLM server at {self.shown_url} did not answer in JSON: {said}") from None
            return redact(self._content(data))  # a reply that echoes the key is stored and shown without it
        raise LLMNoReply(f"the LLM server at {self.shown_url} gave no reply: {last} ({tried} attempt{'s' * (tried > 1)})")

    def _read(self, resp: Any, deadline: float) -> str:
        """The body of ``resp`` (streamed), read until ``deadline`` and at most
        :data:`MAX_REPLY_BYTES`: TimeoutError after the deadline, LLMNoReply if larger."""
        size = int(resp.headers.get("Content-Length") or 0)
        too_big = LLMNoReply(
            f"the LLM server at {self.shown_url} sent a reply larger than {MAX_REPLY_BYTES // 2**20} MB; "
            "an advice reply is a few hundred bytes"
        )
        if size > MAX_REPLY_BYTES:
            raise too_big
        from urllib3.exceptions import ProtocolError, ReadTimeoutError

        chunks: list[bytes] = []
        got = 0
        try:
            while True:  # read1: what one read of the socket gives, so the deadline is checked often
                chunk = resp.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                got += len(chunk)
                if got > MAX_REPLY_BYTES:
                    raise too_big
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError
        except ReadTimeoutError:
            raise TimeoutError from None
        except ProtocolError:
            raise requests_broken() from None
        data = b"".join(chunks)
        try:
            return data.decode(resp.encoding or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know (charset=x-nonsense): JSON is UTF-8
            return data.decode("utf-8", errors="replace")

    def _refusal(self, status: int, body: str) -> str:
        detail: Any
        try:
            detail = json.loads(body)
            detail = detail.get("error", detail) if isinstance(detail, dict) else detail
            if isinstance(detail, dict):
                detail = detail.get("message", detail)
        except (ValueError, RecursionError):
            detail = body
        text = _one_line(detail, 160)
        if status in (401, 403):
            if self.protocol != "openai":
                key = "a key is sent only with the openai protocol, from OPENAI_API_KEY"
            else:
                key = "check OPENAI_API_KEY" if os.environ.get("OPENAI_API_KEY") else "OPENAI_API_KEY is not set"
            return f"the LLM server at {self.shown_url} refused access: HTTP {status} {text} ({key})"
        hint = f" (ollama pull {self.model})" if self.protocol == "ollama" and "not found" in text.lower() else ""
        return f"the LLM server at {self.shown_url} refused model {self.model!r}: HTTP {status} {text}{hint}"

    def ping(self, timeout: float = 2.0) -> str | None:
        """``None`` when the server answers (any HTTP status) within ``timeout``, else why not."""
        import requests

        path = "/api/version" if self.protocol == "ollama" else "/v1/models"
        try:
            requests.get(f"{self.base_url}{path}", headers=self._headers(), timeout=(timeout, timeout))
        except requests.exceptions.RequestException:
            return self.unavailable_text()
        return None
