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
        "lvl_er_20": 3.3017,
        "lvl_er_60": 3.0813,
        "lvl_er_120": 3.2429,
        "lvl_er_250": -0.1987,
        "lvl_abs_t_120": 0.2169,
        "lvl_vr_5_120": -0.1177,
        "lvl_vr_10_250": 0.5196,
        "lvl_ac1_120": 0.8561,
        "lvl_er_shift": 0.0588,
        "lvl_rev": 0.3424,
    },
    "TRN": {
        "lvl_er_20": 2.6066,
        "lvl_er_60": 2.4736,
        "lvl_er_120": -1.9493,
        "lvl_er_250": -0.9413,
        "lvl_abs_t_120": 0.7394,
        "lvl_vr_5_120": -1.6174,
        "lvl_vr_10_250": -0.3684,
        "lvl_ac1_120": -0.0408,
        "lvl_er_shift": 4.5559,
        "lvl_rev": -1.39,
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
    "DIR": -1.9392,
    "TRN": 0.2546,
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
