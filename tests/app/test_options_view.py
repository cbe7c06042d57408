"""The workbench's options mode: Step 4's settings reach phi.run, and the Options results tab
shows the synthetic-price notice, P&L by greek, the legs and the sensitivity heatmap."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from app_streamlit import ui
from app_streamlit.views import options_form as of
from phi.backtest.engine import EngineConfig
from phi.backtest.run_config import DatasetSpec, RunConfig
from phi.backtest.run_history import list_runs, load_run
from phi.options.config import OptionsConfig
from phi.pipeline import run
from tests.app.conftest import assert_clean, errors, figure, open_tab, run_backtest, start, tables

DS = DatasetSpec("DEMO", "demo", "1D", "2020-01-01", "2024-12-31")


@pytest.fixture(scope="module")
def options_app(tmp_path_factory):
    """The workbench after an options run set up through Step 4's widgets."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHI_HOME", str(tmp_path_factory.mktemp("phi_home")))
        at = start()
        at.segmented_control(key=of.MODE).set_value("options").run()
        for kind, key, value in (
            ("selectbox", of.STRUCTURE, "straddle"),
            ("number_input", of.DTE, 30),
            ("selectbox", of.RULE, "delta"),
            ("number_input", of.IV_PREMIUM, 1.2),
            ("number_input", of.TARGET, 40.0),
            ("number_input", of.STOP, 0.0),
            ("number_input", of.HAIRCUT, 1.0),
            ("number_input", of.CONTRACTS, 2),
        ):
            getattr(at, kind)(key=key).set_value(value)
            at.run()
        run_backtest(at)
        assert_clean(at)
        (summary,) = list_runs()
        yield at, load_run(summary["run_id"])


def test_step4_settings_reach_the_options_run(options_app):
    at, saved = options_app
    cfg = saved.config
    assert cfg.mode == "options"
    o = cfg.options
    assert (o.structure, o.dte, o.strike_rule, o.iv_premium) == ("straddle", 30, "delta", 1.2)
    assert (o.profit_target_pct, o.stop_loss_pct, o.bid_ask_haircut, o.contracts) == (0.4, None, 0.01, 2)
    # only the engine fields an options run uses are carried over (no warning about the rest)
    assert cfg.engine == EngineConfig(initial_capital=cfg.engine.initial_capital,
                                      entry_threshold=cfg.engine.entry_threshold, exit_threshold=cfg.engine.exit_threshold,
                                      calendar=cfg.engine.calendar, warmup_bars=cfg.engine.warmup_bars)  # fmt: skip
    direct = RunConfig(DS, ["rsi", "macd"], engine=EngineConfig(calendar=cfg.engine.calendar), mode="options",
                       options=OptionsConfig(structure="straddle", dte=30, strike_rule="delta", iv_premium=1.2,
                                             profit_target_pct=0.4, stop_loss_pct=None, bid_ask_haircut=0.01,
                                             contracts=2))  # fmt: skip
    expected = run(direct, save=False)
    assert saved.metrics["final_equity"] == expected.metrics["final_equity"]
    assert len(saved.trades) == len(expected.trades) > 0 and set(saved.trades.structure) == {"straddle"}


def test_options_tab_shows_notice_attribution_legs_and_heatmap(options_app):
    at, saved = options_app
    at = open_tab(at, "Options")
    assert_clean(at)
    assert any("Prices are synthetic" in w.value and "no option quotes" in w.value for w in at.warning)
    (attr,) = tables(at, "component", "pnl")
    parts = attr.set_index("component")["pnl"]
    equity_change = saved.metrics["final_equity"] - 100_000.0
    assert parts["net = equity change"] == pytest.approx(equity_change, abs=1e-6)
    assert parts.drop("net = equity change").sum() == pytest.approx(equity_change, abs=1e-6)
    (legs,) = tables(at, "kind", "strike", "entry_delta")
    assert len(legs) == 2 * len(saved.trades) and set(legs.kind) == {"call", "put"}
    # a straddle: call and put of one trade share the strike
    assert (legs.groupby("trade")["strike"].nunique() == 1).all()
    figs = [k for k in ("res:opt:chart:attribution", "res:opt:chart:greeks")]
    for key in figs:
        assert figure(at, key)["data"]
    at.button(key="res:opt:heat_go").click().run()
    assert_clean(at)
    heat = figure(at, "res:opt:chart:heatmap")["data"][0]
    z = pd.DataFrame(heat["z"], index=heat["y"], columns=heat["x"])
    assert z.shape == (4, 4)
    # the cell at the run's own settings (IV x1, haircut 1 %) is the run itself
    assert z.loc["x1", "1%"] == pytest.approx(saved.metrics["final_equity"], rel=1e-12)
    # a wider spread never helps: final equity falls along every row
    assert (z.diff(axis=1).iloc[:, 1:] <= 1e-9).all().all()


