"""Plutus page (the seed's "Plutus Bot" tab): is the LLM server there, ask Plutus about the
loaded dataset's last bar, and backtest the Plutus preset with its trade journal.

All of it is :mod:`phi.plutus` (advisor, strict parsing, journal in simulated time, reply cache
under PHI_HOME); this page collects settings and shows results. Without a server the page
says so in one line; a backtest whose replies are all cached still runs.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pandas as pd
import streamlit as st

from app_streamlit import forms, ui

ASK_FORM = "plutus:ask_form"
MODEL = "plutus:model"
PROTOCOL = "plutus:protocol"
URL = "plutus:url"
TIMEOUT = "plutus:timeout"
USE_REGIME = "plutus:regime"
ADVICE = "plutus:advice"
ASK = "plutus:ask"
#: what the shown answer was asked with (ask_settings), and whether the last Ask failed
ASKED = "plutus:asked"
ASK_FAILED = "plutus:ask_failed"
BT_FORM = "plutus:bt_form"
EVERY = "plutus:every"
MIN_CONF = "plutus:min_conf"
BACKTEST = "plutus:backtest"
BT_GO = "plutus:bt_go"
BT_FAILED = "plutus:bt_failed"
_SIGNAL_SIGN = {"BUY": 1, "SELL": -1, "HOLD": 0}


def _advisor(url: str | None = None, model: str | None = None, protocol: str | None = None, timeout: float = 60.0) -> Any:
    from phi.plutus.advisor import PlutusAdvisor

    return PlutusAdvisor(url or None, model or None, protocol or os.environ.get("PHI_PLUTUS_PROTOCOL", "ollama"), timeout)


def connection_line() -> None:
    """One line: the server answers, or how to start it."""
    adv = ui.attempt(_advisor)
    if isinstance(adv, ui.Failed):
        return
    problem = adv.client.ping(timeout=1.5)
    if problem:
        st.warning(f"{problem}. Asking needs the server; a backtest whose replies are all cached runs without it.",
                   icon=":material/cloud_off:")  # fmt: skip
    else:
        st.success(f"LLM server at {adv.base_url} answers (model {adv.model}, {adv.protocol}).", icon=":material/cloud_done:")


def _ask(ds: Any, spec: dict[str, Any]) -> None:
    """The Ask fields and button, then the last answer (marked when the fields no longer
    describe it). No ``st.form``: each field keeps what the user typed across trips to other
    pages (:func:`app_streamlit.ui.kept`)."""
    from phi.plutus.client import DEFAULT_MODEL

    with st.container(border=True, key=ASK_FORM):
        st.markdown("**Ask Plutus** about the bar after the last one of the loaded dataset")
        c = st.columns([2, 2, 1, 1])
        # masked as a password: a server URL may carry one (http://user:secret@host); the
        # connection line and every message show it with the password as ***
        url = c[0].text_input("Server (empty: $OLLAMA_HOST)", type="password", **ui.kept(URL, ""),
                              help="The LLM server's URL, e.g. http://127.0.0.1:11434. Masked, as it may hold a password.")  # fmt: skip
        model = c[1].text_input("Model", **ui.kept(MODEL, os.environ.get("PHI_PLUTUS_MODEL") or DEFAULT_MODEL))
        protocol = c[2].selectbox("Protocol", ("ollama", "openai"), **ui.kept(PROTOCOL, "ollama"))
        timeout = c[3].number_input("Timeout [s]", 1.0, 600.0, step=5.0, **ui.kept(TIMEOUT, 60.0))
        regime = st.checkbox("Include the regime engine's brief", **ui.kept(USE_REGIME, True))
        asked = st.button("Ask Plutus", key=ASK, type="primary")
    day = f"{ds.frame.index[-1]:%Y-%m-%d}"
    now = ask_settings(url, model, protocol, float(timeout), regime, spec.get("symbol"), day)
    if asked:
        advice = ui.attempt(ask_plutus, ds.frame, url, model, protocol, float(timeout), regime, spec.get("symbol"))
        st.session_state[ASK_FAILED] = isinstance(advice, ui.Failed)
        if not isinstance(advice, ui.Failed):
            st.session_state[ADVICE] = (spec.get("symbol"), day, advice)
            st.session_state[ASKED] = now
    shown = st.session_state.get(ADVICE)
    if shown:
        ran = st.session_state.get(ASKED)
        ui.outdated("answer", "Ask Plutus", ask_changes(ran, now) if ran else [],
                    failed=bool(st.session_state.get(ASK_FAILED)), said_above=asked)  # fmt: skip
        show_advice(*shown)


def ask_settings(url: str, model: str, protocol: str, timeout: float, regime: bool, symbol: str | None, day: str) -> dict[str, str]:
    """What an answer is asked with, in the page's words. The server as shown to people (its
    password ``***``) and, under ``"_server"``, a SHA-256 digest of the URL as typed: a changed
    password is told apart without keeping a second copy of it in clear."""
    from phi.plutus.client import redact

    return {"server": redact(url.strip()) or "$OLLAMA_HOST", "model": model.strip(), "protocol": protocol,
            "timeout": f"{timeout:g} s", "regime brief": "on" if regime else "off", "dataset": f"{symbol} after {day}",
            "_server": hashlib.sha256(url.strip().encode()).hexdigest()}  # fmt: skip


def ask_changes(ran: dict[str, str], now: dict[str, str]) -> list[str]:
    """What differs between the shown answer's settings and the fields now (:func:`ask_settings`)."""
    out = ui.changed({k: v for k, v in ran.items() if k != "_server"}, {k: v for k, v in now.items() if k != "_server"})
    if ran.get("_server") != now.get("_server") and not any(r.startswith("server ") for r in out):
        out.insert(0, "server (its password or user)")
    return out


