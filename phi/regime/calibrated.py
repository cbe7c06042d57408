"""Calibrated parameters of the regime engine (written by ``python -m phi.regime.calibration
--write`` on every family of phi.regime.families (6000 bars, seed 1000) and
DEMO1, DEMO2, DEMO3, DEMO4, DEMO5, daily bars 1995-01-01 .. 2024-12-31).

Do not edit by hand: re-run the calibration. Empty / 1.0 values are MFT.md's reference.
"""

from __future__ import annotations

# fmt: off
ENERGY_CORRECTION: dict[str, dict[str, dict[str, float]]] = {}
LEVEL_ENERGY: dict[str, dict[str, float]] = {
    "TE": {
        "lvl_rev": 2.0,
    },
    "DIR": {
        "lvl_er_10": 2.6029,
        "lvl_er_20": 1.5825,
        "lvl_er_30": 0.5906,
        "lvl_er_60": 3.0649,
        "lvl_er_120": 3.1437,
        "lvl_er_250": -0.2893,
        "lvl_abs_t_120": 0.1711,
        "lvl_vr_5_120": -0.2023,
        "lvl_vr_10_250": 0.5108,
        "lvl_ac1_120": 0.8777,
        "lvl_er_shift": -0.5409,
        "lvl_rev": 0.3345,
    },
    "TRN": {
        "lvl_er_10": 0.484,
        "lvl_er_20": 2.5422,
        "lvl_er_30": 3.4142,
        "lvl_er_60": 1.4632,
        "lvl_er_120": -2.1809,
        "lvl_er_250": -1.0402,
        "lvl_abs_t_120": 0.5737,
        "lvl_vr_5_120": -1.7326,
        "lvl_vr_10_250": -0.3929,
        "lvl_ac1_120": 0.0209,
        "lvl_er_shift": 2.665,
        "lvl_rev": -1.3502,
    },
    "LV": {
        "lvl_vol_fast": -4.8523,
        "lvl_vol_slow": -1.1189,
    },
    "HV": {
        "lvl_vol_fast": 4.4911,
        "lvl_vol_slow": 3.7821,
    },
}
BIAS: dict[str, float] = {
    "DIR": -2.2193,
    "TRN": -0.1167,
    "LV": -3.9554,
    "HV": -1.8388,
}
TEMPERATURE: dict[str, float] = {
    "kingdom": 4.0,
    "phylum": 4.0,
    "class": 11.4286,
    "order": 49.4798,
    "family": 49.392,
    "genus": 49.392,
}
DIRECTION_SCALE: float = 1.3333
# fmt: on