def test_equities_mode_is_untouched():
    at = start()
    assert at.segmented_control(key=of.MODE).value == "equities"
    run_backtest(at)
    assert_clean(at)
    assert "Options" not in [t.label for t in at.tabs] and "Signals" in [t.label for t in at.tabs]
    (summary,) = list_runs()
    saved = load_run(summary["run_id"])
    assert saved.config.mode == "equities" and saved.config.options is None
    # options settings add nothing to an equities config
    assert of.options_settings({}, {"initial_capital": 1.0, "stop_loss_pct": 0.05}) == {}
    got = of.options_settings({of.MODE: "options", of.ROLL: 0, of.CONTRACTS: 0}, {"initial_capital": 1.0, "stop_loss_pct": 0.05})
    assert got["engine"] == {"initial_capital": 1.0}
    assert got["options"]["roll_dte"] is None and got["options"]["contracts"] is None  # 0 = off / by risk


CHAIN_DATA = Path(__file__).resolve().parents[1] / "options" / "data"


@pytest.fixture(scope="module")
def chain_app(tmp_path_factory):
    """The workbench after an options run priced from an uploaded chain on uploaded bars
    (the committed example pair under tests/options/data/)."""
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("phi_home_chain")
        mp.setenv("PHI_HOME", str(home))
        at = start()
        at.button(key="ind:macd:remove").click().run()  # 50 bars: too short for MACD's warm-up
        at.slider(key="ind:rsi:p:period").set_value(5).run()
        at.selectbox(key="ds:vendor").set_value("csv").run()
        at.file_uploader(key="ds:upload").upload("XYZ.csv", (CHAIN_DATA / "xyz_bars.csv").read_bytes(), "text/csv").run()
        at.button(key="ds:fetch").click().run()
        at.segmented_control(key=of.MODE).set_value("options").run()
        chain = (CHAIN_DATA / "xyz_chain_eod.csv").read_bytes()
        at.file_uploader(key=of.CHAIN_UPLOAD).upload("xyz chain.csv", chain, "text/csv").run()
        for kind, key, value in (
            ("selectbox", of.STRUCTURE, "long_put"),
            ("number_input", of.DTE, 30),
            ("number_input", of.TARGET, 0.0),
            ("number_input", of.STOP, 0.0),
            ("number_input", of.CONTRACTS, 2),
            ("number_input", of.COMMISSION, 0.65),
        ):
            getattr(at, kind)(key=key).set_value(value)
            at.run()
        assert any("priced from the uploaded chain" in c.value for c in at.caption)
        run_backtest(at)
        assert_clean(at)
        (summary,) = list_runs()
        yield at, load_run(summary["run_id"]), chain, home


