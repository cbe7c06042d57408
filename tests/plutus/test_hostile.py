"""Hostile LLM servers and replies: a server that trickles bytes or sends a huge body is cut off
within the timeout / size limit, garbage and deeply nested JSON are a one-line LLMNoReply or a
HOLD (never a RecursionError), and the API key or a URL password never appears in a message."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from phi.errors import ConfigError
from phi.plutus import parse_reply
from phi.plutus.advice import MAX_FALSE_STARTS, MAX_REPLY_CHARS
from phi.plutus.client import MAX_REPLY_BYTES, LLMClient, LLMNoReply, LLMUnavailableError
from tests.plutus.fake_llm import closed_port, reply

MESSAGES = [{"role": "user", "content": "hi"}]


@contextlib.contextmanager
def raw_server(respond: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """A loopback server whose POST handler is ``respond``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with contextlib.suppress(OSError):  # the client hung up
                respond(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, length: int | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body) if length is None else length))
    handler.end_headers()
    handler.wfile.write(body)


def test_a_server_that_trickles_bytes_is_cut_off_at_the_timeout() -> None:
    def trickle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        for _ in range(40):  # a byte every 0.1 s: no single read ever times out
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.1)

    with raw_server(trickle) as url:
        client = LLMClient(url, "m", timeout=0.8, retries=0)
        t0 = time.monotonic()
        with pytest.raises(LLMNoReply) as err:
            client.chat(MESSAGES)
        took = time.monotonic() - t0
    assert str(err.value) == f"the LLM server at {url} gave no reply: no reply within 0.8 s (1 attempt)"
    assert took < 2.5  # the deadline, not the 4 s the server would take


