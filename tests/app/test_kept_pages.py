"""What a user types on the Scanner, Backtests, Batch, Plutus, ML Status and Regime pages, without
pressing their Run button, is kept across trips to other pages (was: ``st.form`` fields whose
edits lived in the browser until submitted, lost on a trip); the run then uses exactly those
values, and a shown result the fields no longer describe is marked as the previous one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.app.conftest import assert_clean, start, tables, warnings_


def _trip(at: AppTest, page: str) -> None:
    """Visit the Workbench and the Cache manager (the page's widgets not drawn), then come back to ``page``."""
    for nav in ("Workbench", "Cache manager"):
        at.session_state["nav"] = nav
        at.run()
        assert_clean(at)
    at.session_state["nav"] = page
    at.run()
    assert_clean(at)


def _shown(at: AppTest, fields: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    return {key: getattr(at, kind)(key=key).value for key, (kind, _) in fields.items()}


def _type(at: AppTest, fields: dict[str, tuple[str, Any]]) -> None:
    for key, (kind, value) in fields.items():  # one script run per edit, as in a browser
        getattr(at, kind)(key=key).set_value(value).run()


def _previous(at: AppTest) -> list[str]:
    return [w for w in warnings_(at) if w.startswith("Previous")]


def test_scanner_fields_survive_a_trip_and_the_scan_uses_them() -> None:
    from app_streamlit.views import scanner as view

    fields = {view.SYMBOLS: ("text_input", "demo2, DEMO"), view.START: ("date_input", dt.date(2023, 1, 2)),
              view.END: ("date_input", dt.date(2023, 12, 29)), view.RANK_BY: ("selectbox", "composite")}  # fmt: skip
    at = start(nav="Scanner")
    _type(at, fields)
    _trip(at, "Scanner")
    assert _shown(at, fields) == {k: v for k, (_, v) in fields.items()}
    at.button(key=view.GO).click().run()
    assert_clean(at)
    result = at.session_state[view.RESULT]
    (table,) = tables(at, "symbol", "score")
    assert sorted(table["symbol"]) == ["DEMO", "DEMO2"] and result.rank_by == "composite"
    assert {str(t.date()) for t in result.table()["last_bar"]} == {"2023-12-29"}  # a Friday, a business day
    assert not _previous(at)
    at.text_input(key=view.SYMBOLS).set_value("DEMO").run()  # an edit after the scan: the table is marked
    assert _previous(at) == ["Previous scan shown — the page now differs: symbols DEMO (run: DEMO2 DEMO). Press Scan to update."]
    at.text_input(key=view.SYMBOLS).set_value("DEMO2 demo").run()  # the same symbols, written otherwise
    assert not _previous(at)


def test_backtests_fields_and_cards_survive_a_trip_and_the_run_uses_them() -> None:
    import phi.strategies as strategies
    from app_streamlit.views import backtests as view

    at = start(nav="Backtests")
    picks = {view.pick(p.key): ("checkbox", p.name in ("RSI", "BuyAndHold")) for p in strategies.list()}
    fields = {view.START: ("date_input", dt.date(2023, 1, 2)), view.BENCHMARK: ("text_input", ""),
              view.METRIC: ("selectbox", "total_return"), view.CAPITAL: ("number_input", 50_000.0)}  # fmt: skip
    for key, (_, value) in picks.items():
        at.checkbox(key=key).set_value(value)
    at.run()
    _type(at, fields)
    _trip(at, "Backtests")
    assert _shown(at, {**picks, **fields}) == {k: v for k, (_, v) in {**picks, **fields}.items()}
    at.button(key=view.GO).click().run()
    assert_clean(at)
    cmp = at.session_state[view.RESULT]
    assert sorted(r.preset.name for r in cmp.runs) == ["BuyAndHold", "RSI"] and cmp.metric == "total_return"
    first = cmp.runs[0].result
    assert (first.config.dataset.start, float(first.config.engine.initial_capital)) == ("2023-01-02", 50_000.0)
    assert all(r.benchmark is None for r in cmp.runs) and not _previous(at)
    at.number_input(key=view.CAPITAL).set_value(60_000.0).run()
    assert _previous(at) == ["Previous head to head shown — the page now differs: capital 60000.0 (run: 50000.0). "
                             "Press Run head to head to update."]  # fmt: skip


def test_batch_fields_survive_a_trip_and_the_batch_uses_them() -> None:
    from app_streamlit.views import batch as view
    from phi.backtest.run_history import load_run

    fields = {view.SYMBOLS: ("text_input", "DEMO, DEMO2"), view.GRID: ("text_input", "period=6,10"),
              view.WHERE: ("selectbox", "inline"), view.START: ("date_input", dt.date(2023, 1, 2)),
              view.END: ("date_input", dt.date(2023, 12, 29)), view.METRIC: ("selectbox", "total_return")}  # fmt: skip
    at = start(nav="Batch")
    _type(at, fields)
    _trip(at, "Batch")
    assert _shown(at, fields) == {k: v for k, (_, v) in fields.items()}
    at.button(key=view.GO).click().run()
    assert_clean(at)
    data = at.session_state[view.RESULT]
    runs = [load_run(o.run_id) for o in data["result"].ok]
    assert sorted((r.config.dataset.symbol, r.config.indicators[0].params["period"]) for r in runs) == [
        ("DEMO", 6), ("DEMO", 10), ("DEMO2", 6), ("DEMO2", 10)]
    assert {(r.config.dataset.start, r.config.dataset.end) for r in runs} == {("2023-01-02", "2023-12-29")}
    assert data["result"].scheduler == "inline" and data["summary"].metric == "total_return" and not _previous(at)
    at.text_input(key=view.GRID).set_value("period=6").run()
    assert _previous(at) == ["Previous batch shown — the page now differs: parameter grid period=6 (run: period=6,10). "
                             "Press Run batch to update."]  # fmt: skip


def test_plutus_fields_survive_a_trip_the_runs_use_them_and_the_server_stays_masked(monkeypatch) -> None:
    from streamlit.proto.TextInput_pb2 import TextInput

    from app_streamlit.views import plutus as view
    from tests.plutus.fake_llm import FakeLLM, momentum_responder

    with FakeLLM(momentum_responder) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)  # the backtest's server
        at = start()
        at.date_input(key="ds:start").set_value(dt.date(2024, 6, 3)).run()
        at.button(key="ds:fetch").click().run()
        at.session_state["nav"] = "Plutus"
        at.run()
        typed = fake.url.replace("http://", "http://me:pw-secret@")
        fields = {view.URL: ("text_input", typed), view.MODEL: ("text_input", "tiny"),
                  view.TIMEOUT: ("number_input", 30.0), view.USE_REGIME: ("checkbox", False),
                  view.EVERY: ("number_input", 10), view.MIN_CONF: ("slider", 0.7)}  # fmt: skip
        _type(at, fields)
        _trip(at, "Plutus")
        assert _shown(at, fields) == {k: v for k, (_, v) in fields.items()}
        assert at.text_input(key=view.URL).proto.type == TextInput.Type.PASSWORD
        at.button(key=view.ASK).click().run()
        assert_clean(at)
        path, body, headers = fake.requests[-1]
        assert (path, body["model"]) == ("/api/chat", "tiny")
        assert headers.get("Authorization") == "Basic bWU6cHctc2VjcmV0"  # base64("me:pw-secret"): the typed server
        assert "Regime engine: not used." in body["messages"][-1]["content"]  # the brief unticked
        at.button(key=view.BT_GO).click().run()
        assert_clean(at)
    plutus = at.session_state[view.BACKTEST]["result"].config.indicators[0]
    assert plutus.params == {"every": 10, "min_confidence": 0.7}
    assert not _previous(at)
    at.number_input(key=view.EVERY).set_value(5).run()
    at.text_input(key=view.MODEL).set_value("other").run()
    assert _previous(at) == [
        "Previous answer shown — the page now differs: model other (run: tiny). Press Ask Plutus to update.",
        "Previous Plutus backtest shown — the page now differs: ask every 5 bars (run: 10 bars). "
        "Press Run Plutus backtest to update.",
    ]
    at.text_input(key=view.URL).set_value(typed.replace("pw-secret", "pw-other")).run()
    assert "server (its password or user) (run" not in _previous(at)[0]
    assert _previous(at)[0].startswith("Previous answer shown — the page now differs: server (its password or user); model other")
    # the password is never on the page, nor in the record of what the answer was asked with
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.success, *at.warning, *at.error, *at.info])
    assert "pw-secret" not in shown and "pw-other" not in shown
    assert "pw-secret" not in repr(at.session_state[view.ASKED])