def test_an_uploaded_chain_is_stored_and_prices_the_run(chain_app):
    at, saved, chain, home = chain_app
    o = saved.config.options
    stored = Path(o.chain)
    # stored under PHI_HOME (content-addressed), byte for byte the upload
    assert stored.parent == home / "uploads" and stored.read_bytes() == chain
    assert o.chain_fill == "bid_ask" and o.structure == "long_put"
    assert "option quotes from the end-of-day chain" in saved.assumptions["prices"]
    at = open_tab(at, "Options")
    assert_clean(at)
    # every leg shown was bought at the ask recorded in the chain file (the reference is the CSV)
    q = pd.read_csv(CHAIN_DATA / "xyz_chain_eod.csv").set_index(["date", "expiry", "strike", "kind"])
    (legs,) = tables(at, "kind", "strike", "entry_price")
    assert len(legs) == len(saved.trades) > 0 and set(legs.kind) == {"put"}
    for _, leg in legs.iterrows():
        assert leg["entry_price"] == q.loc[(leg["entry_time"], leg["expiry"], leg["strike"], leg["kind"]), "ask"]
    assert not any("Prices are synthetic" in w.value for w in at.warning)
    assert any("option quotes from the end-of-day chain" in i.value for i in at.info)
    at.button(key="res:opt:heat_go").click().run()
    assert_clean(at)
    heat = figure(at, "res:opt:chart:heatmap")
    assert "(the chain's mids -/+ the haircut)" in heat["layout"]["title"]["text"]
    z = pd.DataFrame(heat["data"][0]["z"], index=heat["data"][0]["y"], columns=heat["data"][0]["x"])
    assert z.shape == (1, 4)  # on quotes the IV is the chain's: one row
    # the grid fills at the mids: at 0 % that beats the run's own ask-in / bid-out fills
    assert z.loc["x1", "0%"] > saved.metrics["final_equity"]


def test_a_bad_chain_is_one_error_line_and_blocks_the_run():
    at = start()
    at.segmented_control(key=of.MODE).set_value("options").run()
    bad = (CHAIN_DATA / "xyz_chain_eod.csv").read_text().splitlines()
    head, row = bad[0], bad[1].split(",")
    row[4], row[5] = row[5], row[4]  # bid above ask on the first quote
    if float(row[4]) == float(row[5]):
        row[4] = str(float(row[5]) + 1.0)
    data = "\n".join([head, ",".join(row), *bad[2:]]).encode()
    at.file_uploader(key=of.CHAIN_UPLOAD).upload("vendor.csv", data, "text/csv").run()
    assert not at.exception
    (msg,) = errors(at)
    assert msg == "option chain 'vendor.csv': row 2: bid is above ask"
    run_backtest(at)
    assert not at.exception
    assert any("Cannot run" in e and "bid is above ask" in e for e in errors(at)), errors(at)
    assert list_runs() == []


def test_greeks_chart_gives_each_unit_its_own_titled_axis(options_app):
    """Delta (shares), vega (money per vol point) and theta (money per day) are three panels
    with their own y axes, each titled with its unit; on a bar with the first straddle open the
    panels show Black-Scholes by hand (N(d1), S·φ(d1)·√T, the textbook theta; T in days / 365)
    summed over the legs x contracts x 100."""
    import numpy as np
    from scipy.stats import norm

    from phi.data.store import get_dataset

    at, saved = options_app
    at = open_tab(at, "Options")
    assert_clean(at)
    spec = figure(at, "res:opt:chart:greeks")
    layout = spec["layout"]
    traces = spec["data"]
    assert [t.get("yaxis", "y") for t in traces] == ["y", "y2", "y3"]  # one axis each
    titles = [layout[ax]["title"]["text"] for ax in ("yaxis", "yaxis2", "yaxis3")]
    assert titles == ["Delta (shares)", "Vega ($ per vol pt)", "Theta ($ per day)"]
    assert layout["showlegend"] is False  # each axis says what its line is

    opt = run(saved.config, save=False).options  # the run again (deterministic): its legs and IVs
    ds = saved.config.dataset
    frame = get_dataset(ds.symbol, ds.start, ds.end, ds.timeframe, ds.vendor).frame
    o = saved.config.options
    legs = opt.legs[opt.legs["trade"] == opt.legs["trade"].min()]
    t = frame.index[frame.index.get_loc(legs["entry_time"].iloc[0]) + 1]  # the bar after the entry
    assert (legs["exit_time"] > t).all()  # still open at that close
    s, sig, r, q = float(frame["close"].loc[t]), float(opt.iv.loc[t]), o.risk_free_rate, o.dividend_yield
    delta = vega = theta = 0.0
    for _, leg in legs.iterrows():
        k, tau = float(leg["strike"]), (leg["expiry"] - t).days / 365.0
        d1 = (np.log(s / k) + (r - q + sig**2 / 2) * tau) / (sig * np.sqrt(tau))
        d2 = d1 - sig * np.sqrt(tau)
        n = float(leg["contracts"]) * o.multiplier
        decay = -s * np.exp(-q * tau) * norm.pdf(d1) * sig / (2 * np.sqrt(tau))
        if leg["kind"] == "call":
            dl = np.exp(-q * tau) * norm.cdf(d1)
            carry = -r * k * np.exp(-r * tau) * norm.cdf(d2) + q * s * np.exp(-q * tau) * norm.cdf(d1)
            th = decay + carry
        else:
            dl = -np.exp(-q * tau) * norm.cdf(-d1)
            carry = r * k * np.exp(-r * tau) * norm.cdf(-d2) - q * s * np.exp(-q * tau) * norm.cdf(-d1)
            th = decay + carry
        delta += n * dl
        vega += n * s * np.exp(-q * tau) * norm.pdf(d1) * np.sqrt(tau) / 100.0  # per vol point
        theta += n * th / 365.0  # per day
    at_t = [dict(zip(tr["x"], tr["y"], strict=True)) for tr in traces]
    stamp = next(x for x in at_t[0] if str(x).startswith(str(t.date())))
    got = [at_t[i][stamp] for i in range(3)]
    np.testing.assert_allclose(got, [delta, vega, theta], rtol=1e-9)


