"""The rl_agent indicator: trained on its first bars only, so later bars change nothing before them."""

from __future__ import annotations

import numpy as np

from phi.indicators.registry import compute_signal, get_indicator
from phi.rl.observe import observation_warmup
from tests.ml.frames import planted

PARAMS = {"train_bars": 200, "timesteps": 1024, "seed": 1}


def test_rl_agent_signal_is_causal_under_truncation():
    bars = planted(450, seed=6)
    full = compute_signal("rl_agent", bars, PARAMS)
    warm = get_indicator("rl_agent").warmup(get_indicator("rl_agent").resolve(PARAMS))
    assert warm == observation_warmup() + 200
    assert full.iloc[:warm].isna().all() and set(np.unique(full.iloc[warm:])) <= {0.0, 1.0}
    k = 380
    changed = bars.copy()
    changed.iloc[k:, :4] = changed.iloc[k:, :4].to_numpy()[::-1]
    np.testing.assert_array_equal(compute_signal("rl_agent", changed, PARAMS).iloc[:k], full.iloc[:k])
    np.testing.assert_array_equal(compute_signal("rl_agent", bars.iloc[:k], PARAMS), full.iloc[:k])
