"""The System status page under AppTest: every component listed; a broken one named."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.plutus.fake_llm import closed_port

# the workbench pages run phi in threads: kernels compiled first, in the main thread
pytestmark = pytest.mark.usefixtures("warm_kernels")


def _page() -> None:
    from app_streamlit.views import status

    status.render()


def test_status_page_names_the_failed_component(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr("phi.status.VENDOR_URLS", {"yfinance": dead, "alpha_vantage": dead})
    monkeypatch.setenv("OLLAMA_HOST", dead)
    monkeypatch.setenv("PHI_DB_URL", f"postgresql://phi:pw-secret@127.0.0.1:{closed_port()}/phi")
    monkeypatch.setenv("ALPHAVANTAGE_API_KEY", "av-secret-123")
    at = AppTest.from_function(_page, default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Failed: Run index database — see the reasons below."]
    body = "\n".join(str(h.proto.body) for h in at.get("html"))
    for component in ("Python", "Packages", "Numba cache", "Vendor demo", "Data cache", "Run history", "LLM server"):
        assert f">{component}<" in body
    assert "FAILED" in body and f"no LLM server at {dead}" in body
    assert "pw-secret" not in body and "av-secret" not in body
    at.checkbox(key="status:network").uncheck().run()
    at.button(key="status:refresh").click().run()
    assert "not checked (--no-network)" in "\n".join(str(h.proto.body) for h in at.get("html"))
