"""The Plutus page under AppTest with a fake server: connection line, ask, backtest + journal;
without a server: one line, no exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from phi.data.store import get_dataset
from tests.plutus.fake_llm import FakeLLM, closed_port, momentum_responder, reply

# the workbench pages run phi in threads: kernels compiled first, in the main thread
pytestmark = pytest.mark.usefixtures("warm_kernels")

SPEC = {"symbol": "DEMO", "vendor": "demo", "timeframe": "1D", "start": "2023-01-01", "end": "2024-06-30", "path": None}


def _page() -> None:
    from app_streamlit.views import plutus

    plutus.render()


def _app() -> AppTest:
    at = AppTest.from_function(_page, default_timeout=120)
    at.session_state["data:dataset"] = get_dataset("DEMO", SPEC["start"], SPEC["end"])
    at.session_state["data:spec"] = dict(SPEC)
    return at.run()


def test_without_a_server_the_page_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("OLLAMA_HOST", url)
    at = _app()
    assert not at.exception
    assert at.warning[0].value.startswith(f"no LLM server at {url}; start Ollama or set OLLAMA_HOST.")
    at.button[0].click().run()  # Ask Plutus
    assert [e.value for e in at.error] == [f"no LLM server at {url}; start Ollama or set OLLAMA_HOST"]


def test_ask_and_backtest_with_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(lambda body: reply("BUY", 0.75, "higher lows") if "Returns: 1 bar +" in body["messages"][1]["content"]
                 else momentum_responder(body)) as fake:  # fmt: skip
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        at = _app()
        assert not at.exception and at.success[0].value.startswith(f"LLM server at {fake.url} answers")
        at.button[0].click().run()  # Ask Plutus
        assert not at.exception and not at.error
        body = "\n".join(str(h.proto.body) for h in at.get("html"))
        assert "Plutus says" in body and "confidence" in body
        at.number_input(key="plutus:every").set_value(10)
        at.button[1].click().run()  # Run Plutus backtest
        n = len(fake.requests) - 1
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"{n} LLM replies: 0 from the cache, {n} from the server") for c in captions), (n, captions)
    journal = at.dataframe[0].value
    assert len(journal) == n and set(journal["signal"]) <= {"BUY", "SELL", "HOLD"}
    assert any("Trade journal" in m.value and "hit rate" in m.value for m in at.markdown)
