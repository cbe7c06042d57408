"""PlutusAdvisor against a fake server on loopback, in both protocols: every kind of reply,
a timeout, no server, an unknown model; where the server address comes from."""

from __future__ import annotations

import pytest

from phi.errors import ConfigError
from phi.plutus.advisor import PlutusAdvisor
from phi.plutus.client import LLMError, LLMUnavailableError, resolve_base_url
from tests.conftest import make_ohlcv
from tests.plutus.fake_llm import FakeLLM, closed_port, reply

BARS = make_ohlcv(60)
PROTOCOLS = ("ollama", "openai")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_kind_of_reply_in_both_protocols(protocol: str) -> None:
    replies = [
        reply("BUY", 0.8),
        '{"signal": "BUY", "confidence": 0.8',
        f"Here you go: {reply('SELL', 0.6)} Hope it helps.",
        reply("BUY", 1.4),
    ]
    with FakeLLM(replies) as fake:
        adv = PlutusAdvisor(fake.url, "plutus-test", protocol, timeout=5)
        got = [adv.advise(BARS) for _ in replies]
    assert [(a.signal, a.confidence) for a in got] == [("BUY", 0.8), ("HOLD", 0.0), ("SELL", 0.6), ("HOLD", 0.0)]
    assert got[0].error is None and got[2].error is None and got[2].note
    assert got[1].error.startswith("invalid JSON") and "outside [0, 1]" in got[3].error
    assert [g.raw for g in got] == replies
    path, body, _ = fake.requests[0]
    assert path == ("/api/chat" if protocol == "ollama" else "/v1/chat/completions")
    assert body["model"] == "plutus-test" and body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "Returns: 1 bar" in body["messages"][1]["content"]
    schema = body["format"] if protocol == "ollama" else body["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["signal", "confidence", "reasoning", "risk_note"]
    assert body.get("options", body).get("temperature") == 0.4


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_timeout_is_a_hold_after_bounded_attempts(protocol: str) -> None:
    with FakeLLM([reply()], delay=1.0) as fake:
        adv = PlutusAdvisor(fake.url, "m", protocol, timeout=0.2, retries=1)
        adv.client.backoff = 0.01
        a = adv.advise(BARS)
        n = len(fake.requests)
    assert (a.signal, a.confidence, a.raw) == ("HOLD", 0.0, "")
    assert a.error == f"the LLM server at {fake.url} gave no reply: no reply within 0.2 s (2 attempts)"
    assert n == 2


def test_a_server_error_is_retried_then_a_hold() -> None:
    with FakeLLM([reply()], status=503) as fake:
        adv = PlutusAdvisor(fake.url, "m", timeout=2, retries=2)
        adv.client.backoff = 0.01
        a = adv.advise(BARS)
    assert a.signal == "HOLD" and "HTTP 503" in a.error and "(3 attempts)" in a.error and len(fake.requests) == 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_server_is_one_clear_line(protocol: str) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(LLMUnavailableError) as info:
        PlutusAdvisor(url, protocol=protocol, timeout=2).advise(BARS)
    hint = "start Ollama or set OLLAMA_HOST" if protocol == "ollama" else "start the server or set OPENAI_BASE_URL"
    assert str(info.value) == f"no LLM server at {url}; {hint}"


def test_an_unknown_model_says_how_to_get_it() -> None:
    with FakeLLM([reply()], models=("llama3",)) as fake, pytest.raises(LLMError) as info:
        PlutusAdvisor(fake.url, "0xroyce/plutus", timeout=2).advise(BARS)
    assert "refused model '0xroyce/plutus': HTTP 404" in str(info.value)
    assert str(info.value).endswith("(ollama pull 0xroyce/plutus)")


def test_the_openai_key_goes_only_into_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    with FakeLLM(['{"oops": 1}']) as fake:
        a = PlutusAdvisor(fake.url, "m", "openai", timeout=2).advise(BARS)
    _, body, headers = fake.requests[0]
    assert headers["Authorization"] == "Bearer sk-secret-123"
    assert "sk-secret" not in str(body) and "sk-secret" not in str(a)


def test_server_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert resolve_base_url(None, "ollama") == "http://127.0.0.1:11434"
    assert resolve_base_url(None, "openai") == "http://127.0.0.1:8080"
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0:11500")
    assert resolve_base_url(None, "ollama") == "http://127.0.0.1:11500"
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box")
    assert resolve_base_url(None, "ollama") == "http://gpu-box:11434"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/")
    assert resolve_base_url(None, "openai") == "http://127.0.0.1:8000"
    assert resolve_base_url("http://10.0.0.2:9999", "ollama") == "http://10.0.0.2:9999"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "grpc"}, "unknown LLM protocol 'grpc'"),
        ({"base_url": "ftp://x"}, "is not a valid http(s) URL"),
        ({"timeout": 0}, "LLM timeout must be"),
        ({"retries": 9}, "LLM retries must be"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        PlutusAdvisor(**kwargs)
