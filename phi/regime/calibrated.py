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
        "lvl_er_20": 3.0628,
        "lvl_er_60": 3.7482,
        "lvl_er_120": 3.7133,
        "lvl_er_250": -0.3142,
        "lvl_abs_t_120": 0.2076,
        "lvl_vr_5_120": -0.0205,
        "lvl_vr_10_250": 0.3101,
        "lvl_ac1_120": 1.0345,
        "lvl_er_shift": -0.6505,
        "lvl_rev": 0.3469,
    },
    "TRN": {
        "lvl_er_20": 1.7987,
        "lvl_er_60": 3.0249,
        "lvl_er_120": -3.0843,
        "lvl_er_250": -1.3684,
        "lvl_abs_t_120": 1.0367,
        "lvl_vr_5_120": -1.753,
        "lvl_vr_10_250": -0.3147,
        "lvl_ac1_120": -0.1201,
        "lvl_er_shift": 4.883,
        "lvl_rev": -1.3489,
    },
    "LV": {
        "lvl_vol_fast": -4.6687,
        "lvl_vol_slow": -1.0429,
    },
    "HV": {
        "lvl_vol_fast": 4.5805,
        "lvl_vol_slow": 3.2653,
    },
}
BIAS: dict[str, float] = {
    "DIR": -1.7944,
    "TRN": 0.2905,
    "LV": -3.7701,
    "HV": -1.6111,
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
