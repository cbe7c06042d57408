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
        "lvl_er_20": 3.0631,
        "lvl_er_60": 3.7478,
        "lvl_er_120": 3.7111,
        "lvl_er_250": -0.3134,
        "lvl_abs_t_120": 0.2079,
        "lvl_vr_5_120": -0.0197,
        "lvl_vr_10_250": 0.3099,
        "lvl_ac1_120": 1.0336,
        "lvl_er_shift": -0.6479,
        "lvl_rev": 0.3466,
    },
    "TRN": {
        "lvl_er_20": 1.7984,
        "lvl_er_60": 3.0286,
        "lvl_er_120": -3.0845,
        "lvl_er_250": -1.3689,
        "lvl_abs_t_120": 1.0361,
        "lvl_vr_5_120": -1.7526,
        "lvl_vr_10_250": -0.3137,
        "lvl_ac1_120": -0.1248,
        "lvl_er_shift": 4.8829,
        "lvl_rev": -1.349,
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
    "DIR": -1.7955,
    "TRN": 0.2894,
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