def ask_plutus(frame: pd.DataFrame, url: str, model: str, protocol: str, timeout: float, regime: bool, symbol: str | None) -> Any:
    """One question to the server (phi does the work)."""
    res = None
    if regime:
        from phi.regime.engine import RegimeEngine

        res = RegimeEngine().run(frame)
    from phi.plutus.client import LLMError, LLMUnavailableError

    adv = _advisor(url, model, protocol, timeout)
    try:
        return adv.advise(frame, res, symbol=symbol)
    except LLMError as exc:
        if isinstance(exc, LLMUnavailableError):
            raise
        raise type(exc)(ui.md_text(str(exc))) from None  # it quotes the server's reply: text, not Markdown


def show_advice(symbol: str | None, day: str, advice: Any) -> None:
    ui.ribbon(
        [
            ("Plutus says", advice.signal, _SIGNAL_SIGN.get(advice.signal, 0)),
            ("confidence", f"{advice.confidence:.2f}", 0),
            ("for", f"{symbol} after {day}", 0),
        ]
    )
    if advice.error:
        st.warning(f"Reply not used (treated as HOLD): {ui.md_text(advice.error)}", icon=":material/warning:")
    else:
        st.markdown(f"**Reasoning.** {ui.md_text(advice.reasoning)}")  # the model's words, never markup
        st.markdown(f"**Risk note.** {ui.md_text(advice.risk_note)}")
        if advice.note:
            st.caption(f"Note: {advice.note}.")
    with st.expander("Raw reply"):
        st.code(advice.raw or "(no reply)", language="json")


def run_backtest(spec: dict[str, Any], every: int, min_confidence: float) -> dict[str, Any]:
    """The Plutus preset on the loaded dataset, then its journal from the (now cached) replies."""
    from phi.plutus.indicator import advisor_from_env
    from phi.plutus.preset import plutus_config, run_plutus
    from phi.plutus.signals import plutus_decisions

    cfg = plutus_config(spec["symbol"], vendor=spec["vendor"], timeframe=spec["timeframe"], start=spec["start"],
                        end=spec["end"], path=spec.get("path"), every=every, min_confidence=min_confidence)  # fmt: skip
    result, tally = run_plutus(cfg)
    ds = st.session_state.get(forms.DATASET)
    journal = None
    if ds is not None:
        _, journal = plutus_decisions(ds.frame, advisor_from_env(), every=every)  # all cached now
    summary = tally.summary()
    if tally.errors:  # the first failure's reason quotes the server: text, not Markdown
        summary = summary.replace(tally.errors[0], ui.md_text(tally.errors[0]))
    return {"result": result, "tally": summary, "journal": journal}


