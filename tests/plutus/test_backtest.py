"""Plutus over a frame in simulated time, and the cached preset re-run without the server."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from phi.data.demo import generate_demo
from phi.plutus.advisor import PlutusAdvisor
from phi.plutus.cache import ReplyCache, count_replies
from phi.plutus.client import LLMUnavailableError
from phi.plutus.journal import TradeJournal
from phi.plutus.signals import decision_signal, plutus_decisions
from tests.plutus.fake_llm import FakeLLM, momentum_responder, reply

FRAME = generate_demo("DEMO", "2022-01-01", "2023-12-31")


def _user(body: dict) -> str:
    return body["messages"][-1]["content"]


def test_the_journal_is_dated_by_the_bars_and_scores_every_call() -> None:
    with FakeLLM(momentum_responder) as fake:
        decisions, journal = plutus_decisions(FRAME, PlutusAdvisor(fake.url, "m", timeout=5), every=25, journal_size=50)
    close = FRAME["close"]
    assert len(decisions) == len(fake.requests) == len(journal) > 5
    assert [e.date for e in journal.entries] == list(decisions.index)
    assert set(decisions.index) <= set(FRAME.index)
    entries = journal.entries
    for e, nxt in zip(entries, entries[1:], strict=False):  # outcome: close to the next decision's close
        assert e.outcome == close[nxt.date] / close[e.date] - 1.0
    assert entries[-1].outcome is None
    right = sum((e.signal == "BUY" and e.outcome > 0) or (e.signal == "SELL" and e.outcome < 0)
                for e in entries[:-1] if e.signal != "HOLD")  # fmt: skip
    scored = sum(e.signal != "HOLD" for e in entries[:-1])
    assert journal.hit_rate() == (right, scored)
    # the prompt of decision k lists decisions 0..k-1 by their bar dates, never today's date
    today = f"{pd.Timestamp.now(tz='UTC'):%Y-%m-%d}"
    for k, (_, body, _) in enumerate(fake.requests):
        user = _user(body)
        listed = re.findall(r"^(\d{4}-\d{2}-\d{2}) (?:BUY|SELL|HOLD) conf", user, flags=re.M)
        assert listed == [f"{d:%Y-%m-%d}" for d in decisions.index[:k]]
        assert f"last bar {decisions.index[k]:%Y-%m-%d}" in user and today not in user


def test_a_decision_uses_no_later_bar() -> None:
    """Decisions (and the prompts behind them) on the first k bars equal those on all bars."""
    k = 300
    with FakeLLM(momentum_responder) as full:
        d_full, _ = plutus_decisions(FRAME, PlutusAdvisor(full.url, "m", timeout=5), every=20)
    with FakeLLM(momentum_responder) as cut:
        d_cut, _ = plutus_decisions(FRAME.iloc[:k], PlutusAdvisor(cut.url, "m", timeout=5), every=20)
    pd.testing.assert_frame_equal(d_cut, d_full.loc[d_full.index < FRAME.index[k]])
    assert [b["messages"] for _, b, _ in cut.requests] == [b["messages"] for _, b, _ in full.requests[: len(cut.requests)]]


def test_signal_acts_on_confident_calls_and_holds_otherwise() -> None:
    idx = pd.date_range("2024-01-01", periods=8, freq="D", tz="UTC")
    dec = pd.DataFrame(
        {"signal": ["HOLD", "BUY", "BUY", "HOLD", "SELL", "SELL"], "confidence": [0.9, 0.7, 0.5, 0.8, 0.65, 0.2]},
        index=idx[1:7],
    )
    sig = decision_signal(dec, idx, min_confidence=0.6)
    expected = [np.nan, 0.0, 0.7, 0.7, 0.7, -0.65, -0.65, -0.65]
    np.testing.assert_array_equal(sig.to_numpy(), expected)


def test_malformed_replies_in_a_run_are_holds_with_their_errors() -> None:
    replies = [reply("BUY", 0.9), "not json", reply("SELL", 2.0), reply("HOLD", 0.4)]
    with FakeLLM(replies) as fake:
        dec, journal = plutus_decisions(FRAME, PlutusAdvisor(fake.url, "m", timeout=5), every=60, use_regime=False)
    assert list(dec["signal"][:4]) == ["BUY", "HOLD", "HOLD", "HOLD"]
    assert dec["error"].iloc[1] == "no JSON object in the reply" and "outside [0, 1]" in dec["error"].iloc[2]
    assert dec["error"].iloc[[0, 3]].isna().all()


def test_the_cached_preset_reruns_identically_without_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from phi.plutus.preset import plutus_config, run_plutus

    cfg = plutus_config("DEMO", start="2022-01-01", end="2023-12-31", every=10)
    with FakeLLM(momentum_responder) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        first, t1 = run_plutus(cfg)
    assert t1.fresh == len(fake.requests) > 10 and t1.cached == 0 and t1.failed == 0
    assert t1.summary() == f"{t1.fresh} LLM replies: 0 from the cache, {t1.fresh} from the server"
    # the server is gone: the run reads every reply from the cache and gives the same result
    second, t2 = run_plutus(cfg)
    assert (t2.cached, t2.fresh) == (t1.fresh, 0)
    assert first.metrics == second.metrics and len(first.trades) > 0
    from phi.backtest import run_history as rh

    saved = rh.load_run(second.run_id)
    assert json.loads(rh.saved_file(saved, "plutus_replies.json"))["cached"] == t1.fresh
    assert second.assumptions["llm_replies"] == t2.summary()
    pd.testing.assert_frame_equal(rh.load_run(first.run_id).trades, saved.trades)
    pd.testing.assert_frame_equal(first.trades, second.trades)
    pd.testing.assert_series_equal(first.equity, second.equity)
    # one reply missing from the cache and no server: one line saying so
    files = sorted(ReplyCache().root.glob("*/*.json"))
    assert len(files) == t1.fresh
    last = max(files, key=lambda p: p.stat().st_mtime_ns)
    last.unlink()
    with pytest.raises(LLMUnavailableError, match=r"^no LLM server at http://127\.0\.0\.1:\d+; start Ollama or set OLLAMA_HOST \(\d+ replies of this run were in the cache; the next one was not\)$"):
        run_plutus(cfg, save=False)


def test_a_read_only_cache_still_gives_the_advice(tmp_path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with FakeLLM([reply("BUY", 0.8)]) as fake, count_replies() as tally:
        a = PlutusAdvisor(fake.url, "m", timeout=5, cache=ReplyCache(blocked / "replies")).advise(FRAME)
    assert a.signal == "BUY" and (tally.fresh, tally.unsaved) == (1, 1)
    assert tally.summary() == "1 LLM reply: 0 from the cache, 1 from the server; 1 could not be stored in the cache"


def test_journal_rejects_time_going_backwards() -> None:
    from phi.errors import DataError

    j = TradeJournal()
    j.record(FRAME.index[5], "BUY", 0.7, 100.0)
    with pytest.raises(DataError, match="journal dates must move forward"):
        j.record(FRAME.index[4], "SELL", 0.7, 100.0)


def test_the_prompt_shows_the_last_entries_and_the_journal_keeps_all() -> None:
    j = TradeJournal(max_entries=2)
    prices = [100.0, 102.0, 101.0, 99.0]
    for day, sig, p in zip(FRAME.index[:4], ["BUY", "SELL", "BUY", "HOLD"], prices, strict=True):
        j.record(day, sig, 0.7, p)
    assert len(j.entries) == 4 and [e.date for e in j.recent] == list(FRAME.index[2:4])
    lines = j.brief().splitlines()
    assert lines[0].startswith("Trade journal (last 2 decisions") and len(lines) == 4
    assert lines[1] == f"{FRAME.index[2]:%Y-%m-%d} BUY conf 0.70 at 101.00 -> {99 / 101 - 1:+.2%} (wrong)"
    assert lines[-1] == "Hit rate of BUY/SELL calls: 2/3 (67%)"  # BUY up (right), SELL down (right), BUY down (wrong)


def test_the_plutus_preset_is_in_the_catalogue_marked_as_needing_a_server() -> None:
    import phi.strategies as strategies
    from phi.plutus.preset import plutus_config

    cfg = plutus_config("DEMO", every=3, min_confidence=0.7)
    preset = strategies.get("plutus bot")
    assert preset.name == "Plutus" and strategies.get("Plutus") is preset and preset.needs_server
    assert preset in strategies.list(include_server=True) and preset not in strategies.list()
    assert cfg.tags == ("preset:plutus",) and cfg.indicators[0].params == {"every": 3, "min_confidence": 0.7}
    assert cfg.engine == preset.config(cfg.dataset).engine  # the catalogue's engine settings and costs