@pytest.mark.parametrize("declared", [True, False])
def test_a_huge_reply_is_refused_unread(declared: bool) -> None:
    def huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        if declared:
            h.send_header("Content-Length", str(50 * MAX_REPLY_BYTES))
        h.end_headers()
        chunk = b"x" * 2**20
        for _ in range(3 * MAX_REPLY_BYTES // 2**20):
            h.wfile.write(chunk)

    with raw_server(huge) as url, pytest.raises(LLMNoReply) as err:
        LLMClient(url, "m", timeout=10, retries=0).chat(MESSAGES)
    assert str(err.value) == (
        f"the LLM server at {url} sent a reply larger than {MAX_REPLY_BYTES // 2**20} MB; "
        "an advice reply is a few hundred bytes"
    )


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"a":' * 50_000, b'{"message": {"content": 1' + b"9" * 5000 + b"}}"])
def test_garbage_json_from_the_server_is_one_line(body: bytes) -> None:
    with raw_server(lambda h: _send(h, 200, body)) as url, pytest.raises(LLMNoReply) as err:
        LLMClient(url, "m", timeout=5, retries=0).chat(MESSAGES)
    msg = str(err.value)
    assert msg.startswith(f"the LLM server at {url} did not answer in JSON: ") and "\n" not in msg
    assert len(msg) < 250


def test_the_api_key_never_appears_in_a_message(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-42")
    echo = b'{"error": {"message": "key sk-test-SECRET-42 is not valid"}}'
    with raw_server(lambda h: _send(h, 500, echo)) as url, pytest.raises(LLMNoReply) as err5:
        LLMClient(url, "m", protocol="openai", timeout=5, retries=0).chat(MESSAGES)
    with raw_server(lambda h: _send(h, 401, echo)) as url, pytest.raises(Exception) as err4:
        LLMClient(url, "m", protocol="openai", timeout=5, retries=0).chat(MESSAGES)
    port = closed_port()
    client = LLMClient(f"http://phi:sk-test-SECRET-42@127.0.0.1:{port}", "m", protocol="openai", timeout=2, retries=0)
    with pytest.raises(LLMUnavailableError) as err0:
        client.chat(MESSAGES)
    said = b'{"choices": [{"message": {"content": "your key is sk-test-SECRET-42"}}]}'
    with raw_server(lambda h: _send(h, 200, said)) as url:
        echoed = LLMClient(url, "m", protocol="openai", timeout=5, retries=0).chat(MESSAGES)
    assert echoed == "your key is ***"
    for text in (str(err5.value), str(err4.value), str(err0.value), client.shown_url):
        assert "SECRET" not in text and "***" in text
    assert str(err0.value) == f"no LLM server at http://phi:***@127.0.0.1:{port}; start the server or set OPENAI_BASE_URL"


@pytest.mark.parametrize("url", ["http://[::1", "127.0.0.1:99999", "http://h\nx", "http:// spaced.host"])
def test_malformed_server_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match=r"^LLM server URL '.*' is not a valid http\(s\) URL; set OLLAMA_HOST"):
        LLMClient(url)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"a":' * 10_000, f"more than {MAX_FALSE_STARTS} '{{' in the reply start no JSON object"),
        ("{" * 50_000, f"more than {MAX_FALSE_STARTS} '{{' in the reply start no JSON object"),
        ("x" * (MAX_REPLY_CHARS + 1), f"the reply is {MAX_REPLY_CHARS + 1:,} characters long; at most {MAX_REPLY_CHARS:,} are read"),
        (
            '{"signal": "BUY", "confidence": 1' + "0" * 5000 + ', "reasoning": "", "risk_note": ""}',
            "invalid JSON (Exceeds the limit (4300 digits) for integer string conversion)",
        ),
    ],
)
def test_hostile_replies_are_a_hold_with_the_reason(text: str, error: str) -> None:
    t0 = time.monotonic()
    advice = parse_reply(text)
    assert time.monotonic() - t0 < 2.0
    assert (advice.signal, advice.confidence, advice.error) == ("HOLD", 0.0, error)


def test_one_object_after_a_few_stray_braces_is_still_read() -> None:
    advice = parse_reply("{ thinking } {not json} " + reply("SELL", 0.6))
    assert (advice.signal, advice.confidence, advice.error) == ("SELL", 0.6, None)


def test_bars_out_of_order_or_a_bad_close_in_the_brief_are_data_errors() -> None:
    from phi.errors import DataError
    from phi.plutus.prompt import ohlcv_brief
    from tests.conftest import make_ohlcv

    bars = make_ohlcv(60)
    with pytest.raises(DataError, match=r"^ohlcv index is not sorted by time; sort it first"):
        ohlcv_brief(bars.iloc[::-1])
    bad = bars.copy()
    bad.iloc[-5, 3] = 0.0  # a close the 5-bar return would divide by
    with pytest.raises(DataError) as err:
        ohlcv_brief(bad)
    assert str(err.value) == (
        f"ohlcv column 'close' has a non-positive price (0.0 at {bars.index[-5]}, row 55); prices must "
        "be > 0: drop or repair those rows first (phi.validate_ohlcv)"
    )


def test_a_regime_argument_of_the_wrong_kind_or_with_garbage_values() -> None:
    from phi.plutus.prompt import regime_brief

    with pytest.raises(ConfigError, match=r"^regime must be a RegimeResult, a dict like RegimeResult.latest\(\) or None, got str$"):
        regime_brief("TREND")
    text = regime_brief({"regime_probs": {"TREND_UP": "x", "RANGE": 0.5}, "composite": 0.1, "score": "?", "timestamp": "notadate"})
    assert text.splitlines()[0] == "Regime engine (MFT): dominant None; top regimes RANGE 0.50"
    assert "score n/a" in text
    assert regime_brief({"regime_probs": [1, 2], "composite": "abc"}) == "Regime engine: not available on this bar (warm-up)."


def test_a_damaged_cache_file_is_a_miss(tmp_path) -> None:
    from phi.plutus import ReplyCache

    cache = ReplyCache(tmp_path)
    key = "ab" + "0" * 62
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_text("[" * 100_000)
    assert cache.get(key) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": True}, "LLM timeout must be a number of seconds in (0, 600], got True"),
        ({"retries": True}, "LLM retries must be an integer 0..5, got True"),
        ({"model": 5}, "LLM model must be a model name like 0xroyce/plutus, got 5"),
        ({"model": "two words"}, "LLM model must be a model name like 0xroyce/plutus, got 'two words'"),
        ({"options": "x"}, "LLM options must be a dict of sampling settings, got str"),
        ({"base_url": 5}, "LLM server URL must be a string like http://127.0.0.1:11434, got int"),
    ],
)
def test_client_settings_of_the_wrong_type(kwargs, message) -> None:
    with pytest.raises(ConfigError) as err:
        LLMClient(**kwargs)
    assert str(err.value) == message


def test_a_reply_in_a_charset_python_does_not_know_is_read_as_utf8() -> None:
    # charset=x-nonsense made bytes.decode raise LookupError: a traceback out of chat() and phi plutus ask
    body = '{"message": {"content": "hold: caf\u00e9 prices"}}'.encode()

    def respond(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json; charset=x-nonsense")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    with raw_server(respond) as url:
        assert LLMClient(url, "m", timeout=5, retries=0).chat(MESSAGES) == "hold: caf\u00e9 prices"
