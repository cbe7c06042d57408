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
        "lvl_er_20": 2.5432,
        "lvl_er_60": 3.6438,
        "lvl_er_120": 2.8968,
        "lvl_er_250": -0.6769,
        "lvl_abs_t_120": 0.291,
        "lvl_vr_5_120": 0.0087,
        "lvl_vr_10_250": -0.0165,
        "lvl_ac1_120": 0.9899,
        "lvl_er_shift": -0.3536,
        "lvl_rev": 0.3806,
    },
    "TRN": {
        "lvl_er_20": 2.8905,
        "lvl_er_60": 1.9855,
        "lvl_er_120": -0.401,
        "lvl_er_250": -0.788,
        "lvl_abs_t_120": 0.6595,
        "lvl_vr_5_120": -1.3779,
        "lvl_vr_10_250": -0.8513,
        "lvl_ac1_120": -0.5305,
        "lvl_er_shift": 3.2914,
        "lvl_rev": -1.431,
    },
    "LV": {
        "lvl_vol_fast": -4.6691,
        "lvl_vol_slow": -1.0428,
    },
    "HV": {
        "lvl_vol_fast": 4.5827,
        "lvl_vol_slow": 3.2607,
    },
}
BIAS: dict[str, float] = {
    "DIR": -1.5227,
    "TRN": -2.618,
    "LV": -3.77,
    "HV": -1.611,
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
