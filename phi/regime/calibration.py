"""Calibration of the regime engine on labelled demo data, and its report.

MFT.md's hand-set energies barely separate a trend from a range on the labelled demo data
(AUC 0.50-0.58), and its sibling softmaxes are near-uniform, so the reference's confidence
was ~0. A temperature alone cannot help (it does not reorder bars), so the calibration fits,
on the **training** symbols only (:data:`TRAIN_SYMBOLS`):

1. **Kingdom and phylum energies** by penalised maximum likelihood: a multinomial logistic
   model of the sticky logits ``l = EWM_eta(gates(z)) @ alpha + b`` (exactly the engine's
   logits, since the sticky EWM is linear) with targets kingdom = DIR for trends, NDR for
   ranges, TRN for breakouts (vol bursts left out) and phylum = HV for vol bursts, NV
   otherwise. A ridge penalty shrinks ``alpha`` toward MFT.md's table (the prior) and ``b``
   toward 0; the result is stored as ``taxonomy.energy_correction`` (alpha - prior) and
   ``taxonomy.bias``, so MFT.md's tables stay visible in the config.
2. **Temperatures** of the six levels and the **direction scale** of the up/down split, by
   minimising the negative log-likelihood of the true 8-bin regime (coordinate search on a
   log scale).

:func:`evaluate` reports, on symbols that were not used for tuning (:data:`TEST_SYMBOLS`),
the trend-vs-range AUC of ``(P(TREND_UP) + P(TREND_DN)) / (... + P(RANGE))``, the balanced
accuracy of the dominant regime, and the composite's confidence. The demo generator defines
its regimes by the price process (drift, volatility, mean reversion, jumps), not by the
engine's features, and it was not changed to make these figures pass.

Run ``python -m phi.regime.calibration`` to print the report, ``--write`` to refit and
rewrite :mod:`phi.regime.calibrated`.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from phi.regime import _nb
from phi.regime.config import MFTConfig, feature_names
from phi.regime.engine import RegimeEngine, direction_input, engine_warmup
from phi.regime.features import compute_features
from phi.regime.metrics import balanced_accuracy, roc_auc
from phi.regime.probability_field import probability_field
from phi.regime.taxonomy import (
    LEVEL_NODES,
    LEVELS,
    NODE_INDEX,
    REGIMES,
    energy_matrix,
    gates,
    node_logits,
)

__all__ = [
    "CAL_END",
    "CAL_START",
    "TEST_SYMBOLS",
    "TRAIN_SYMBOLS",
    "CalibrationReport",
    "balanced_accuracy",
    "calibrate",
    "evaluate",
    "roc_auc",
]

TRAIN_SYMBOLS: tuple[str, ...] = ("DEMO1", "DEMO2", "DEMO3", "DEMO4", "DEMO5")
TEST_SYMBOLS: tuple[str, ...] = ("DEMO6", "DEMO7", "DEMO8", "DEMO9", "DEMO10")
CAL_START, CAL_END = "1995-01-01", "2024-12-31"
#: ridge strength (per unit of mean log-likelihood) pulling the energies toward MFT.md's tables
RIDGE = 0.01
#: temperatures are searched in [T_MIN, T_MAX]; T_MAX makes a level practically uniform
T_MIN, T_MAX = 0.05, 50.0

_KINGDOM_TARGET = {"trend_up": "DIR", "trend_down": "DIR", "range": "NDR", "breakout": "TRN"}
_PHYLUM_TARGET = {"vol_burst": "HV", "trend_up": "NV", "trend_down": "NV", "range": "NV", "breakout": "NV"}


# ---------------------------------------------------------------------------- metrics


# roc_auc and balanced_accuracy live in phi.regime.metrics (re-exported here)


# ---------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class CalibrationReport:
    """Figures of one config on a set of labelled demo symbols (one row per symbol + pooled)."""

    rows: pd.DataFrame
    chance_balanced_accuracy: float

    @property
    def pooled(self) -> pd.Series:
        """The pooled row (all symbols' bars together)."""
        return self.rows.loc["pooled"]

    def to_markdown(self) -> str:
        """The report as a Markdown table."""
        cols = list(self.rows.columns)
        lines = ["| symbol | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
        for name, row in self.rows.iterrows():
            cells = [f"{v:,.0f}" if c == "bars" else f"{v:.3f}" for c, v in row.items()]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)


def _labelled(symbol: str, start: str, end: str, timeframe: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    from phi.data.demo import demo_regimes, generate_demo_with_regimes

    df, labels = generate_demo_with_regimes(symbol, start, end, timeframe)
    mft = demo_regimes(symbol, start, end, timeframe, labels="mft")
    return df, labels, mft


def _scores(probs: pd.DataFrame, mix: pd.DataFrame, labels: pd.Series, mft: pd.Series, floor: float) -> dict[str, Any]:
    trend = (probs["TREND_UP"] + probs["TREND_DN"]).to_numpy()
    rng = probs["RANGE"].to_numpy()
    lab = labels.to_numpy()
    m = np.isin(lab, ["trend_up", "trend_down", "range"])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = trend / (trend + rng)
    dominant = np.array(REGIMES, dtype=object)[np.argmax(probs.to_numpy(), axis=1)]
    conf = mix["confidence"].to_numpy()
    return {
        "bars": len(lab),
        "auc_trend_range": roc_auc(ratio[m], np.isin(lab[m], ["trend_up", "trend_down"])),
        "balanced_accuracy": balanced_accuracy(dominant, mft.to_numpy()),
        "mean_confidence": float(np.mean(conf)),
        "share_confident": float(np.mean(conf >= floor)),
        "_ratio": ratio[m],
        "_pos": np.isin(lab[m], ["trend_up", "trend_down"]),
        "_dom": dominant,
        "_mft": mft.to_numpy(),
        "_conf": conf,
    }


def evaluate(
    config: MFTConfig | None = None,
    symbols: Sequence[str] = TEST_SYMBOLS,
    start: str = CAL_START,
    end: str = CAL_END,
    timeframe: str = "1D",
) -> CalibrationReport:
    """Run the engine on labelled demo ``symbols`` and score it (bars after the warm-up)."""
    cfg = config or MFTConfig()
    engine = RegimeEngine(cfg)
    rows: dict[str, dict[str, Any]] = {}
    for sym in symbols:
        df, labels, mft = _labelled(sym, start, end, timeframe)
        res = engine.run(df)
        k = res.warmup
        rows[sym] = _scores(
            res.regime_probs.iloc[k:], res.mix.iloc[k:], labels.iloc[k:], mft.iloc[k:],
            cfg.confidence.trade_floor,
        )
    cat = {key: np.concatenate([r[key] for r in rows.values()]) for key in ("_ratio", "_pos", "_dom", "_mft", "_conf")}
    rows["pooled"] = {
        "bars": sum(r["bars"] for r in rows.values()),
        "auc_trend_range": roc_auc(cat["_ratio"], cat["_pos"]),
        "balanced_accuracy": balanced_accuracy(cat["_dom"], cat["_mft"]),
        "mean_confidence": float(np.mean(cat["_conf"])),
        "share_confident": float(np.mean(cat["_conf"] >= cfg.confidence.trade_floor)),
    }
    frame = pd.DataFrame(
        {name: {k: v for k, v in r.items() if not k.startswith("_")} for name, r in rows.items()}
    ).T
    chance = 1.0 / len(pd.unique(cat["_mft"]))
    return CalibrationReport(frame.astype("float64"), chance)


# ---------------------------------------------------------------------------- fitting


def _fit_softmax(
    x: np.ndarray, y: np.ndarray, k: int, prior: np.ndarray, ridge: float, iters: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Penalised multinomial logistic regression by Newton's method.

    Minimises ``mean(-log softmax(x W + b)[y]) + ridge / 2 (|W - prior|^2 + |b|^2)``.
    Returns ``(W, b)`` with W of shape (features, k).
    """
    n, f = x.shape
    xa = np.hstack([x, np.ones((n, 1))])
    theta = np.vstack([prior, np.zeros((1, k))])
    target = np.vstack([prior, np.zeros((1, k))])
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    d = (f + 1) * k
    for _ in range(iters):
        z = xa @ theta
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = xa.T @ (p - onehot) / n + ridge * (theta - target)
        hess = np.zeros((f + 1, k, f + 1, k))
        for a in range(k):
            for b in range(a, k):
                wgt = p[:, a] * ((1.0 if a == b else 0.0) - p[:, b])
                block = (xa * wgt[:, None]).T @ xa / n
                hess[:, a, :, b] = block
                hess[:, b, :, a] = block
        h = hess.reshape(d, d) + ridge * np.eye(d)
        step = np.linalg.solve(h, grad.reshape(d)).reshape(f + 1, k)
        theta -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return theta[:f], theta[f]


@dataclass
class _Sample:
    z: np.ndarray  # normalised features after the warm-up
    logits: np.ndarray | None
    direction: np.ndarray
    labels: np.ndarray
    truth: np.ndarray  # index into REGIMES


def _samples(cfg: MFTConfig, symbols: Sequence[str], start: str, end: str) -> list[_Sample]:
    k = engine_warmup(cfg)
    out = []
    for sym in symbols:
        df, labels, mft = _labelled(sym, start, end, "1D")
        raw, feats = compute_features(df, cfg.features)
        truth = np.array([REGIMES.index(r) for r in mft.to_numpy()[k:]])
        out.append(
            _Sample(
                feats.to_numpy()[:],
                None,
                direction_input(raw, feats, cfg),
                labels.to_numpy()[k:],
                truth,
            )
        )
    return out


def _fit_level(cfg: MFTConfig, samples: list[_Sample], level: str, targets: dict[str, str], ridge: float) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    names = feature_names(cfg.features)
    nodes = LEVEL_NODES[level]
    eta = np.full(len(names), cfg.taxonomy.smoothing[level])
    warm = engine_warmup(cfg)
    xs, ys = [], []
    for s in samples:
        phi = np.ascontiguousarray(gates(s.z, cfg.taxonomy, names))
        sm = _nb.sticky_logits_nb(phi, eta)[warm:]
        keep = np.isin(s.labels, list(targets))
        xs.append(sm[keep])
        ys.append(np.array([nodes.index(targets[lab]) for lab in s.labels[keep]]))
    x = np.vstack(xs)
    y = np.concatenate(ys)
    prior_tax = dataclasses.replace(cfg.taxonomy, energy_correction={}, bias={})
    prior = energy_matrix(prior_tax, names)[:, [NODE_INDEX[n] for n in nodes]]
    w, b = _fit_softmax(x, y, len(nodes), prior, ridge)
    delta = w - prior
    correction = {
        node: {f: round(float(delta[i, j]), 4) for i, f in enumerate(names) if abs(delta[i, j]) >= 5e-5}
        for j, node in enumerate(nodes)
    }
    bias = {node: round(float(b[j]), 4) for j, node in enumerate(nodes)}
    return correction, bias


def _nll(cfg: MFTConfig, samples: list[_Sample]) -> float:
    """Mean negative log-likelihood of the true regime bin over the samples."""
    total = 0.0
    count = 0
    warm = engine_warmup(cfg)
    for s in samples:
        assert s.logits is not None
        fld = probability_field(s.logits, s.direction[warm:], cfg)
        p = fld.regimes[np.arange(len(s.truth)), s.truth]
        total -= float(np.sum(np.log(np.maximum(p, 1e-12))))
        count += len(s.truth)
    return total / count


def _with(cfg: MFTConfig, temps: dict[str, float], scale: float) -> MFTConfig:
    tax = dataclasses.replace(cfg.taxonomy, temperature=dict(temps))
    prob = dataclasses.replace(cfg.probability, direction_scale=scale)
    return dataclasses.replace(cfg, taxonomy=tax, probability=prob)


def calibrate(
    symbols: Sequence[str] = TRAIN_SYMBOLS,
    start: str = CAL_START,
    end: str = CAL_END,
    *,
    ridge: float = RIDGE,
    base: MFTConfig | None = None,
    progress: Any = None,
) -> MFTConfig:
    """Fit the calibration (see the module doc) on ``symbols``; returns the calibrated config.

    Starts from ``base`` (default :class:`MFTConfig`) with its calibration removed and replaces
    the energy correction, biases, temperatures and direction scale. Deterministic: the same
    symbols and range give the same parameters.
    """
    cfg = base or MFTConfig()
    tax = dataclasses.replace(cfg.taxonomy, energy_correction={}, bias={}, temperature=dict.fromkeys(LEVELS, 1.0))
    prob = dataclasses.replace(cfg.probability, direction_raw=True, direction_scale=1.0)
    cfg = dataclasses.replace(cfg, taxonomy=tax, probability=prob)
    say = progress or (lambda msg: None)
    samples = _samples(cfg, symbols, start, end)
    correction: dict[str, dict[str, dict[str, float]]] = {}
    bias: dict[str, float] = {}
    for level, targets in (("kingdom", _KINGDOM_TARGET), ("phylum", _PHYLUM_TARGET)):
        corr, b = _fit_level(cfg, samples, level, targets, ridge)
        correction[level] = corr
        bias.update(b)
        say(f"fitted {level} energies")
    tax = dataclasses.replace(cfg.taxonomy, energy_correction=correction, bias=bias)
    cfg = dataclasses.replace(cfg, taxonomy=tax)
    names = feature_names(cfg.features)
    warm = engine_warmup(cfg)
    for s in samples:
        s.logits = node_logits(s.z, cfg.taxonomy, names)[1][warm:]

    temps = {lvl: 1.0 for lvl in LEVELS}
    scale = 1.0
    best = _nll(_with(cfg, temps, scale), samples)
    for step in (2.0, 1.4, 1.15, 1.05):
        improved = True
        while improved:
            improved = False
            for key in (*LEVELS, "direction"):
                for mult in (step, 1.0 / step):
                    t2, s2 = dict(temps), scale
                    if key == "direction":
                        s2 = scale * mult
                    else:
                        t2[key] = temps[key] * mult
                    if not all(T_MIN <= t <= T_MAX for t in t2.values()):
                        continue
                    val = _nll(_with(cfg, t2, s2), samples)
                    if val < best - 1e-7:
                        best, temps, scale, improved = val, t2, s2, True
                        break
        say(f"step {step}: nll {best:.4f}")
    temps = {k: round(v, 4) for k, v in temps.items()}
    return _with(cfg, temps, round(scale, 4))


# ---------------------------------------------------------------------------- writing


def _py(obj: Any, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad}    "{k}": {_py(v, indent + 4)},' for k, v in obj.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(obj, float):
        return repr(obj)
    return repr(obj)


def write_calibrated(config: MFTConfig, path: Path | None = None) -> Path:
    """Rewrite :mod:`phi.regime.calibrated` with ``config``'s calibrated parameters."""
    from phi._io import atomic_write_text

    path = path or Path(__file__).with_name("calibrated.py")
    tax = config.taxonomy
    text = (
        '"""Calibrated parameters of the regime engine (written by ``python -m phi.regime.calibration\n'
        f'--write`` on {", ".join(TRAIN_SYMBOLS)}, daily bars {CAL_START} .. {CAL_END}).\n\n'
        "Do not edit by hand: re-run the calibration. Empty / 1.0 values are MFT.md's reference.\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
        "# fmt: off\n"
        f"ENERGY_CORRECTION: dict[str, dict[str, dict[str, float]]] = {_py(tax.energy_correction)}\n"
        f"BIAS: dict[str, float] = {_py(tax.bias)}\n"
        f"TEMPERATURE: dict[str, float] = {_py(tax.temperature)}\n"
        f"DIRECTION_SCALE: float = {config.probability.direction_scale!r}\n"
        "# fmt: on\n"
    )
    return atomic_write_text(path, text)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m phi.regime.calibration [--write]``: (refit and) print the report."""
    args = list(sys.argv[1:] if argv is None else argv)
    cfg = MFTConfig()
    if "--write" in args:
        cfg = calibrate(progress=print)
        write_calibrated(cfg)
        print("wrote", Path(__file__).with_name("calibrated.py"))
    for name, syms in (("train", TRAIN_SYMBOLS), ("held-out", TEST_SYMBOLS)):
        rep = evaluate(cfg, syms)
        print(f"\n{name} symbols ({CAL_START} .. {CAL_END}, daily); chance balanced accuracy "
              f"{rep.chance_balanced_accuracy:.3f}")
        print(rep.to_markdown())
    ref = evaluate(MFTConfig.reference(), TEST_SYMBOLS)
    print("\nuncalibrated reference (MFT.md defaults) on the held-out symbols")
    print(ref.to_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
