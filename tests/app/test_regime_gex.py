"""The Regime view's optional GEX panel: an uploaded chain's GEX features as of each bar, beside
(not inside) the regime result; a bad chain is one error line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from phi.options.gex import GEX_FEATURES, gex_regime_inputs
from tests.app.conftest import assert_clean, errors, start
from tests.ml.frames import random_walk
from tests.options.test_gex_inputs import _chain_for


def test_regime_view_shows_an_uploaded_chains_gex(tmp_path):
    bars = random_walk(160, seed=2)
    bars.index = bars.index.tz_localize(None).rename("date")
    bars.to_csv(tmp_path / "bars.csv")
    chain = _chain_for(bars.iloc[:-3], tmp_path, 100)
    at = start()
    at.selectbox(key="ds:vendor").set_value("csv").run()
    at.file_uploader(key="ds:upload").upload("WALK.csv", (tmp_path / "bars.csv").read_bytes(), "text/csv").run()
    at.button(key="ds:fetch").click().run()
    at.segmented_control(key="nav").set_value("Regime").run()
    assert_clean(at)
    probs_before = [d.value for d in at.dataframe]
    at.file_uploader(key="regime:chain_upload").upload("walk chain.csv", Path(chain).read_bytes(), "text/csv").run()
    assert_clean(at)
    (shown,) = [d.value for d in at.dataframe if "gamma_net" in d.value.columns]
    expected = gex_regime_inputs(bars, chain).iloc[-20:]
    np.testing.assert_array_equal(shown[list(GEX_FEATURES)].to_numpy(), expected[list(GEX_FEATURES)].to_numpy())
    assert list(shown["gex_age_days"].iloc[-3:]) == [1, 2, 3]  # the last 3 bars carry the last chain
    assert any("does not use these columns" in c.value and "100 of 160 bars" in c.value for c in at.caption)
    # the regime result itself is unchanged by the chain
    after = [d.value for d in at.dataframe if "gamma_net" not in d.value.columns]
    assert len(after) == len(probs_before) and all(a.equals(b) for a, b in zip(after, probs_before, strict=True))

    bad = pd.read_csv(chain).drop(columns="open_interest")
    at.file_uploader(key="regime:chain_upload").upload("no oi.csv", bad.to_csv(index=False).encode(), "text/csv").run()
    assert not at.exception
    msgs = errors(at)
    assert msgs == ["option chain 'no oi.csv': no column 'open_interest' (GEX needs open interest)"], msgs
