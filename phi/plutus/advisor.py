"""``PlutusAdvisor``: ask a local LLM for BUY / SELL / HOLD on the last bar of a frame.

>>> advisor = PlutusAdvisor()                                  # doctest: +SKIP
>>> advice = advisor.advise(ohlcv, regime=RegimeEngine().run(ohlcv))   # doctest: +SKIP
>>> advice.signal, advice.confidence, advice.error           # doctest: +SKIP
('HOLD', 0.55, None)

The prompt is :func:`phi.plutus.prompt.build_messages`; the reply is parsed strictly by
:func:`phi.plutus.advice.parse_reply` (a malformed reply is a HOLD with the parse error in
``error``); the server rules are those of :class:`phi.plutus.client.LLMClient`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phi.plutus import cache as _cache
from phi.plutus.advice import ADVICE_SCHEMA, Advice, parse_reply
from phi.plutus.client import LLMClient, LLMNoReply
from phi.plutus.prompt import build_messages

if TYPE_CHECKING:
    import pandas as pd

    from phi.plutus.journal import TradeJournal

__all__ = ["PlutusAdvisor"]


class PlutusAdvisor:
    """An LLM trading advisor on a local server.

    Parameters
    ----------
    base_url
        Server address; default ``$OLLAMA_HOST`` (Ollama) or ``$OPENAI_BASE_URL`` (OpenAI
        protocol), else the local default port.
    model
        Model name; default the seed's ``0xroyce/plutus``.
    protocol
        ``"ollama"`` (``/api/chat``) or ``"openai"`` (``/v1/chat/completions``).
    timeout
        Seconds to wait for one reply (bounded; the connection waits at most 5 s).
    retries
        Extra attempts after a timeout or a server error (0..5).
    cache
        A :class:`~phi.plutus.cache.ReplyCache` to read and store replies (``True``: the
        default one under ``PHI_HOME``; ``None``: always ask the server).

    Raises
    ------
    LLMUnavailableError
        From :meth:`advise` when no server answers and the reply is not cached.
    """

    def __init__(
        self,
        base_url: str | None = None,
        model: str | None = None,
        protocol: str = "ollama",
        timeout: float = 60.0,
        *,
        retries: int = 1,
        cache: _cache.ReplyCache | bool | None = None,
    ) -> None:
        self.client = LLMClient(base_url=base_url, model=model, protocol=protocol, timeout=timeout, retries=retries)
        self.cache = _cache.ReplyCache() if cache is True else (cache or None)

    @property
    def base_url(self) -> str:
        """The server's address as shown to people (a user name or password is ``***``)."""
        return self.client.shown_url

    @property
    def model(self) -> str:
        return str(self.client.model)

    @property
    def protocol(self) -> str:
        return self.client.protocol

    def request_key(self, messages: list[dict[str, str]]) -> str:
        """The cache key of the request these messages make."""
        return _cache.request_key(self.protocol, self.client.payload(messages, ADVICE_SCHEMA))

    def ask(self, messages: list[dict[str, str]]) -> Advice:
        """Send prepared messages (cache first) and parse the reply."""
        key = self.request_key(messages) if self.cache is not None else ""
        if self.cache is not None:
            raw = self.cache.get(key)
            if raw is not None:
                _cache._note("cached")
                return parse_reply(raw, from_cache=True)
        try:
            raw = self.client.chat(messages, ADVICE_SCHEMA)
        except LLMNoReply as exc:
            _cache._note("failed", str(exc))
            return Advice.hold("", str(exc))
        _cache._note("fresh")
        if self.cache is not None and not self.cache.put(key, raw, model=self.model, protocol=self.protocol):
            _cache._note("unsaved")
        return parse_reply(raw)

    def advise(
        self,
        ohlcv: pd.DataFrame,
        regime: Any = None,
        journal: TradeJournal | None = None,
        *,
        symbol: str | None = None,
    ) -> Advice:
        """BUY / SELL / HOLD for the bar after the last one of ``ohlcv``.

        Parameters
        ----------
        ohlcv
            Bars up to the decision bar (open, high, low, close, volume; DatetimeIndex).
        regime
            The regime engine's state on that bar: a :class:`~phi.regime.RegimeResult` (its
            last bar is used) or a dict like :func:`phi.plutus.prompt.regime_snapshot`.
        journal
            The :class:`~phi.plutus.journal.TradeJournal` of earlier decisions.
        symbol
            Shown in the prompt when given.
        """
        return self.ask(build_messages(ohlcv, regime, journal, symbol=symbol))