def test_ml_status_fields_survive_a_trip_and_the_training_uses_them() -> None:
    from phi.ml.store import load_metadata

    fields = {"ml:model": ("selectbox", "lr"), "ml:folds": ("number_input", 2), "ml:horizon": ("number_input", 3),
              "ml:holdout": ("slider", 0.3), "ml:features": ("selectbox", "wyckoff")}  # fmt: skip
    at = start(nav="ML Status")
    assert at.text_input(key="ml:name").value == "DEMO_rf"
    _type(at, fields)
    assert at.text_input(key="ml:name").value == "DEMO_lr"  # follows the model until typed
    at.text_input(key="ml:name").set_value("kept_lr").run()
    at.selectbox(key="ml:model").set_value("gb").run()
    at.selectbox(key="ml:model").set_value("lr").run()
    _trip(at, "ML Status")
    assert _shown(at, {**fields, "ml:name": ("text_input", "kept_lr")}) == {
        **{k: v for k, (_, v) in fields.items()}, "ml:name": "kept_lr"}
    at.button(key="ml:go").click().run()
    assert_clean(at)
    meta = load_metadata("kept_lr")
    assert (meta["model"], meta["folds"], len(meta["cv_scores"])) == ("lr", 2, 2)
    assert (meta["holdout"], meta["feature_set"], meta["label"]["horizon"]) == (0.3, "wyckoff", 3)
    at.text_input(key="ml:name").set_value("").run()  # emptied: follows the dataset and model again
    assert at.text_input(key="ml:name").value == "DEMO_lr"


