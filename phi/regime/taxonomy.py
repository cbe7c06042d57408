"""The KPCOFGS taxonomy: 28 nodes in 6 levels, 8 sibling groups, the 28 species, 8 regime bins.

Node names and meanings follow ``MFT.md`` §1.3 (Kingdom DIR/NDR/TRN, Phylum LV/NV/HV, Class
PT/PX/TE | BR/RR/AR | SR/RB/FB, Order AGC/RVP/ABS/EXH, Family ALN/CT/CST, Genus RUN/PBM/FLG/
VWM/RRO/SRR). Nothing here is computed; this module holds the fixed structure that the energy
tables, the probability field and the expert weights index into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np

from phi.errors import ConfigError
from phi.regime import _nb
from phi.regime._logits_nb import any_inf_nb as _any_inf_nb
from phi.regime._logits_nb import energies_nb as _energies_nb
from phi.regime._logits_nb import fix_gates_nb as _fix_gates_nb
from phi.regime._logits_nb import sticky_logits_chunk_nb as _sticky_logits_chunk_nb
from phi.regime.names import REGIMES  # noqa: F401  (re-exported: phi.regime.taxonomy.REGIMES)

if TYPE_CHECKING:
    from phi.regime.config import TaxonomyConfig

LEVELS: Final[tuple[str, ...]] = ("kingdom", "phylum", "class", "order", "family", "genus")

LEVEL_NODES: Final[dict[str, tuple[str, ...]]] = {
    "kingdom": ("DIR", "NDR", "TRN"),
    "phylum": ("LV", "NV", "HV"),
    "class": ("PT", "PX", "TE", "BR", "RR", "AR", "SR", "RB", "FB"),
    "order": ("AGC", "RVP", "ABS", "EXH"),
    "family": ("ALN", "CT", "CST"),
    "genus": ("RUN", "PBM", "FLG", "VWM", "RRO", "SRR"),
}

#: Human-readable meaning of every node (inferred in MFT.md §1.3).
NODE_MEANINGS: Final[dict[str, str]] = {
    "DIR": "directional", "NDR": "non-directional", "TRN": "transitional",
    "LV": "low volatility", "NV": "normal volatility", "HV": "high volatility",
    "PT": "persistent trend", "PX": "price expansion", "TE": "trend exhaustion",
    "BR": "balanced range", "RR": "reactive reversion", "AR": "accumulation/distribution range",
    "SR": "squeeze release", "RB": "range break", "FB": "failed break",
    "AGC": "aggressive continuation", "RVP": "reversion/pullback", "ABS": "absorption",
    "EXH": "exhaustion",
    "ALN": "aligned", "CT": "counter-trend", "CST": "constrained",
    "RUN": "run", "PBM": "pullback to mean", "FLG": "flag", "VWM": "volume-weighted magnet",
    "RRO": "range-reversion oscillation", "SRR": "sharp reversal",
}  # fmt: skip

#: Parent kingdom of every class.
CLASS_PARENT: Final[dict[str, str]] = {
    "PT": "DIR", "PX": "DIR", "TE": "DIR",
    "BR": "NDR", "RR": "NDR", "AR": "NDR",
    "SR": "TRN", "RB": "TRN", "FB": "TRN",
}  # fmt: skip

NODES: Final[tuple[str, ...]] = tuple(n for lvl in LEVELS for n in LEVEL_NODES[lvl])
NODE_INDEX: Final[dict[str, int]] = {n: i for i, n in enumerate(NODES)}
NODE_LEVEL: Final[dict[str, str]] = {n: lvl for lvl in LEVELS for n in LEVEL_NODES[lvl]}

#: The 8 sibling groups over which a softmax is taken (classes are conditional on their kingdom).
GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "kingdom": LEVEL_NODES["kingdom"],
    "phylum": LEVEL_NODES["phylum"],
    "class|DIR": ("PT", "PX", "TE"),
    "class|NDR": ("BR", "RR", "AR"),
    "class|TRN": ("SR", "RB", "FB"),
    "order": LEVEL_NODES["order"],
    "family": LEVEL_NODES["family"],
    "genus": LEVEL_NODES["genus"],
}
GROUP_LEVEL: Final[dict[str, str]] = {g: g.split("|")[0] for g in GROUPS}

BASE_REGIMES: Final[tuple[str, ...]] = ("TREND", "RANGE", "BREAKOUT", "EXHAUST_REV")


class Species(NamedTuple):
    """One leaf of the taxonomy: its path (one node per level), base regime and vol tag."""

    id: str
    path: tuple[str, str, str, str, str, str]
    regime: str
    vol_tag: str  # "LOWVOL", "HIGHVOL" or ""


def _s(sid: str, path: str, regime: str, tag: str = "") -> Species:
    k, p, c, o, f, g = path.split("/")
    return Species(sid, (k, p, c, o, f, g), regime, tag)


#: The 28 species of MFT.md §1.6 (ids S01..S28).
SPECIES: Final[tuple[Species, ...]] = (
    _s("S01", "DIR/LV/PT/AGC/ALN/RUN", "TREND", "LOWVOL"),
    _s("S02", "DIR/LV/PT/RVP/CST/PBM", "TREND", "LOWVOL"),
    _s("S03", "DIR/LV/TE/EXH/CT/RRO", "EXHAUST_REV", "LOWVOL"),
    _s("S04", "DIR/NV/PT/AGC/ALN/RUN", "TREND"),
    _s("S05", "DIR/NV/PT/RVP/ALN/PBM", "TREND"),
    _s("S06", "DIR/NV/PX/AGC/ALN/RUN", "TREND"),
    _s("S07", "DIR/NV/PX/RVP/ALN/FLG", "TREND"),
    _s("S08", "DIR/NV/TE/EXH/CT/RRO", "EXHAUST_REV"),
    _s("S09", "DIR/HV/PX/AGC/ALN/RUN", "TREND", "HIGHVOL"),
    _s("S10", "DIR/HV/PX/ABS/CT/FLG", "TREND", "HIGHVOL"),
    _s("S11", "DIR/HV/TE/EXH/CT/SRR", "EXHAUST_REV", "HIGHVOL"),
    _s("S12", "NDR/LV/BR/ABS/ALN/VWM", "RANGE", "LOWVOL"),
    _s("S13", "NDR/LV/AR/ABS/CT/RRO", "RANGE", "LOWVOL"),
    _s("S14", "NDR/LV/BR/AGC/ALN/RRO", "RANGE", "LOWVOL"),
    _s("S15", "NDR/NV/BR/ABS/ALN/RRO", "RANGE"),
    _s("S16", "NDR/NV/RR/RVP/CT/SRR", "RANGE"),
    _s("S17", "NDR/NV/AR/ABS/CT/VWM", "RANGE"),
    _s("S18", "NDR/NV/BR/RVP/CST/PBM", "RANGE"),
    _s("S19", "NDR/HV/RR/RVP/CT/SRR", "RANGE", "HIGHVOL"),
    _s("S20", "NDR/HV/BR/ABS/CST/RRO", "RANGE", "HIGHVOL"),
    _s("S21", "NDR/HV/AR/EXH/CT/SRR", "EXHAUST_REV", "HIGHVOL"),
    _s("S22", "TRN/LV/SR/AGC/ALN/FLG", "BREAKOUT", "LOWVOL"),
    _s("S23", "TRN/LV/SR/RVP/CST/PBM", "BREAKOUT", "LOWVOL"),
    _s("S24", "TRN/NV/SR/AGC/ALN/RUN", "BREAKOUT"),
    _s("S25", "TRN/NV/RB/AGC/ALN/RUN", "BREAKOUT"),
    _s("S26", "TRN/NV/FB/EXH/CT/SRR", "EXHAUST_REV"),
    _s("S27", "TRN/HV/SR/AGC/ALN/RUN", "BREAKOUT", "HIGHVOL"),
    _s("S28", "TRN/HV/RB/ABS/ALN/FLG", "BREAKOUT", "HIGHVOL"),
)
SPECIES_IDS: Final[tuple[str, ...]] = tuple(s.id for s in SPECIES)

#: (28 species, 6 levels) node index of each species' path.
SPECIES_PATHS: Final[np.ndarray] = np.array(
    [[NODE_INDEX[n] for n in s.path] for s in SPECIES], dtype=np.int64
)
#: (28,) base-regime code of each species (index into BASE_REGIMES).
SPECIES_BASE: Final[np.ndarray] = np.array(
    [BASE_REGIMES.index(s.regime) for s in SPECIES], dtype=np.int64
)


def level_slice(level: str) -> slice:
    """Columns of ``level``'s nodes in a (bars, 28) node array."""
    first = NODE_INDEX[LEVEL_NODES[level][0]]
    return slice(first, first + len(LEVEL_NODES[level]))


