"""System status and ``phi doctor``: all healthy, then each component broken in turn is named.
Every address checked is on loopback (a fake HTTP server or a closed port)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from phi.cli import main
from phi.status import DEGRADED, FAILED, OK, overall, system_status
from tests.plutus.fake_llm import FakeLLM, closed_port

SECRETS = {"ALPHAVANTAGE_API_KEY": "av-secret-123", "POLYGON_API_KEY": "pg-secret-456"}


@pytest.fixture
def healthy(monkeypatch: pytest.MonkeyPatch):
    """Keys set, the vendors' servers and the LLM server answering on loopback, SQLite index."""
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    for k in ("PHI_DB_URL", "PHI_DASK_SCHEDULER", "PHI_PLUTUS_MODEL", "PHI_PLUTUS_PROTOCOL"):
        monkeypatch.delenv(k, raising=False)
    with FakeLLM(["{}"]) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        monkeypatch.setattr("phi.status.VENDOR_URLS", {"yfinance": fake.url, "alpha_vantage": fake.url + "/av"})
        yield fake


def _by_name(checks) -> dict:
    return {c.component: c for c in checks}


def _not_ok(checks) -> dict[str, str]:
    return {c.component: c.status for c in checks if c.status != OK}


def test_all_healthy(healthy) -> None:
    checks = system_status(timeout=2)
    assert _not_ok(checks) == {}, [c for c in checks if c.status != OK]
    assert overall(checks) == OK
    names = [c.component for c in checks]
    for component in ("Python", "Packages", "Numba cache", "Vendor demo", "Vendor yfinance", "Vendor alpha_vantage",
                      "Data cache", "Run history", "Run index database", "Dask", "Models", "LLM server"):  # fmt: skip
        assert component in names
    c = _by_name(checks)
    assert "ALPHAVANTAGE_API_KEY is set" in c["Vendor alpha_vantage"].detail
    assert "model 0xroyce/plutus present" in c["LLM server"].detail
    assert not any(secret in c.detail for c in checks for secret in SECRETS.values())


def _read_only_home(tmp_path: Path) -> str:
    if os.geteuid() != 0:
        home = tmp_path / "ro_home"
        home.mkdir()
        home.chmod(0o555)
        return str(home)
    return "/sys/phi-home-status-test"  # root writes anywhere else; /sys is a read-only file system


def test_read_only_phi_home_fails_cache_and_history(healthy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHI_HOME", _read_only_home(tmp_path))
    checks = system_status(timeout=2)
    bad = _not_ok(checks)
    assert bad == {"Data cache": FAILED, "Run history": FAILED, "Run index database": FAILED, "Models": FAILED}
    assert "not writable" in _by_name(checks)["Data cache"].detail


def test_unreachable_database_is_named_without_its_password(healthy, monkeypatch: pytest.MonkeyPatch) -> None:
    port = closed_port()
    monkeypatch.setenv("PHI_DB_URL", f"postgresql://phi:db-pass-789@127.0.0.1:{port}/phi")
    checks = system_status(timeout=2)
    assert _not_ok(checks) == {"Run index database": FAILED}
    detail = _by_name(checks)["Run index database"].detail
    assert f"127.0.0.1:{port}/phi: cannot connect" in detail and "db-pass-789" not in detail


def test_no_llm_server_is_named(healthy, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("OLLAMA_HOST", url)
    checks = system_status(timeout=2)
    assert _not_ok(checks) == {"LLM server": DEGRADED}
    assert _by_name(checks)["LLM server"].detail.startswith(f"no LLM server at {url}; start Ollama or set OLLAMA_HOST")


def test_model_not_pulled_is_named(healthy) -> None:
    healthy.models = ("llama3",)
    c = _by_name(system_status(timeout=2))["LLM server"]
    assert c.status == DEGRADED and "(ollama pull 0xroyce/plutus)" in c.detail


def test_unreachable_vendors_missing_keys_and_dask_scheduler(healthy, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setattr("phi.status.VENDOR_URLS", {"yfinance": dead, "alpha_vantage": dead})
    monkeypatch.delenv("POLYGON_API_KEY")
    monkeypatch.setenv("PHI_DASK_SCHEDULER", f"tcp://127.0.0.1:{closed_port()}")
    checks = system_status(timeout=1)
    assert _not_ok(checks) == {"Vendor yfinance": DEGRADED, "Vendor alpha_vantage": DEGRADED, "Level-2 quotes": DEGRADED,
                               "Dask": FAILED}  # fmt: skip
    assert f"{dead} not reachable" in _by_name(checks)["Vendor yfinance"].detail


def test_doctor_cli_exit_codes(healthy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert main(["doctor", "--timeout", "2"]) == 0
    out = capsys.readouterr().out
    assert "overall: ok" in out and "av-secret" not in out
    monkeypatch.setenv("PHI_HOME", _read_only_home(tmp_path))
    assert main(["doctor", "--no-network", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["overall"] == FAILED
    assert {c["component"] for c in report["checks"] if c["status"] == FAILED} == {"Data cache", "Run history", "Run index database", "Models"}


def test_models_listed_and_an_unreadable_one_named(healthy, monkeypatch: pytest.MonkeyPatch) -> None:
    from phi.paths import phi_home
    from phi.status import check_models

    root = phi_home() / "models"
    assert check_models().detail == f"none stored yet in {root} (phi ml train makes one)"
    (root / "broken").mkdir(parents=True)
    (root / "broken" / "metadata.json").write_text("{not json")
    c = check_models()
    assert c.status == DEGRADED and c.detail.startswith(f"1 of 1 in {root} cannot be read: broken (")


def test_vendor_urls_from_the_environment(healthy, monkeypatch: pytest.MonkeyPatch) -> None:
    from phi.status import check_vendors

    dead = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("PHI_STATUS_VENDOR_URLS", f"yfinance={dead}, alpha_vantage={dead}/av")
    checks = {c.component: c for c in check_vendors(timeout=1)}
    assert checks["Vendor yfinance"].detail.startswith(f"{dead} not reachable")
    assert f"{dead}/av not reachable" in checks["Vendor alpha_vantage"].detail
