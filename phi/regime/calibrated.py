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
        "lvl_rev": 1.0,
    },
    "DIR": {
        "lvl_er_10": 1.9061,
        "lvl_er_20": 1.9061,
        "lvl_er_30": 1.9061,
        "lvl_er_60": 1.9061,
        "lvl_er_120": 1.9061,
        "lvl_er_250": 1.9061,
    },
    "TRN": {
        "lvl_er_10": 0.3131,
        "lvl_er_20": 2.9916,
        "lvl_er_30": 4.7178,
        "lvl_er_60": 1.698,
        "lvl_er_120": -2.1881,
        "lvl_er_250": -0.2406,
        "lvl_abs_t_120": 0.5114,
        "lvl_vr_5_120": -2.0196,
        "lvl_vr_10_250": -0.9038,
        "lvl_ac1_120": 0.0162,
        "lvl_er_shift": 2.5012,
        "lvl_rev": -0.9003,
    },
    "LV": {
        "lvl_vol_fast": -2.705,
        "lvl_vol_slow": -4.7117,
    },
    "HV": {
        "lvl_vol_fast": 1.8741,
        "lvl_vol_slow": 7.2672,
    },
}
BIAS: dict[str, float] = {
    "DIR": -1.7639,
    "TRN": 0.1621,
    "LV": -3.4451,
    "HV": -2.9724,
}
TEMPERATURE: dict[str, float] = {
    "kingdom": 4.0,
    "phylum": 4.0,
    "class": 11.4286,
    "order": 49.4798,
    "family": 49.392,
    "genus": 49.392,
}
SMOOTHING: dict[str, float] = {
    "kingdom": 0.3,
    "phylum": 0.5,
    "class": 0.15,
    "order": 0.18,
    "family": 0.2,
    "genus": 0.22,
}
DIRECTION_SCALE: float = 1.3333
# fmt: on