def match_pattern(pattern: str) -> np.ndarray:
    """Boolean mask over the 28 species matched by a validity pattern (MFT.md §1.8).

    Grammar: ``S##`` one species; ``DIR`` / ``NDR`` / ``TRN`` a kingdom; ``LOWVOL`` /
    ``HIGHVOL`` phylum LV / HV; ``K.P`` kingdom and phylum; ``K.x.C`` kingdom and class, where
    any part may be ``*``. Raises ``ValueError`` for a pattern that names no known node.
    """
    pat = pattern.strip()
    if pat in SPECIES_IDS:
        return np.array([s.id == pat for s in SPECIES])
    vol = {"LOWVOL": "LV", "HIGHVOL": "HV"}
    if pat in vol:
        return np.array([s.path[1] == vol[pat] for s in SPECIES])
    parts = pat.split(".")
    if not 1 <= len(parts) <= 3:
        raise ValueError(f"bad validity pattern {pattern!r}")
    levels = (0, 1, 2)[: len(parts)]
    for lvl, part in zip(levels, parts, strict=True):
        valid = LEVEL_NODES[LEVELS[lvl]]
        if part != "*" and part not in valid:
            raise ValueError(
                f"validity pattern {pattern!r}: {part!r} is not a {LEVELS[lvl]} "
                f"(valid: {', '.join(valid)} or *)"
            )
    return np.array(
        [
            all(part == "*" or s.path[lvl] == part for lvl, part in zip(levels, parts, strict=True))
            for s in SPECIES
        ]
    )