def test_regime_settings_survive_a_trip_and_the_engine_uses_them() -> None:
    import numpy as np

    from app_streamlit.views import regime as view
    from phi.data.store import get_dataset
    from phi.regime import MFTConfig, RegimeEngine
    from tests.app.conftest import figure, html_text

    fields = {view.MSL: ("slider", 0.5), view.FLOOR: ("slider", 0.45), "regime:eta:kingdom": ("slider", 0.12),
              "regime:temp:genus": ("number_input", 2.5)}  # fmt: skip
    at = start(nav="Regime")
    _type(at, fields)
    assert "regime:overrides" not in at.session_state  # not run yet: the Step 3 blend keeps the engine's defaults
    _trip(at, "Regime")
    assert _shown(at, fields) == {k: v for k, (_, v) in fields.items()}
    at.button(key=view.GO).click().run()
    assert_clean(at)
    # the reference: the engine's defaults with exactly the four typed values
    tax = MFTConfig().taxonomy
    ref = MFTConfig.from_dict({"taxonomy": {"msl_kingdom_scale": 0.5, "smoothing": {**tax.smoothing, "kingdom": 0.12},
                                            "temperature": {**tax.temperature, "genus": 2.5}},
                               "confidence": {"trade_floor": 0.45}})  # fmt: skip
    assert MFTConfig.from_dict(at.session_state["regime:overrides"]) == ref
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    expected = RegimeEngine(ref).run(frame).regime_probs
    shown = figure(at, "regime:chart:probs")["data"]
    for trace in shown:
        np.testing.assert_allclose(trace["y"], expected[trace["name"]].to_numpy(), equal_nan=True)
    assert "/ min 0.45" in html_text(at) and not _previous(at)
    at.slider(key=view.MSL).set_value(1.0).run()  # an edit after the run: the charts are marked
    assert _previous(at) == ["Previous regime result shown — the page now differs: market-structure weight 1 (run: 0.5). "
                             "Press Run regime engine to update."]  # fmt: skip
    at.slider(key=view.MSL).set_value(0.5).run()  # back to what ran
    assert not _previous(at)
