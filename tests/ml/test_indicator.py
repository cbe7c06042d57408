"""The ml_classifier indicator: causal (truncation), refits only on labels already known."""

from __future__ import annotations

import numpy as np
import pytest

from phi.indicators.registry import compute_signal, get_indicator
from phi.ml.features import feature_warmup
from phi.ml.indicator import walk_forward_signal
from tests.ml.frames import planted

PARAMS = {"model": 2, "refit_every": 40, "min_train": 150}


@pytest.fixture(scope="module")
def bars():
    return planted(700, seed=4)


def test_signal_is_causal_under_truncation(bars):
    full = compute_signal("ml_classifier", bars, PARAMS)
    warm = get_indicator("ml_classifier").warmup(get_indicator("ml_classifier").resolve(PARAMS))
    assert warm == feature_warmup() + 150
    assert full.iloc[:warm].isna().all() and full.iloc[warm:].notna().all()
    assert ((full.dropna() >= -1) & (full.dropna() <= 1)).all()
    for k in (warm + 1, warm + 57, 600):
        changed = bars.copy()
        changed.iloc[k:, :4] = changed.iloc[k:, :4].to_numpy()[::-1]  # scramble the future
        changed.iloc[k:, 4] *= 5
        np.testing.assert_array_equal(compute_signal("ml_classifier", changed, PARAMS).iloc[:k], full.iloc[:k])
        np.testing.assert_array_equal(compute_signal("ml_classifier", bars.iloc[:k], PARAMS), full.iloc[:k])


def test_labels_of_a_refit_end_at_or_before_the_refit_bar(bars, monkeypatch):
    """Record every training set: its last label (bar i + horizon) is <= the refit bar."""
    import phi.ml.models as models

    seen = []
    real = models.fit

    def spy(kind, seed, x, y):
        seen.append(len(y))
        return real(kind, seed, x, y)

    monkeypatch.setattr(models, "fit", spy)
    walk_forward_signal(bars, "lr", horizon=3, refit_every=50, min_train=150)
    start = feature_warmup() + 150
    refits = list(range(start, len(bars), 50))
    assert len(seen) == len(refits)
    # samples from the first valid feature bar up to r - horizon: r - 3 - first + 1 (gap-free data)
    assert seen == [r - 3 - feature_warmup() + 1 for r in refits]


def test_planted_pattern_gives_a_useful_signal():
    bars = planted(1200, seed=4)
    s = walk_forward_signal(bars, "rf", refit_every=100, min_train=300)
    nxt = np.sign(bars["close"].shift(-1) - bars["close"])
    valid = s.notna() & nxt.notna() & (s != 0)
    hit = float((np.sign(s[valid]) == nxt[valid]).mean())
    assert hit > 0.55, hit
