"""Default tables of the MFT engine, transcribed from ``MFT.md`` (pure data, no logic).

* :data:`ENERGY` is the **union** of both energy blocks of MFT.md §1.4 (the reference's YAML
  silently kept only the second block of every repeated key).
* :data:`MSL_KINGDOM` and :data:`MSL_CLASS` are the MSL matrices of §1.3 (scaled by
  ``msl_kingdom_scale`` at run time).
* :data:`AFFINITY` is §1.8 with the reference's placeholder columns mapped onto real phi
  indicators (ema -> ema_crossover, bb_mr -> bollinger) and supertrend / donchian dropped.
* :data:`INTERACTION` is §1.9's coupling matrix restated in the phi sign convention (+1 = buy):
  a coupling between a momentum indicator and an *inverted* mean-reversion oscillator changes
  sign so that it keeps the reference's meaning.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------------------- energies (§1.4)

ENERGY: Final[dict[str, dict[str, dict[str, float]]]] = {
    "kingdom": {
        "DIR": {
            "drift_tscore_30": 0.40, "drift_tscore_60": 0.25, "er_30": 0.30, "autocorr": 0.20,
            "flip_rate": -0.15, "impulse_revert": -0.10,
            "d_lambda": 0.20, "mass": -0.15, "d_mass_dt": -0.20, "ofi_proxy": 0.25,
            "dissipation_proxy": 0.15,
        },
        "NDR": {
            "er_30": -0.35, "autocorr": -0.25, "flip_rate": 0.20, "impulse_revert": 0.25,
            "median_cross": 0.15, "drift_tscore_30": -0.20,
            "absorption_score": 0.20, "dissipation_proxy": -0.20, "d_mass_dt": 0.15,
        },
        "TRN": {
            "entropy": 0.25, "rv_delta": 0.30, "range_expansion": 0.25, "volume_zscore": 0.20,
            "d_lambda": 0.20, "d_mass_dt": -0.15,
        },
    },
    "phylum": {
        "LV": {
            "rv_30": -0.50, "true_range": -0.30, "volume_zscore": -0.20, "rv_delta": -0.15,
            "mass": 0.20, "absorption_score": 0.25,
        },
        "NV": {"rv_30": 0.0, "illiquidity": 0.10, "volume_zscore": -0.05},
        "HV": {
            "rv_30": 0.50, "true_range": 0.30, "volume_zscore": 0.20, "rv_delta": 0.15,
            "mass": -0.25, "d_mass_dt": -0.20, "absorption_score": -0.15,
        },
    },
    "class": {
        "PT": {
            "drift_tscore_60": 0.50, "er_60": 0.35, "flip_rate": -0.20, "autocorr": 0.15,
            "drift_tscore_30": 0.15, "d_mass_dt": -0.15,
        },
        "PX": {"rv_delta": 0.35, "drift_tscore_30": 0.40, "range_expansion": 0.30, "er_30": 0.15},
        "TE": {
            "impulse_revert": 0.45, "autocorr": -0.30, "er_30": -0.30, "flip_rate": 0.15,
            "rv_delta": 0.10,
        },
        "BR": {
            "er_30": -0.40, "autocorr": -0.20, "median_cross": 0.40, "flip_rate": 0.15,
            "rv_delta": -0.10, "absorption_score": 0.25, "mass": 0.15,
        },
        "RR": {"impulse_revert": 0.50, "autocorr": -0.25, "flip_rate": 0.30, "er_30": -0.15},
        "AR": {"volume_zscore": 0.40, "illiquidity": -0.20, "er_30": -0.20, "median_cross": 0.15},
        "SR": {
            "rv_delta": 0.45, "entropy": -0.25, "range_expansion": 0.30, "volume_zscore": 0.15,
            "d_mass_dt": -0.20, "d_lambda": 0.15,
        },
        "RB": {
            "rv_delta": 0.40, "er_30": 0.35, "gap_score": 0.25, "volume_zscore": 0.20,
            "ofi_proxy": 0.15,
        },
        "FB": {
            "impulse_revert": 0.45, "gap_score": 0.30, "autocorr": -0.25, "flip_rate": 0.15,
            "ofi_proxy": 0.25, "dissipation_proxy": 0.20,
        },
    },
    "order": {
        "AGC": {"drift_tscore_30": 0.50, "er_30": 0.30, "volume_zscore": 0.20, "flip_rate": -0.10},
        "RVP": {"impulse_revert": 0.40, "autocorr": -0.30, "flip_rate": 0.30, "er_30": -0.10},
        "ABS": {"er_60": -0.30, "rv_delta": -0.30, "flip_rate": 0.20, "volume_zscore": -0.10},
        "EXH": {
            "autocorr": -0.40, "impulse_revert": 0.40, "rv_delta": 0.20, "drift_tscore_30": -0.15,
            "d_mass_dt": -0.20, "ofi_proxy": 0.20, "absorption_score": 0.15,
            "dissipation_proxy": 0.15,
        },
    },
    "family": {
        "ALN": {"drift_tscore_60": 0.40, "er_120": 0.40, "autocorr": 0.20, "er_60": 0.10},
        "CT": {"autocorr": -0.30, "flip_rate": 0.30, "impulse_revert": 0.40, "drift_tscore_30": -0.20},
        "CST": {"rv_30": -0.30, "er_30": -0.20, "volume_zscore": -0.20, "range_expansion": -0.15},
    },
    "genus": {
        "RUN": {
            "drift_tscore_30": 0.50, "er_30": 0.30, "flip_rate": -0.20, "autocorr": 0.10,
            "d_mass_dt": -0.20,
        },
        "PBM": {"impulse_revert": 0.40, "autocorr": -0.30, "er_30": -0.10, "rv_delta": -0.10},
        "FLG": {
            "rv_delta": -0.30, "er_60": 0.30, "volume_zscore": -0.15, "flip_rate": 0.10,
            "d_mass_dt": 0.15,
        },
        "VWM": {
            "volume_zscore": 0.40, "illiquidity": -0.20, "median_cross": 0.15,
            "absorption_score": 0.25, "mass": 0.15,
        },
        "RRO": {"median_cross": 0.40, "autocorr": -0.30, "flip_rate": 0.20, "absorption_score": 0.20},
        "SRR": {
            "impulse_revert": 0.45, "autocorr": -0.25, "flip_rate": 0.30, "rv_delta": 0.10,
            "ofi_proxy": 0.20, "dissipation_proxy": 0.20, "absorption_score": 0.15,
            "d_mass_dt": 0.15,
        },
    },
}  # fmt: skip

#: MSL -> Kingdom weights (DIR, NDR, TRN) before ``msl_kingdom_scale``.
MSL_KINGDOM: Final[dict[str, dict[str, float]]] = {
    "DIR": {
        "mass": -0.6, "d_mass_dt": 0.2, "dissipation_proxy": 0.9, "ofi_proxy": 0.8,
        "absorption_score": -0.5, "d_lambda": 0.1, "er_60": 0.8, "rv_delta": 0.3, "rv_30": 0.4,
    },
    "NDR": {
        "mass": 0.8, "d_mass_dt": -0.4, "dissipation_proxy": -0.7, "ofi_proxy": -0.6,
        "absorption_score": 0.8, "d_lambda": -0.2, "er_60": -0.6, "rv_delta": -0.4, "rv_30": 0.6,
    },
    "TRN": {
        "mass": -0.3, "d_mass_dt": 0.9, "dissipation_proxy": 0.3, "ofi_proxy": 0.2,
        "absorption_score": -0.1, "d_lambda": 0.9, "er_60": 0.2, "rv_delta": 0.8, "rv_30": -0.7,
    },
}  # fmt: skip

#: MSL -> Class weights (DIR and TRN branches; NDR has none) before ``msl_kingdom_scale``.
MSL_CLASS: Final[dict[str, dict[str, float]]] = {
    "PT": {"er_60": 0.9, "rv_delta": -0.4, "absorption_score": -0.3, "dissipation_proxy": 0.8, "d_mass_dt": 0.7, "impulse_revert": -0.4},
    "PX": {"er_60": 0.4, "rv_delta": 0.9, "absorption_score": -0.2, "dissipation_proxy": 0.3, "d_mass_dt": 0.3, "impulse_revert": -0.3},
    "TE": {"er_60": -0.5, "rv_delta": 0.6, "absorption_score": 0.8, "dissipation_proxy": -0.5, "d_mass_dt": -0.4, "impulse_revert": 0.9},
    "SR": {"rv_30": 0.9, "rv_delta": -0.2, "impulse_revert": -0.3, "d_mass_dt": 0.6, "ofi_proxy": 0.4, "d_lambda": 0.7},
    "RB": {"rv_30": 0.4, "rv_delta": 0.9, "impulse_revert": -0.2, "d_mass_dt": 0.7, "ofi_proxy": 0.8, "d_lambda": 0.5},
    "FB": {"rv_30": -0.2, "rv_delta": -0.1, "impulse_revert": 0.9, "d_mass_dt": -0.3, "ofi_proxy": -0.2, "d_lambda": -0.1},
}  # fmt: skip

#: Gate steepness overrides (every other feature uses the default gamma 1.0).
GATE_STEEPNESS: Final[dict[str, float]] = {
    "d_mass_dt": 2.0, "d_lambda": 1.5, "mass": 1.0, "ofi_proxy": 1.2, "dissipation_proxy": 1.3,
}  # fmt: skip

#: Sticky-logit rate eta per level (weight of the new energy; low = sticky).
SMOOTHING: Final[dict[str, float]] = {
    "kingdom": 0.10, "phylum": 0.12, "class": 0.15, "order": 0.18, "family": 0.20, "genus": 0.22,
}  # fmt: skip

# ---------------------------------------------------------------------------- experts (§1.7, §1.8)

#: Validity patterns of the engine's expert indicators (phi registry names).
VALIDITY: Final[dict[str, tuple[str, ...]]] = {
    "rsi": ("NDR", "DIR.*.TE", "TRN.*.FB"),
    "stochastic": ("NDR", "DIR.*.TE"),
    "cmf": ("NDR.*.AR", "S13", "S17", "S21"),
    "range_pos": ("NDR",),
    "bollinger": ("NDR", "DIR.*.TE"),
    "macd": ("DIR.*.PT", "DIR.*.PX"),
    "ema_crossover": ("DIR.*.PT", "DIR.*.PX"),
    "roc": ("DIR", "TRN.*.SR", "TRN.*.RB"),
    "momentum": ("DIR.*.PT", "DIR.*.PX"),
    "vwap_dev": ("NDR", "DIR.*.PT"),
    "vol_profile_dev": ("NDR.*.AR", "NDR.*.BR"),
}

_AFF_COLUMNS: Final[tuple[str, ...]] = (
    "ema_crossover", "macd", "rsi", "bollinger", "vwap_dev", "stochastic", "cmf", "roc",
    "range_pos", "momentum", "vol_profile_dev",
)  # fmt: skip
# Rows of §1.8 in the column order above (ema, macd, rsi, bb_mr, vwap_dev, stochastic, cmf, roc,
# range_pos, momentum, vol_profile_dev); the atr_ratio, supertrend and donchian columns are dropped.
_AFF_ROWS: Final[dict[str, tuple[float, ...]]] = {
    "DIR": (0.9, 0.8, 0.2, 0.2, 0.3, 0.3, 0.5, 0.7, 0.4, 0.8, 0.4),
    "NDR": (0.2, 0.3, 0.9, 0.9, 0.8, 0.8, 0.5, 0.2, 0.7, 0.2, 0.6),
    "TRN": (0.6, 0.6, 0.1, 0.1, 0.2, 0.3, 0.6, 0.5, 0.4, 0.5, 0.5),
    "LV": (0.5, 0.5, 0.8, 0.9, 0.8, 0.7, 0.5, 0.4, 0.7, 0.3, 0.6),
    "HV": (0.7, 0.7, 0.2, 0.2, 0.3, 0.3, 0.4, 0.6, 0.4, 0.6, 0.5),
    "PT": (1.0, 0.9, 0.2, 0.2, 0.3, 0.0, 0.0, 0.8, 0.5, 0.9, 0.0),
    "PX": (0.8, 0.8, 0.1, 0.1, 0.2, 0.0, 0.0, 0.7, 0.4, 0.8, 0.0),
    "TE": (0.3, 0.3, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0),
    "BR": (0.2, 0.2, 1.0, 1.0, 0.9, 0.9, 0.0, 0.0, 0.8, 0.0, 0.0),
    "RR": (0.2, 0.2, 0.9, 0.9, 0.8, 0.8, 0.0, 0.0, 0.7, 0.0, 0.0),
    "SR": (0.5, 0.5, 0.2, 0.2, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7),
    "RB": (0.7, 0.7, 0.1, 0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.7, 0.0),
    "FB": (0.2, 0.2, 0.6, 0.6, 0.6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "AGC": (0.9, 0.9, 0.1, 0.1, 0.2, 0.0, 0.0, 0.8, 0.0, 0.9, 0.0),
    "RVP": (0.2, 0.2, 0.9, 0.9, 0.9, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0),
    "ABS": (0.3, 0.3, 0.5, 0.5, 0.6, 0.0, 0.7, 0.0, 0.0, 0.0, 0.7),
    "EXH": (0.2, 0.2, 0.4, 0.4, 0.4, 0.0, 0.0, 0.0, 0.5, 0.0, 0.0),
    "ALN": (1.1, 1.0, 1.1, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "CT": (0.6, 0.6, 0.6, 0.6, 0.6, 0.0, 0.0, 0.0, 0.0, 0.6, 0.0),
    "CST": (0.4, 0.4, 0.7, 0.7, 0.7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.7),
}
#: Affinity A(node, indicator); pairs not listed are 0.
AFFINITY: Final[dict[str, dict[str, float]]] = {
    node: {ind: v for ind, v in zip(_AFF_COLUMNS, row, strict=True) if v != 0.0}
    for node, row in _AFF_ROWS.items()
}

#: Symmetric interaction couplings M[i, j] (i < j); the diagonal is 1 for every expert.
#: Reference (momentum-signed oscillators): macd-rsi -0.30, macd-vwap -0.15, rsi-vwap +0.80.
#: rsi and vwap_dev are inverted in phi, so couplings with macd change sign; rsi-vwap keeps it.
INTERACTION: Final[dict[str, float]] = {
    "macd:rsi": 0.30,
    "macd:vwap_dev": 0.15,
    "rsi:vwap_dev": 0.80,
}

# ---------------------------------------------------------------------------- projections (§1.10)

#: Per-regime AR(1) parameters (mu, phi, beta, sigma) in signal units (+1 = buy).
PROJECTION: Final[dict[str, tuple[float, float, float, float]]] = {
    "TREND_UP": (0.30, 0.90, 0.10, 0.15),
    "TREND_DN": (-0.30, 0.90, 0.10, 0.15),
    "RANGE": (0.0, 0.20, 0.0, 0.20),
    "BREAKOUT_UP": (0.50, 0.95, 0.20, 0.25),
    "BREAKOUT_DN": (-0.50, 0.95, 0.20, 0.25),
    "EXHAUST_REV": (0.0, -0.20, -0.10, 0.30),
    "LOWVOL": (0.0, 0.30, 0.0, 0.08),
    "HIGHVOL": (0.0, 0.60, 0.05, 0.35),
}
