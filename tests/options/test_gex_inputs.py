"""GEX features as causal, as-of-joined inputs: to the classifiers (phi.ml) and beside the
regime engine (phi.options.gex.gex_regime_inputs, ``phi regime --chain``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import phi
from phi.errors import DataError
from phi.ml.features import build_features
from phi.options.gex import GEX_FEATURES, gex_asof, gex_features, gex_regime_inputs
from tests.ml.frames import random_walk

DATA = Path(__file__).parent / "data"
CHAIN = str(DATA / "xyz_chain_eod.csv")


def _xyz_bars() -> pd.DataFrame:
    return pd.read_csv(DATA / "xyz_bars.csv", parse_dates=["date"]).set_index("date")


def _utc(*days: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(days, tz="UTC")


def test_asof_join_worked_by_hand():
    # chains on Tue 2 Jan and Fri 5 Jan 2024
    feats = pd.DataFrame({"gamma_net": [0.5, -0.25]}, index=_utc("2024-01-02", "2024-01-05"))
    bars = pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-08",
                             "2024-01-09", "2024-01-10"])  # fmt: skip
    got = gex_asof(bars, feats, max_age_days=4)
    # 1 Jan: no chain yet; 4 Jan: Tuesday's (2 days old); 8/9 Jan: Friday's (3/4 days old);
    # 10 Jan: Friday's would be 5 days old > 4 -> NaN, not carried
    np.testing.assert_array_equal(got["gamma_net"], [np.nan, 0.5, 0.5, -0.25, -0.25, -0.25, np.nan])
    np.testing.assert_array_equal(got["gex_age_days"], [np.nan, 0, 2, 0, 3, 4, np.nan])
    assert got.attrs["gex_missing"] == 2
    assert got["gex_date"].iloc[2] == pd.Timestamp("2024-01-02", tz="UTC")
    # intraday bars never see their own day's end-of-day chain
    intraday = pd.DatetimeIndex(["2024-01-05 10:00", "2024-01-05 15:30", "2024-01-08 09:30"])
    got = gex_asof(intraday, feats, max_age_days=4)
    np.testing.assert_array_equal(got["gamma_net"], [0.5, 0.5, -0.25])
    np.testing.assert_array_equal(got["gex_age_days"], [3, 3, 3])
    # daily bars stamped at local midnight (New York) are daily bars of that date
    ny = pd.DatetimeIndex(["2024-01-04", "2024-01-05"]).tz_localize("America/New_York")
    np.testing.assert_array_equal(gex_asof(ny, feats)["gamma_net"], [0.5, -0.25])
    with pytest.raises(DataError, match="max_age_days"):
        gex_asof(bars, feats, max_age_days=-1)


def _truncated_chain(tmp_path: Path, day: str) -> str:
    q = pd.read_csv(CHAIN)
    path = tmp_path / "cut.csv"
    q[pd.to_datetime(q["date"]) <= pd.Timestamp(day)].to_csv(path, index=False)
    return str(path)


def test_regime_inputs_are_causal(tmp_path):
    bars = _xyz_bars()
    full = gex_regime_inputs(bars, CHAIN)
    assert list(full.columns[:4]) == list(GEX_FEATURES) and full.attrs["gex_missing"] == 0
    # each row is that date's chain, with the bars' close as the spot
    direct = gex_features(CHAIN, spots=pd.Series(bars["close"].to_numpy(), index=bars.index.tz_localize("UTC")))
    np.testing.assert_array_equal(full[list(GEX_FEATURES)].to_numpy(), direct[list(GEX_FEATURES)].to_numpy())
    t = "2024-02-09"
    cut = gex_regime_inputs(bars, _truncated_chain(tmp_path, t))
    upto = bars.index <= t
    pd.testing.assert_frame_equal(cut[upto], full[upto], check_like=False)
    # after the cut the chain is at most 4 days old, then NaN (and counted)
    after = cut[~upto]
    assert (after["gex_age_days"].dropna() <= 4).all() and after["gamma_net"].isna().sum() == cut.attrs["gex_missing"] > 0
    # truncating the bars after t changes nothing at or before t either
    pd.testing.assert_frame_equal(gex_regime_inputs(bars[upto], CHAIN), full[upto])


def test_ml_features_join_the_chain_causally(tmp_path):
    bars = random_walk(200, seed=5)
    chain = _chain_for(bars, tmp_path, 100)
    base = build_features(bars, "wyckoff")
    full = build_features(bars, "wyckoff", chain=chain)
    gcols = [f"gex:{c}" for c in GEX_FEATURES]
    assert list(full.columns) == [*base.columns, *gcols]
    pd.testing.assert_frame_equal(full[base.columns], base)
    assert full.attrs["gex_missing"] == 100 and full[gcols].iloc[:100].isna().all().all()
    # gamma_expiry_days is in days (30 - not clipped like the z-scores)
    assert (full["gex:gamma_expiry_days"].iloc[100:] == 30).all()
    t = bars.index[150]
    q = pd.read_csv(chain)
    q[pd.to_datetime(q["date"], utc=True) <= t].to_csv(tmp_path / "cut.csv", index=False)
    cut = build_features(bars, "wyckoff", chain=str(tmp_path / "cut.csv"))
    upto = bars.index <= t
    pd.testing.assert_frame_equal(cut[upto], full[upto])
    # t is a Monday: Tuesday..Friday carry its chain (1..4 days old), the rest are NaN
    assert t.day_name() == "Monday" and cut["gex:gamma_net"][~upto].isna().sum() == 49 - 4


def _chain_for(bars: pd.DataFrame, path: Path, first: int) -> str:
    """A small chain (two strikes either side, one 30-day expiry, iv and open interest) for
    every bar from ``first`` on, written as a vendor CSV."""
    rng = np.random.default_rng(1)
    rows = []
    for ts, close in bars["close"].iloc[first:].items():
        day = ts.strftime("%Y-%m-%d")
        expiry = (ts + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
        for k in np.round(close * np.array([0.95, 0.98, 1.02, 1.05])):
            for kind in ("call", "put"):
                rows.append((day, expiry, k, kind, 1.0, 1.1, 0.2, int(rng.integers(100, 5000)), close))
    df = pd.DataFrame(rows, columns=["date", "expiry", "strike", "kind", "bid", "ask", "iv", "open_interest", "underlying"])
    df.to_csv(path / "chain.csv", index=False)
    return str(path / "chain.csv")


def test_training_with_a_chain_records_its_fingerprint(tmp_path):
    import hashlib

    bars = random_walk(1000, seed=3)
    chain = _chain_for(bars, tmp_path, 700)
    m = phi.ml.train_classifier(bars, model="lr", folds=2, feature_set="wyckoff", chain=chain)
    assert [f for f in m.features if f.startswith("gex:")] == [f"gex:{c}" for c in GEX_FEATURES]
    rec = m.data["chain"]
    assert rec["fingerprint"] == hashlib.sha256(Path(chain).read_bytes()).hexdigest()
    assert rec["path"] == chain and rec["bars_without_chain"] == 700
    # only bars with a chain were used: the first training row is on or after the chain's start
    assert pd.Timestamp(m.data["final_train"]["start"]) >= bars.index[700]
    # predictions read the same chain; bars before it have no probability
    p = m.predict_proba(bars)
    assert p.iloc[:700].isna().all() and p.iloc[-100:].notna().all()
    no_overlap = _chain_for(bars.iloc[:10], tmp_path, 0)
    with pytest.raises(DataError, match="no bar has both"):
        phi.ml.train_classifier(bars, model="lr", folds=2, feature_set="wyckoff", chain=no_overlap)


def test_phi_regime_shows_the_chain_beside_the_regime(tmp_path, capsys):
    from phi.cli import main

    bars = random_walk(160, seed=2)
    bars.index = bars.index.tz_localize(None).rename("date")
    bars.to_csv(tmp_path / "bars.csv")
    chain = _chain_for(bars.iloc[:-3], tmp_path, 100)  # the last 3 bars carry the last chain
    args = ["regime", "WALK", "--vendor", "csv", "--path", str(tmp_path / "bars.csv"), "--start", "2000-01-01",
            "--end", "2000-12-31", "--last", "4"]  # fmt: skip
    assert main(args) == 0
    plain = capsys.readouterr().out
    assert main([*args, "--chain", chain]) == 0
    out = capsys.readouterr().out
    assert out.startswith(plain)  # the regime result is the same with or without a chain
    assert "not used by the regime taxonomy" in out
    expected = gex_regime_inputs(bars, chain)
    last = expected.iloc[-1]
    assert expected.attrs["gex_missing"] == 100 and last["gex_age_days"] == 3 and f"{last['gamma_net']:+.3f}" in out
    assert f"{bars.index[-4]:%Y-%m-%d}" in out and "100 of 160 bars have no chain" in out.replace("\n", " ")
    code = main([*args, "--chain", str(Path(__file__).parent / "chain_tiny.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "no chain date a bar can use" in err and len(err.strip().splitlines()) == 1
