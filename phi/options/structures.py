"""Option structures: which legs each one holds, for the side(s) of the market it expresses.

The structure the user chose decides the legs; the signal only decides *when* and, for a
structure with two sides, *which side*. A directional structure trades only the side it
expresses (a ``long_put`` never buys calls, whatever the signal's sign); a non-directional one
(straddle, strangle, iron condor) opens on ``|signal|``.

Each leg has a role that the strike rule turns into a strike (see
:class:`phi.options.config.OptionsConfig`):

``"atm"``   the spot at entry;
``"near"``  the nearer out-of-the-money strike (``moneyness[0]`` or ``delta[0]``);
``"far"``   the farther one (``moneyness[1]`` or ``delta[1]``).

A ``"stock"`` leg is the underlying itself, ``multiplier`` shares per unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from phi.errors import ConfigError, unknown_choice

__all__ = ["AUTO", "LEG_KINDS", "ROLES", "STRUCTURES", "Leg", "Structure", "get_structure"]

LEG_KINDS: Final = ("call", "put", "stock")
#: ``OptionsConfig(structure=AUTO)``: the structure chosen per bar (:mod:`phi.options.auto`)
AUTO: Final = "auto"
ROLES: Final = ("atm", "near", "far")


@dataclass(frozen=True)
class Leg:
    """One leg per structure unit: ``kind`` call/put/stock, ``qty`` +1 bought / -1 sold."""

    kind: str
    qty: int
    role: str = "atm"


@dataclass(frozen=True)
class Structure:
    """The legs a structure opens on a long (``bullish``) and short (``bearish``) signal.

    ``directional=False`` structures open on ``|signal|`` and hold ``bullish`` legs only;
    an empty side is never traded.
    """

    name: str
    bullish: tuple[Leg, ...]
    bearish: tuple[Leg, ...]
    directional: bool = True
    description: str = ""


STRUCTURES: Final[dict[str, Structure]] = {
    s.name: s
    for s in (
        Structure(
            "long_call",
            (Leg("call", 1, "near"),),
            (),
            description="buy a call; trades long signals only",
        ),
        Structure(
            "long_put",
            (),
            (Leg("put", 1, "near"),),
            description="buy a put; trades short signals only",
        ),
        Structure(
            "bull_call_spread",
            (Leg("call", 1, "near"), Leg("call", -1, "far")),
            (),
            description="buy the near call, sell the far call; long signals only",
        ),
        Structure(
            "bear_put_spread",
            (),
            (Leg("put", 1, "near"), Leg("put", -1, "far")),
            description="buy the near put, sell the far put; short signals only",
        ),
        Structure(
            "bull_put_spread",
            (Leg("put", -1, "near"), Leg("put", 1, "far")),
            (),
            description="sell the near put, buy the far put (a credit); long signals only",
        ),
        Structure(
            "bear_call_spread",
            (),
            (Leg("call", -1, "near"), Leg("call", 1, "far")),
            description="sell the near call, buy the far call (a credit); short signals only",
        ),
        Structure(
            "straddle",
            (Leg("call", 1, "atm"), Leg("put", 1, "atm")),
            (),
            directional=False,
            description="buy the at-the-money call and put; opens on |signal|",
        ),
        Structure(
            "strangle",
            (Leg("call", 1, "far"), Leg("put", 1, "far")),
            (),
            directional=False,
            description="buy the far call and the far put; opens on |signal|",
        ),
        Structure(
            "iron_condor",
            (
                Leg("put", 1, "far"),
                Leg("put", -1, "near"),
                Leg("call", -1, "near"),
                Leg("call", 1, "far"),
            ),
            (),
            directional=False,
            description="sell the near put and call, buy the far ones; opens on |signal|",
        ),
        Structure(
            "covered_call",
            (Leg("stock", 1), Leg("call", -1, "far")),
            (),
            description="hold the stock, sell the far call; long signals only",
        ),
    )
}


def get_structure(name: str) -> Structure:
    """The :class:`Structure` called ``name`` (a ConfigError listing the valid names if none)."""
    try:
        return STRUCTURES[name]
    except (KeyError, TypeError):
        raise ConfigError(unknown_choice("options structure", name, STRUCTURES)) from None