# ---------------------------------------------------------------------------- energies and logits

#: MFT features that measure volatility or bar size (dropped from DIR / NDR when
#: ``taxonomy.vol_free_direction``)
VOL_FEATURE_PREFIXES: Final[tuple[str, ...]] = ("rv_", "true_range", "range_expansion")


def energy_matrix(cfg: TaxonomyConfig, features: Sequence[str]) -> np.ndarray:
    """alpha (features x 28 nodes): energy table + calibrated correction + MSL matrices x
    ``msl_kingdom_scale``; DIR / NDR rows of volatility features zeroed if
    ``vol_free_direction``. A feature the tables name but ``features`` leaves out must weigh
    nothing in total (as :func:`~phi.regime.engine.z_columns` leaves out the unread ones, e.g.
    a feature whose only weights were set to 0)."""
    rows: dict[str, np.ndarray] = {}

    def add(feat: str, node: str, w: float) -> None:
        if feat not in rows:
            rows[feat] = np.zeros(len(NODES))
        rows[feat][NODE_INDEX[node]] += w

    for nodes in cfg.energy.values():
        for node, weights in nodes.items():
            for feat, w in weights.items():
                add(feat, node, w)
    for nodes in cfg.energy_correction.values():
        for node, weights in nodes.items():
            for feat, w in weights.items():
                add(feat, node, w)
    for table in (cfg.msl_kingdom, cfg.msl_class):
        for node, weights in table.items():
            for feat, w in weights.items():
                add(feat, node, cfg.msl_kingdom_scale * w)
    if cfg.vol_free_direction:
        for feat, row in rows.items():
            if feat.startswith(VOL_FEATURE_PREFIXES):
                row[[NODE_INDEX["DIR"], NODE_INDEX["NDR"]]] = 0.0
    col = {f: i for i, f in enumerate(features)}
    alpha = np.zeros((len(features), len(NODES)))
    for feat, row in rows.items():
        if feat in col:
            alpha[col[feat]] = row
        elif row.any():
            raise ConfigError(
                f"the taxonomy weighs feature {feat!r}, which is not among the features given "
                f"({', '.join(features)})"
            )
    return alpha


