"""``phi plutus ask`` and ``phi plutus backtest`` against a fake server; no server: one line, exit 2."""

from __future__ import annotations

import pytest

from phi.cli import main
from tests.plutus.fake_llm import FakeLLM, closed_port, momentum_responder, reply


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ask_prints_the_advice(capsys) -> None:
    with FakeLLM([f"Sure. {reply('BUY', 0.72, 'higher lows', 'thin volume')}"]) as fake:
        code, out, err = run(capsys, "plutus", "ask", "DEMO", "--start", "2023-01-01", "--end", "2023-12-31",
                             "--url", fake.url, "--model", "m", "--raw")  # fmt: skip
    assert code == 0, err
    assert "BUY" in out and "0.72" in out and "higher lows" in out and "thin volume" in out
    assert "prose around the JSON object was ignored" in out and "raw reply:" in out and "SYNTHETIC" in out
    assert "Regime engine (MFT)" in fake.requests[0][1]["messages"][1]["content"]


def test_ask_with_a_malformed_reply_says_it_was_not_used(capsys) -> None:
    with FakeLLM(["BUY!!!"]) as fake:
        code, out, _ = run(capsys, "plutus", "ask", "DEMO", "--url", fake.url, "--no-regime", "--start", "2023-01-01", "--end", "2023-06-30")
    assert code == 0 and "HOLD" in out and "reply not used: no JSON object in the reply - treated as HOLD" in out


def test_no_server_is_one_line_and_exit_2(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("OLLAMA_HOST", url)
    code, out, err = run(capsys, "plutus", "ask", "DEMO")
    assert code == 2 and out == ""
    assert err.strip() == f"error: no LLM server at {url}; start Ollama or set OLLAMA_HOST"


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("date,open,high,low,close,volume\n2023-01-03,1,2,0.5,abc,100\n2023-01-04,1,2,0.5,1.5,100\n",
         "error: CSV file 'bad.csv': column 'close' holds a value that is not a number: 'abc' (1 such row(s))"),
        ("date,open,high,low,volume\n2023-01-03,1,2,0.5,100\n",
         "error: CSV file 'bad.csv': no 'close' column"),
    ],
    ids=["text-in-close", "no-close-column"],
)  # fmt: skip
def test_a_bad_csv_is_named_before_the_missing_server(rows, problem, capsys, tmp_path) -> None:
    """Was: "no LLM server at ..." for a CSV file that could never have been asked about."""
    bad = tmp_path / "bad.csv"
    bad.write_text(rows, encoding="utf-8")
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = run(capsys, "plutus", "ask", "MINE", "--vendor", "csv", "--path", str(bad), "--url", url,
                         "--start", "2023-01-01", "--end", "2023-12-31")  # fmt: skip
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith(problem) and "LLM" not in line


@pytest.mark.parametrize("args", [("SPY", "-v", "yfinance"), ("DEMO",)], ids=["yfinance", "demo"])
def test_a_vendor_loads_no_bars_when_the_server_is_down(args, capsys, monkeypatch) -> None:
    """No download (and no demo bars cached) for a question that cannot be asked."""
    import phi.data.store as store

    def no_load(*_, **__):
        raise AssertionError("bars loaded before the server answered")

    monkeypatch.setattr(store, "get_dataset", no_load)
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = run(capsys, "plutus", "ask", *args, "--url", url)
    assert code == 2 and out == ""
    assert err.strip() == f"error: no LLM server at {url}; start Ollama or set OLLAMA_HOST"


def test_backtest_states_where_the_replies_came_from(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("plutus", "backtest", "DEMO", "--start", "2022-06-01", "--end", "2023-12-31", "--every", "15", "--no-save")
    with FakeLLM(momentum_responder) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        code, out, err = run(capsys, *args)
        n = len(fake.requests)
    assert code == 0, err
    assert f"{n} LLM replies: 0 from the cache, {n} from the server" in out
    code, out, err = run(capsys, *args)  # server stopped
    assert code == 0, err
    assert f"{n} LLM replies: {n} from the cache, 0 from the server" in out