def test_a_ruined_run_says_so_above_the_tabs(options_app):
    # audit: a ruined options run showed its ruin only in the collapsed assumption ledger (the
    # CLI prints it in red); the ledger text comes from a real ruin (tests/options/test_ruin.py's
    # negative-rate bear call spread: equity < 0 at bar 6's close)
    import dataclasses

    from app_streamlit import forms
    from phi.options.simulator import run_options_backtest
    from tests.options.test_accounting_audit import _bars, _cfg, _cross

    ruined = run_options_backtest(
        _bars([100.0] * 6 + [200.0] * 6), _cross(12, 4, -1.0),
        _cfg(structure="bear_call_spread", dte=365, moneyness=(0.0, 0.05), contracts=1000,
             risk_free_rate=-0.05, bid_ask_haircut=0.01), EngineConfig(),
    )  # fmt: skip
    note = ruined.assumptions["ruin"]
    assert note.startswith("equity reached <= 0 at the close of bar 6")
    at, _ = options_app
    last = at.session_state[forms.RUN_RESULT]
    res = last["result"]
    assert not any("Ruin" in e.value for e in at.error)  # the fixture's run was not ruined
    bad = dataclasses.replace(res, assumptions={**res.assumptions, "ruin": note, "ruin_bar": ruined.assumptions["ruin_bar"]})
    at.session_state[forms.RUN_RESULT] = {"result": bad, "frame": last["frame"]}
    try:
        at.run()
        shown = [e.value for e in at.error]
    finally:  # the module's fixture stays as the other tests expect it
        at.session_state[forms.RUN_RESULT] = last
        at.run()
    assert shown == [f"**Ruin** — {note}"] and "\n" not in note


def test_skipped_entries_say_why_above_the_tabs(options_app):
    # audit: why options entries were skipped was a UserWarning saying "set contracts" even with
    # contracts set; it is now the ledger's skipped_note, shown above the tabs as the ruin note is
    # (the note from a real run: 3 contracts of a 30-day call on 200 of cash, tests/options/test_sizing.py)
    import dataclasses

    from app_streamlit import forms
    from tests.options.test_sizing import _call_run

    skipped = _call_run(200.0, contracts=3)
    note = skipped.assumptions["skipped_note"]
    assert "could not secure even 1 of the 3 contracts asked" in note and "set contracts" not in note
    at, _ = options_app
    last = at.session_state[forms.RUN_RESULT]
    res = last["result"]
    assert res.assumptions["skipped_note"] == "none"
    assert not any("Entries" in w.value for w in at.warning)  # the fixture's run skipped nothing
    bad = dataclasses.replace(res, assumptions={**res.assumptions, "skipped_note": note, "skipped_entries": 1})
    at.session_state[forms.RUN_RESULT] = {"result": bad, "frame": last["frame"]}
    try:
        at.run()
        shown = [w.value for w in at.warning if "Entries" in w.value]
    finally:  # the module's fixture stays as the other tests expect it
        at.session_state[forms.RUN_RESULT] = last
        at.run()
    assert shown == [f"**Entries skipped** — {ui.md_text(note)}"] and "\n" not in note
