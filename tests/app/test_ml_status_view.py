"""ML Status page: the empty state, training from the form, each model's card, RL agents."""

from __future__ import annotations

import pytest

from tests.app.conftest import assert_clean, figure, html_text, start


def _open(**state):
    at = start(**state)
    at.segmented_control(key="nav").set_value("ML Status").run()
    assert_clean(at)
    return at


def test_no_models_yet_is_a_clear_state():
    at = _open()
    assert any("No models yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """One classifier and one RL agent, stored in a PHI_HOME shared by the tests below."""
    import os

    import phi.ml
    import phi.rl
    from tests.ml.frames import planted

    home = tmp_path_factory.mktemp("ml_home")
    old = os.environ.get("PHI_HOME")
    os.environ["PHI_HOME"] = str(home)
    try:
        bars = planted(1500, seed=3)
        m = phi.ml.train_classifier(bars, model="lgbm", folds=3, save_as="ar_lgbm")
        phi.rl.train_agent(bars, timesteps=512, random_seeds=2, save_as="ar_ppo")
    finally:
        if old is None:
            os.environ.pop("PHI_HOME", None)
        else:
            os.environ["PHI_HOME"] = old
    return home, m


def test_each_model_shows_its_card(stored, monkeypatch):
    home, m = stored
    monkeypatch.setenv("PHI_HOME", str(home))
    at = _open()
    assert at.selectbox(key="ml:pick").options == ["ar_lgbm", "ar_ppo"]
    text = html_text(at)
    assert f"{m.holdout_scores['accuracy']:.3f}" in text and "hold-out accuracy" in text
    cv = at.dataframe[0].value
    assert list(cv["fold"]) == [1, 2, 3]
    assert list(cv["accuracy"].round(6)) == list(m.cv_scores["accuracy"].round(6))
    cal = figure(at, "ml:cal:ar_lgbm")["data"]
    assert cal[1]["name"] == "hold-out" and len(cal[1]["x"]) == len(m.calibration)
    imp = figure(at, "ml:imp:ar_lgbm")["data"][0]
    top = max(m.importance, key=m.importance.get)
    assert imp["y"][-1] == top  # the largest bar on top
    at.selectbox(key="ml:pick").set_value("ar_ppo").run()
    assert_clean(at)
    assert "random policy" in html_text(at) and "untouched" in html_text(at)


def test_the_form_trains_saves_and_shows_a_model(monkeypatch, tmp_path):
    at = _open()
    at.number_input(key="ml:folds").set_value(2)
    at.selectbox(key="ml:model").set_value("lr")
    at.text_input(key="ml:name").set_value("demo_lr")
    at.button(key="ml:go").click().run()
    assert_clean(at)
    assert any("Trained and saved demo_lr" in s.value for s in at.success)
    assert at.selectbox(key="ml:pick").value == "demo_lr"
    assert "hold-out accuracy" in html_text(at)


def test_a_bad_name_is_one_clear_error():
    at = _open()
    at.text_input(key="ml:name").set_value("../evil")
    at.button(key="ml:go").click().run()
    assert not at.exception and any("model name" in e.value for e in at.error)
