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
        "lvl_er_10": 1.9067,
        "lvl_er_20": 1.9067,
        "lvl_er_30": 1.9067,
        "lvl_er_60": 1.9067,
        "lvl_er_120": 1.9067,
        "lvl_er_250": 1.9067,
    },
    "TRN": {
        "lvl_er_10": 0.3139,
        "lvl_er_20": 2.9916,
        "lvl_er_30": 4.7189,
        "lvl_er_60": 1.6982,
        "lvl_er_120": -2.1877,
        "lvl_er_250": -0.2401,
        "lvl_abs_t_120": 0.5113,
        "lvl_vr_5_120": -2.0193,
        "lvl_vr_10_250": -0.9029,
        "lvl_ac1_120": 0.0146,
        "lvl_er_shift": 2.5016,
        "lvl_rev": -0.9004,
    },
    "LV": {
        "lvl_vol_fast": -5.069,
        "lvl_vol_slow": -2.1626,
    },
    "HV": {
        "lvl_vol_fast": 5.1282,
        "lvl_vol_slow": 3.4519,
    },
}
BIAS: dict[str, float] = {
    "DIR": -1.7625,
    "TRN": 0.1619,
    "LV": -3.5763,
    "HV": -2.675,
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
    "phylum": 0.12,
    "class": 0.15,
    "order": 0.18,
    "family": 0.2,
    "genus": 0.22,
}
DIRECTION_SCALE: float = 1.3333
# fmt: on
