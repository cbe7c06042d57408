"""structure="auto": the first-match table on hand-made states, and the simulator trading it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phi.backtest.engine_config import EngineConfig
from phi.errors import ConfigError
from phi.options.auto import choose_structures, gex_regime, iv_regime
from phi.options.config import OptionsConfig
from phi.options.simulator import run_options_backtest
from phi.options.structures import STRUCTURES
from tests.conftest import make_ohlcv


def test_iv_and_gex_regimes_at_their_boundaries():
    assert list(iv_regime([0.89, 0.9, 1.3, 1.31, np.nan])) == ["LOW_IV", "NORMAL", "NORMAL", "HIGH_IV", "UNKNOWN"]
    assert list(gex_regime([0.3, -0.3, 0.29, np.nan, 0.9], [0, 0, 0, 0, 1])) == [
        "PINNING", "AMPLIFY", "NEUTRAL", "NEUTRAL", "FLIP"]  # fmt: skip


@pytest.mark.parametrize(
    ("regime", "ratio", "gex", "up", "down"),
    [
        ("TREND_UP", 0.8, "NEUTRAL", "long_call", "long_put"),  # down: no row -> fallback
        ("TREND_UP", 1.0, "NEUTRAL", "bull_call_spread", "long_put"),
        ("TREND_UP", 1.5, "NEUTRAL", "bull_put_spread", "long_put"),
        ("TREND_DN", 0.8, "NEUTRAL", "long_call", "long_put"),
        ("TREND_DN", 1.0, "NEUTRAL", "long_call", "bear_put_spread"),
        ("TREND_DN", 1.5, "NEUTRAL", "long_call", "bear_call_spread"),
        ("RANGE", 1.5, "NEUTRAL", "iron_condor", "iron_condor"),
        ("RANGE", 1.5, "PINNING", "iron_condor", "iron_condor"),
        ("RANGE", 1.5, "AMPLIFY", "long_call", "long_put"),
        ("RANGE", 1.0, "NEUTRAL", "long_call", "long_put"),
        ("EXHAUST_REV", 1.0, "NEUTRAL", "straddle", "straddle"),
        ("TREND_UP", 0.8, "FLIP", "straddle", "straddle"),  # the flip zone comes first
        ("BREAKOUT_UP", 0.8, "NEUTRAL", "long_call", "long_put"),
        ("BREAKOUT_UP", 1.5, "NEUTRAL", "bull_call_spread", "long_put"),
        ("BREAKOUT_DN", 1.0, "NEUTRAL", "long_call", "bear_put_spread"),
        ("HIGHVOL", 1.5, "NEUTRAL", "long_call", "long_put"),
        (None, 1.0, "NEUTRAL", None, None),  # regime unknown (warm-up): no entry
        ("TREND_UP", np.nan, "NEUTRAL", None, None),  # vol unknown: no entry
    ],
)
def test_first_match_table(regime, ratio, gex, up, down):
    c = choose_structures(pd.Series([regime], dtype=object), np.array([ratio]), np.array([gex], dtype=object))
    assert (c.up[0], c.down[0]) == (up, down)


def test_reason_names_the_states_and_the_rule():
    c = choose_structures(pd.Series(["TREND_UP", "RANGE"]), np.array([0.5, 1.0]))
    assert c.reason(0, "up") == "TREND_UP, LOW_IV (iv/rv 0.50), GEX NEUTRAL, signal up -> rule 5"
    assert c.reason(1, "down").endswith("-> fallback")


# ---- the simulator ------------------------------------------------------------------------

N = 400


def _signal(n: int, every: int = 25, short: bool = False) -> np.ndarray:
    """Up crosses (or down) every ``every`` bars, held 10 bars, then back to 0 (a signal exit)."""
    s = np.zeros(n)
    for start in range(110, n - 12, every):
        s[start : start + 10] = -1.0 if short else 1.0
    return s


def _run(df, sig, regime, **kw):
    base = dict(structure="auto", dte=30, profit_target_pct=None, stop_loss_pct=None, contracts=1, vol_window=20)
    base.update(kw)
    return run_options_backtest(df, sig, OptionsConfig(**base), EngineConfig(warmup_bars=100), regime=regime)


def test_auto_trades_what_the_regime_and_vol_state_call_for():
    df = make_ohlcv(N, seed=3)
    trend = pd.Series("TREND_UP", index=df.index, dtype=object)
    cheap = _run(df, _signal(N), trend, iv_premium=0.5)  # iv/rv ~ 0.5: LOW_IV
    rich = _run(df, _signal(N), trend, iv_premium=3.0)  # ~ 3: HIGH_IV
    assert len(cheap.trades) >= 8 and set(cheap.trades.structure) == {"long_call"}
    assert set(rich.trades.structure) == {"bull_put_spread"}
    assert rich.trades.structure_reason.str.contains("TREND_UP, HIGH_IV").all()
    # a bull put spread is a credit: sell the near put (higher strike), buy the far one
    legs = rich.legs[rich.legs.trade == 0].sort_values("strike")
    assert list(legs.kind) == ["put", "put"] and list(np.sign(legs.contracts)) == [1.0, -1.0]
    assert rich.trades.entry_value.iloc[0] < 0
    # short signals in an up-trend: no row matches -> the long put fallback
    short = _run(df, _signal(N, short=True), trend, iv_premium=3.0)
    assert set(short.trades.structure) == {"long_put"} and short.trades.structure_reason.str.endswith("fallback").all()
    # the equity identity holds with structures switching
    np.testing.assert_allclose(short.equity, short.cash + short.position_value, rtol=0, atol=1e-9)


def test_auto_switches_with_the_regime_and_wires_the_iron_condor():
    df = make_ohlcv(N, seed=4)
    half = N // 2 + 20
    reg = pd.Series(["TREND_UP"] * half + ["RANGE"] * (N - half), index=df.index, dtype=object)
    res = _run(df, _signal(N), reg, iv_premium=3.0)
    decided = res.trades.entry_bar - 1
    expect = np.where(decided < half, "bull_put_spread", "iron_condor")
    assert len(res.trades) >= 8 and list(res.trades.structure) == list(expect)
    ic = res.trades.index[res.trades.structure == "iron_condor"][0]
    legs = res.legs[res.legs.trade == ic].sort_values("strike")
    # long far put < short near put < short near call < long far call
    assert list(legs.kind) == ["put", "put", "call", "call"]
    assert list(np.sign(legs.contracts)) == [1.0, -1.0, -1.0, 1.0]
    assert res.trades.side.loc[ic] == "neutral"


def test_auto_resolving_to_one_structure_is_that_structure():
    df = make_ohlcv(N, seed=5)
    trend = pd.Series("TREND_UP", index=df.index, dtype=object)
    auto = _run(df, _signal(N), trend, iv_premium=0.5)
    fixed = _run(df, _signal(N), trend, iv_premium=0.5, structure="long_call")
    pd.testing.assert_series_equal(auto.equity, fixed.equity)
    pd.testing.assert_frame_equal(auto.legs, fixed.legs)
    assert "auto: chosen per bar" in auto.assumptions["structure"]


def test_unknown_regime_opens_nothing_and_bad_labels_are_errors():
    df = make_ohlcv(N, seed=6)
    none = pd.Series([None] * N, index=df.index, dtype=object)
    assert _run(df, _signal(N), none, iv_premium=0.5).trades.empty
    with pytest.raises(ConfigError, match="unknown label 'UPTREND'"):
        _run(df, _signal(N), pd.Series("UPTREND", index=df.index), iv_premium=0.5)


def test_auto_with_the_regime_engine_is_causal():
    df = make_ohlcv(600, seed=7)
    sig = _signal(600, every=20)
    full = run_options_backtest(df, sig, OptionsConfig(structure="auto", contracts=1), EngineConfig(warmup_bars=100))
    assert len(full.trades) > 0 and set(full.trades.structure) <= set(STRUCTURES)
    assert full.trades.structure_reason.notna().all()
    # bars after t change nothing decided up to t: the same run on the first 450 bars
    cut = run_options_backtest(df.iloc[:450], sig[:450], OptionsConfig(structure="auto", contracts=1), EngineConfig(warmup_bars=100))
    done = full.trades[full.trades.exit_bar < 440].reset_index(drop=True)
    pd.testing.assert_frame_equal(cut.trades.iloc[: len(done)].reset_index(drop=True), done)


def test_auto_round_trips_in_a_run_config():
    from phi.backtest.run_config import DatasetSpec, RunConfig

    cfg = RunConfig(DatasetSpec("DEMO"), ["rsi"], mode="options", options={"structure": "auto", "dte": 30})
    back = RunConfig.from_json(cfg.to_json())
    assert back == cfg and back.options is not None and back.options.structure == "auto"


# ---- auto on a real chain: states from each day's own quotes --------------------------------

XYZ_DIR = __import__("pathlib").Path(__file__).parent / "data"


def _xyz(tmp_path=None, drop=(), cutoff=None):
    bars = pd.read_csv(XYZ_DIR / "xyz_bars.csv", parse_dates=["date"]).set_index("date")
    bars.index = bars.index.tz_localize("UTC")
    chain = str(XYZ_DIR / "xyz_chain_eod.csv")
    if drop or cutoff:
        q = pd.read_csv(chain)
        q = q.drop(columns=list(drop))
        if cutoff:
            q = q[q["date"] <= cutoff]
            bars = bars[bars.index <= pd.Timestamp(cutoff, tz="UTC")]
        chain = str(tmp_path / "chain.csv")
        q.to_csv(chain, index=False)
    sig = np.zeros(len(bars))
    for s0 in (3, 14, 27, 38):
        sig[s0 : s0 + 5] = 1.0
    for s0 in (8, 20, 33):
        sig[s0 : s0 + 3] = -1.0
    reg = pd.Series(["TREND_UP"] * 20 + ["RANGE"] * (len(bars) - 20), index=bars.index, dtype=object)
    opts = OptionsConfig(structure="auto", chain=chain, dte=30, vol_window=5, contracts=1,
                         profit_target_pct=None, stop_loss_pct=None)  # fmt: skip
    return bars, run_options_backtest(bars, sig[: len(bars)], opts, EngineConfig(), regime=reg)


def test_auto_on_a_chain_reads_each_days_gex():
    from phi.options.gex import gamma_exposure

    bars, res = _xyz()
    assert len(res.trades) >= 3 and res.assumptions["prices"].startswith("option quotes")
    for _, tr in res.trades.iterrows():
        decided = bars.index[int(tr.entry_bar) - 1]
        g = gamma_exposure(str(XYZ_DIR / "xyz_chain_eod.csv"), decided, spot=float(bars.close.loc[decided]))
        want = gex_regime(np.array([g.features["gamma_net"]]), np.array([g.features["gex_flip_zone"]]))[0]
        assert f"GEX {want}," in tr.structure_reason
        if want == "FLIP":
            assert tr.structure == "straddle" and tr.structure_reason.endswith("rule 1")
    legs = res.legs.groupby("trade").size()
    assert (legs[res.trades.index[res.trades.structure == "straddle"]] == 2).all()


def test_auto_on_a_chain_without_open_interest_has_no_gex_and_is_causal(tmp_path):
    bars, res = _xyz(tmp_path, drop=("open_interest",))
    assert len(res.trades) >= 3 and res.trades.structure_reason.str.contains("GEX NEUTRAL").all()
    # RANGE with cheap or normal vol matches no row: long call / long put by the signal's side
    assert set(res.trades.structure) <= {"long_call", "long_put"}
    # a chain and bars cut after a day: every trade closed by then is the same
    cut_day = "2024-03-01"
    _, cut = _xyz(tmp_path, drop=("open_interest",), cutoff=cut_day)
    done = res.trades[res.trades.exit_time < pd.Timestamp(cut_day, tz="UTC")].reset_index(drop=True)
    assert len(done) >= 2
    pd.testing.assert_frame_equal(cut.trades.iloc[: len(done)].reset_index(drop=True), done)


def test_auto_on_too_few_bars_for_the_regime_engine_says_so():
    from phi.errors import PhiError

    df = make_ohlcv(60, seed=8)
    with pytest.raises(PhiError, match="structure='auto' reads the regime engine: .*warm-up"):
        run_options_backtest(df, np.zeros(60), OptionsConfig(structure="auto"))
