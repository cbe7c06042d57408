"""Malformed addresses in the environment are a failed component in ``phi doctor``, named in
one line, never a traceback or an abort of the whole status; a password in the LLM server's
URL is never shown."""

from __future__ import annotations

import pytest

from phi.status import FAILED, check_dask, check_llm


@pytest.mark.parametrize("address", ["tcp://[::1:99", "tcp://h:99999999", "tcp://h:port"])
def test_a_malformed_dask_scheduler_is_a_failed_component(address: str) -> None:
    check = check_dask(address, timeout=0.2)
    assert (check.status, check.detail) == (FAILED, f"scheduler address {address!r} is malformed (use tcp://host:8786)")


@pytest.mark.parametrize(
    ("env", "detail"),
    [
        ({"OLLAMA_HOST": "http://[::1"}, "LLM server URL 'http://[::1' is not a valid http(s) URL; set OLLAMA_HOST like http://127.0.0.1:11434"),
        ({"OLLAMA_HOST": "ftp://x"}, "LLM server URL 'ftp://x' is not a valid http(s) URL; set OLLAMA_HOST like http://127.0.0.1:11434"),
        ({"PHI_PLUTUS_PROTOCOL": "grpc"}, "unknown LLM protocol 'grpc'; use one of ollama, openai"),
    ],
)
def test_a_malformed_llm_setting_is_a_failed_component(env: dict, detail: str, monkeypatch) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    check = check_llm(timeout=0.2)
    assert (check.status, check.detail) == (FAILED, detail)


def test_a_password_in_the_llm_url_is_not_shown(monkeypatch) -> None:
    from tests.plutus.fake_llm import closed_port

    port = closed_port()
    monkeypatch.setenv("OLLAMA_HOST", f"http://phi:hunter2-secret@127.0.0.1:{port}")
    check = check_llm(timeout=0.2)
    assert "hunter2" not in check.detail
    assert check.detail.startswith(f"no LLM server at http://phi:***@127.0.0.1:{port}; ")


def test_a_file_where_the_models_folder_belongs_is_a_failed_component(_isolated_phi_home) -> None:
    from phi.status import check_models

    (_isolated_phi_home / "models").write_text("not a folder")
    check = check_models()
    assert (check.status, check.detail) == (
        FAILED, f"{_isolated_phi_home / 'models'} is not a folder: no model can be saved (move it away)"
    )


@pytest.mark.parametrize("timeout", [float("nan"), -1.0, 0, 1e9, "2"])
def test_a_bad_timeout_is_one_config_error(timeout) -> None:
    from phi.errors import ConfigError
    from phi.status import system_status

    with pytest.raises(ConfigError, match=r"^status timeout must be a number of seconds in \(0, 60\], got "):
        system_status(network=False, timeout=timeout)