def gates(z: np.ndarray, cfg: TaxonomyConfig, features: Sequence[str]) -> np.ndarray:
    """phi_j = tanh(gamma_j z_j); ``mass`` uses the near-equilibrium gate 1 - tanh(gamma |z|).

    NaN z (warm-up) counts as 0 (so the mass gate is 1 there).
    """
    z = np.nan_to_num(z, nan=0.0)
    gamma = np.array([cfg.gate_steepness.get(f, cfg.gate_default) for f in features])
    phi = np.tanh(z * gamma)
    if "mass" in features:
        j = list(features).index("mass")
        phi[:, j] = 1.0 - np.tanh(gamma[j] * np.abs(z[:, j]))
    return phi


def level_matrix(energy: dict[str, dict[str, float]], names: Sequence[str]) -> np.ndarray:
    """beta (level features x 28 nodes) from ``levels.energy`` (node -> feature -> weight)."""
    col = {f: i for i, f in enumerate(names)}
    beta = np.zeros((len(names), len(NODES)))
    for node, weights in energy.items():
        for feat, w in weights.items():
            beta[col[feat], NODE_INDEX[node]] += w
    return beta


def _sparse_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ptr, idx, val): the non-zero entries of each row of a (compressed sparse rows)."""
    rows, cols = np.nonzero(a)
    ptr = np.searchsorted(rows, np.arange(a.shape[0] + 1)).astype(np.int64)
    return ptr, cols.astype(np.int64), np.ascontiguousarray(a[rows, cols], dtype=np.float64)


#: bars per block of :func:`node_logits` (bounds its temporaries; fits the caches)
_BLOCK = 16384


def _zero_nan(a: np.ndarray) -> np.ndarray:
    """Set a's NaN entries to 0 in place (one pass when there are none); returns a."""
    mask = np.isnan(a)
    if mask.any():
        a[mask] = 0.0
    return a


