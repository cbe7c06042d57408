"""Regime view: the regime engine's probabilities, dominant regime, composite and confidences
on the loaded dataset, and its settings form."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("phi.regime.engine")

from phi.data.store import get_dataset  # noqa: E402
from phi.regime import MFTConfig, RegimeEngine  # noqa: E402
from tests.app.conftest import assert_clean, figure, html_text, start  # noqa: E402


@pytest.fixture
def regime_app():
    at = start()
    at.segmented_control(key="nav").set_value("Regime").run()
    assert_clean(at)
    return at


def test_regime_view_shows_the_engine_output(regime_app):
    at = regime_app
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    res = RegimeEngine().run(frame)
    area = figure(at, "regime:chart:probs")["data"]
    assert [t["name"] for t in area] == list(res.regime_probs.columns)
    assert all(t.get("stackgroup") == "p" for t in area)
    stacked = np.nansum([np.asarray(t["y"], dtype=float) for t in area], axis=0)
    valid = ~np.isnan(np.asarray(area[0]["y"], dtype=float))
    np.testing.assert_allclose(stacked[valid], 1.0, atol=1e-9)
    np.testing.assert_allclose(area[0]["y"], res.regime_probs.iloc[:, 0].to_numpy(), equal_nan=True)
    timeline = figure(at, "regime:chart:timeline")["data"]
    assert timeline[0]["name"] == "close"
    dominant = res.dominant_regime()
    shown = {t["name"]: len(t["x"]) for t in timeline[1:]}
    assert shown == dominant.dropna().value_counts().to_dict()
    comp = {t["name"]: t for t in figure(at, "regime:chart:composite")["data"]}
    np.testing.assert_allclose(comp["composite"]["y"], res.mix["composite"].to_numpy(), equal_nan=True)
    conf = {t["name"] for t in figure(at, "regime:chart:confidence")["data"]}
    assert {"regime certainty (c_field)", "expert agreement (c_consensus)", "liquidity (c_liquidity)"} <= conf
    # the trade floor is a dotted line named in the legend, not a label over the y axis' ticks
    shapes = figure(at, "regime:chart:confidence")["layout"]["shapes"]
    floor_line = [s for s in shapes if s.get("name", "").startswith("minimum to trade")]
    assert len(floor_line) == 1 and floor_line[0]["showlegend"] is True
    assert floor_line[0]["y0"] == floor_line[0]["y1"] == MFTConfig().confidence.trade_floor
    assert not figure(at, "regime:chart:confidence")["layout"].get("annotations")
    assert str(dominant.iloc[-1]) in html_text(at)
    # the confidence is explained against the trade floor, in words
    c = float(res.mix["confidence"].iloc[-1])
    floor = MFTConfig().confidence.trade_floor
    side = "would trade" if c >= floor else "would stay out"
    assert f"Confidence {c:,.3f} is" in html_text(at) and side in html_text(at)  # as the ribbon shows it
    # ... and how often the confidence reached the floor on these bars, counted by hand
    hist = res.mix["confidence"].iloc[res.warmup :].dropna()
    share = sum(1 for v in hist if v >= floor) / len(hist)
    assert f"Over the {len(hist):,} bars after the warm-up it reached the minimum on {share:.1%} of them" in html_text(at)
    # the score has an axis of its own (it looked flat on the composite's -1..1)
    layout = figure(at, "regime:chart:composite")["layout"]
    assert comp["composite"].get("yaxis", "y") == "y" and comp["score"]["yaxis"] == "y2"
    assert layout["yaxis"]["range"] == [-1.05, 1.05] and "range" not in layout["yaxis2"]
    np.testing.assert_allclose(comp["score"]["y"], res.mix["score"].to_numpy(), equal_nan=True)


def test_every_setting_has_a_plain_label_and_help_with_range_and_default(regime_app):
    at = regime_app
    widgets = [w for w in [*at.slider, *at.number_input] if str(w.key).startswith("regime:")]
    assert len(widgets) == 4 + 2 * 6
    for w in widgets:
        assert "η" not in w.label and "γ" not in w.label and "MSL" not in w.label, w.label
        assert w.help and "Range" in w.help and "default" in w.help, (w.label, w.help)


def test_regime_colours_are_eight_distinct_hues(regime_app):
    timeline = figure(regime_app, "regime:chart:timeline")["data"]
    colours = [t["marker"]["color"] for t in timeline[1:]] + [timeline[0]["line"]["color"]]
    assert len(set(map(str.lower, colours))) == len(colours)
    area = figure(regime_app, "regime:chart:probs")
    colours = [t["line"]["color"] for t in area["data"]]
    assert len(colours) == 8 and len(set(map(str.lower, colours))) == 8
    # the axis ends where the data ends
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    assert area["layout"]["xaxis"]["range"][1].startswith(f"{frame.index[-1]:%Y-%m-%d}")


def test_settings_form_reruns_the_engine(regime_app):
    at = regime_app
    before = figure(at, "regime:chart:probs")["data"][0]["y"]
    at.slider(key="regime:eta:kingdom").set_value(0.5)
    at.number_input(key="regime:temp:phylum").set_value(2.0)
    at.button[[b.label for b in at.button].index("Run regime engine")].click().run()
    assert_clean(at)
    after = figure(at, "regime:chart:probs")["data"][0]["y"]
    assert not np.allclose(np.nan_to_num(before), np.nan_to_num(after))
    cfg = MFTConfig.from_dict(at.session_state["regime:overrides"])
    assert cfg.taxonomy.smoothing["kingdom"] == 0.5 and cfg.taxonomy.temperature["phylum"] == 2.0
    # the untouched settings keep their calibrated values (temperatures up to ~50 are not clipped)
    calibrated = MFTConfig().taxonomy.temperature
    assert calibrated["genus"] > 5.0
    assert {k: v for k, v in cfg.taxonomy.temperature.items() if k != "phylum"} == {
        k: v for k, v in calibrated.items() if k != "phylum"
    }
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    expected = RegimeEngine(cfg).run(frame).regime_probs.iloc[:, 0].to_numpy()
    np.testing.assert_allclose(after, expected, equal_nan=True)


def test_regime_view_on_too_short_data_is_an_error():
    import datetime as dt

    at = start()
    at.date_input(key="ds:start").set_value(dt.date(2024, 11, 1)).run()
    at.button(key="ds:fetch").click().run()
    at.segmented_control(key="nav").set_value("Regime").run()
    assert not at.exception
    assert any("warm-up" in e.value for e in at.error)


def test_confidence_text_says_how_often_the_floor_is_reached():
    import pandas as pd

    from app_streamlit.views.regime import confidence_text

    hist = pd.Series([0.1, 0.2, 0.35, 0.5, float("nan")])  # 2 of 4 bars at or above 0.3
    text = confidence_text(0.5, 0.3, hist)
    assert "would trade on this bar" in text
    assert "Over the 4 bars after the warm-up it reached the minimum on 50.0% of them" in text
    assert "median 0.275, 90th percentile 0.455" in text and "almost never" not in text
    low = confidence_text(0.05, 0.3, pd.Series([0.01] * 99 + [0.4]))  # 1 %
    assert "on 1.0% of them" in low and "would almost never trade on these bars" in low
    assert confidence_text(None, 0.3) == "Confidence is not available on the last bar (warm-up)."


def test_regime_view_shows_the_top_two_margin(regime_app):
    import html

    at = regime_app
    frame = get_dataset("DEMO", "2020-01-01", "2024-12-31", "1D", "demo").frame
    probs = RegimeEngine().run(frame).regime_probs
    top = np.sort(probs.to_numpy(), axis=1)
    margin = top[:, -1] - top[:, -2]  # top minus second probability, by hand
    text = html_text(at)
    # a second line in the ribbon's confidence card, and one sentence under the ribbon
    ribbon = html.unescape(next(str(el.proto.body) for el in at.get("html") if "phi-ribbon" in str(el.proto.body)))
    card = ribbon[ribbon.index(">confidence<") : ribbon.index(">score<")]
    floor = MFTConfig().confidence.trade_floor
    assert f' / min {floor:.2f}</div><div class="n">top-two margin {margin[-1]:,.3f}</div></div>' in card
    assert (
        f"Top-two margin {margin[-1]:,.3f} (the top regime probability minus the second): it ranks the dominant "
        "regime's right calls better than the confidence, which stays the trading gate (README, Regime engine)."
    ) in text
    # and a line on the confidence chart
    lines = {t["name"]: t for t in figure(at, "regime:chart:confidence")["data"]}
    np.testing.assert_allclose(lines["top-two margin"]["y"], margin, equal_nan=True, rtol=0, atol=1e-15)


def test_margin_text_in_the_warm_up():
    from app_streamlit.views.regime import margin_text

    assert margin_text(float("nan")).startswith("Top-two margin n/a (the top regime probability")
    assert margin_text(None) == margin_text(float("nan"))
    assert margin_text(0.1234).startswith("Top-two margin 0.123 (")