def _backtest_server() -> str:
    """Which server the backtest asks: the environment's, never the Ask form's fields (so a
    re-run replays the same cached replies)."""
    from phi.plutus.indicator import advisor_from_env

    try:
        adv = advisor_from_env()
    except Exception as exc:  # a bad PHI_PLUTUS_* value: phi's one line
        return f"The backtest asks the server set in the environment, which is refused: {ui.error_text(exc)}"
    return (f"The backtest asks the server set in the environment — {adv.base_url}, model {adv.model}, "
            f"{adv.protocol} (OLLAMA_HOST / OPENAI_BASE_URL, PHI_PLUTUS_MODEL, PHI_PLUTUS_PROTOCOL) — "
            "not the Ask form's server, model or protocol, so a re-run replays the same cached replies.")  # fmt: skip


def _backtest(spec: dict[str, Any]) -> None:
    with st.container(border=True, key=BT_FORM):
        st.markdown("**Plutus backtest** — one question per decision bar; replies cached under PHI_HOME")
        st.caption(_backtest_server())
        c = st.columns(2)
        every = c[0].number_input("Ask every N bars", 1, 20, step=1, **ui.kept(EVERY, 5))
        min_conf = c[1].slider("Confidence needed to act", 0.5, 0.95, step=0.05, **ui.kept(MIN_CONF, 0.6))
        go = st.button("Run Plutus backtest", key=BT_GO)
    now = {"ask every": f"{int(every)} bars", "confidence needed": f"{float(min_conf):.2f}"}
    if go:
        from phi.plutus.indicator import PLUTUS

        ds = st.session_state.get(forms.DATASET)
        n = max(0, (len(ds.frame) - PLUTUS.warmup({}) + int(every) - 1) // int(every)) if ds is not None else 0
        with st.spinner(f"Asking Plutus about {n:,} bars (replies already in the cache come at once; a new one "
                        "takes the model's time) ..."):  # fmt: skip
            ran = ui.attempt(run_backtest, spec, int(every), float(min_conf))
        st.session_state[BT_FAILED] = isinstance(ran, ui.Failed)
        if not isinstance(ran, ui.Failed):
            st.session_state[BACKTEST] = {**ran, "settings": now}
    out: dict[str, Any] | None = st.session_state.get(BACKTEST)
    if not out:
        return
    from app_streamlit.views.scanner import show_run_summary

    ui.outdated("Plutus backtest", "Run Plutus backtest", ui.changed(out.get("settings") or now, now),
                failed=bool(st.session_state.get(BT_FAILED)), said_above=go)  # fmt: skip
    show_run_summary(out["result"], "plutus", out["tally"])
    save_error = getattr(out["result"], "save_error", None)
    if save_error:  # the result stays; why it is not in the run history, once
        st.warning(f"Not saved to the run history: {ui.sentence(str(save_error))} The result is shown here.")
    journal = out.get("journal")
    if journal is not None:
        right, scored = journal.hit_rate()
        st.markdown(f"**Trade journal** (dated by bar, simulated time) — hit rate {right}/{scored}"
                    + (f" ({right / scored:.0%})" if scored else ""))  # fmt: skip
        table = journal.to_frame()
        table["date"] = [f"{d:%Y-%m-%d}" for d in table["date"]]
        st.dataframe(table, hide_index=True, key="plutus:journal")


def render() -> None:
    st.subheader("Plutus — local LLM advisor")
    connection_line()
    ds = st.session_state.get(forms.DATASET)
    if ds is None:
        st.info("Load a dataset in the sidebar first; Plutus reads its bars.")
        return
    spec = st.session_state.get(forms.DATASET_SPEC, {})
    st.caption(f"Dataset {spec.get('symbol')} {spec.get('timeframe')} {spec.get('start')} .. {spec.get('end')} "
               f"({spec.get('vendor')}{' · SYNTHETIC demo data' if ds.synthetic else ''}), {len(ds.frame):,} bars.")  # fmt: skip
    _ask(ds, spec)
    _backtest(spec)