def node_logits(
    z: np.ndarray,
    cfg: TaxonomyConfig,
    features: Sequence[str],
    levels: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    keep_energy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``(energy, logits)``, each (bars, 28), from normalised features z (bars, features).

    E = gates(z) @ alpha / T_level + levels @ beta + bias (level features NaN -> 0; T the
    level's temperature, so the logits are already tempered); class energies are scaled by sigmoid(sticky logit of their parent
    kingdom) (MFT.md's Interface 3, using the logit as its documentation says rather than the
    reference's raw energy); logits are sticky EWMs l_t = (1 - eta) l_(t-1) + eta E_t.
    Energies are float32 (``keep_energy=False``: an empty (0, 28) array), logits float64.
    Computed in blocks of bars (:func:`logit_blocks`).
    """
    n = len(z)
    energy = np.empty((n if keep_energy else 0, len(NODES)), dtype=np.float32)
    logits = np.empty((n, len(NODES)))
    for _ in logit_blocks(z, cfg, features, levels, beta, energy=energy, logits=logits):
        pass  # each block is written into logits (and energy)
    return energy, logits


def logit_blocks(
    z: np.ndarray,
    cfg: TaxonomyConfig,
    features: Sequence[str],
    levels: np.ndarray | None = None,
    beta: np.ndarray | None = None,
    energy: np.ndarray | None = None,
    logits: np.ndarray | None = None,
    prepare: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[int, int, np.ndarray]]:
    """The sticky logits of :func:`node_logits`, block of :data:`_BLOCK` bars by block: yields
    ``(a, b, logits of bars a..b-1)``. Without ``logits`` (bars, 28) to write into, the block
    is a reused buffer, valid until the next block; ``energy`` (float32, bars or 0 rows)
    receives the energies if it has rows. ``prepare(a, b)``, if given, runs before block
    a..b-1 reads z (e.g. to fill in those rows of z).

    Per block: vectorised gates, their NaN/mass fix-up, the energies summed term by term in a
    fixed order (:func:`~phi.regime._logits_nb.energies_nb`; not BLAS, whose sums depend on how
    many rows a call holds), then one sequential numba pass for the biases and the sticky
    logits (:mod:`phi.regime._logits_nb`). A bar's logits depend on neither the block it falls
    in nor how many bars follow it.
    """
    alpha = energy_matrix(cfg, features) / np.array([cfg.temperature[NODE_LEVEL[n]] for n in NODES])
    gamma = np.array([cfg.gate_steepness.get(f, cfg.gate_default) for f in features])
    mass = list(features).index("mass") if "mass" in features else -1
    if levels is None or beta is None or not levels.shape[1]:
        levels, beta = np.zeros((len(z), 0)), np.zeros((0, len(NODES)))
    eta = np.array([cfg.smoothing[NODE_LEVEL[n]] for n in NODES])
    parent = np.array([NODE_INDEX[CLASS_PARENT[c]] for c in LEVEL_NODES["class"]], dtype=np.int64)
    cls = np.arange(len(NODES), dtype=np.int64)[level_slice("class")]
    bias = np.array([cfg.bias.get(n, 0.0) for n in NODES])
    levels = np.asarray(levels, dtype=np.float64)
    n = len(z)
    if energy is None:
        energy = np.empty((0, len(NODES)), dtype=np.float32)
    if _any_inf_nb(levels):
        # an infinite level feature: only the sparse kernel keeps inf * 0 (unused weights) out
        if prepare is not None:
            prepare(0, n)
        e_all, l_all = _nb.energy_logits_nb(
            np.asarray(z, dtype=np.float64), gamma, mass, *_sparse_rows(alpha), levels,
            *_sparse_rows(beta), bias, eta, cls, parent,
        )  # fmt: skip
        if len(energy):
            energy[:] = e_all
        if logits is not None:
            logits[:] = l_all
            l_all = logits
        for a in range(0, n, _BLOCK):
            yield a, min(n, a + _BLOCK), l_all[a : a + _BLOCK]
        return
    prev = np.zeros(len(NODES))
    m = min(n, _BLOCK)  # block buffers, reused (no fresh full-size temporaries), column-major
    g_buf, e_buf = np.empty((m, z.shape[1])), np.empty((m, len(NODES)))
    l_buf = np.empty((m, len(NODES))) if logits is None else None
    no_mass = np.empty(0)
    for a in range(0, n, _BLOCK):
        b = min(n, a + _BLOCK)
        if prepare is not None:
            prepare(a, b)
        g, e = g_buf[: b - a], e_buf[: b - a]
        zb = np.asarray(z[a:b], dtype=np.float64)
        np.multiply(zb, gamma, out=g)
        np.tanh(g, out=g)
        if mass >= 0:
            zm = zb[:, mass]
            _fix_gates_nb(g, zm, np.tanh(gamma[mass] * np.abs(zm)), mass)
        else:
            _fix_gates_nb(g, no_mass, no_mass, mass)  # NaN z (warm-up, gaps) -> gate 0
        _energies_nb(g, alpha, levels[a:b], beta, e)  # level features NaN -> 0
        out = logits[a:b] if logits is not None else l_buf[: b - a]  # type: ignore[index]
        _sticky_logits_chunk_nb(e, bias, eta, cls, parent, prev, a == 0, energy[a:b], out)
        yield a, b, out
