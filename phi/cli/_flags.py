"""Flags laid over a config file -> a validated RunConfig (``phi backtest``, ``phi demo``)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from phi.errors import ConfigError, did_you_mean, shown

if TYPE_CHECKING:
    from phi.backtest.run_config import RunConfig

DEFAULT_INDICATORS: Final = ("rsi", "macd")
DEMO_INDICATORS: Final = ("rsi", "macd", "dual_sma")
_SIZE_FIELD: Final = {
    "percent_equity": "size_pct",
    "fixed_cash": "size_cash",
    "fixed_units": "size_units",
    "risk_per_trade": "risk_pct",
}



def split_list(text: str, flag: str) -> list[str]:
    """'SPY, QQQ' -> ['SPY', 'QQQ']; nothing but blanks and commas -> [] (each caller says
    what an empty flag means). An empty item next to others ('SPY,,QQQ', a trailing 'SPY,') is
    a :class:`ConfigError` naming ``flag``: dropping it would hide a typo, such as a symbol
    left out."""
    items = [p.strip() for p in text.split(",")]
    if not any(items):
        return []
    if "" in items:
        raise ConfigError(f"{flag}: empty item in {shown(text)}")
    return items


def parse_value(text: str) -> int | float | str:
    """'10' -> 10, '2.5' -> 2.5, anything else stays text."""
    for cast in (int, float):
        with contextlib.suppress(ValueError):
            return cast(text)  # type: ignore[operator]
    return text


def parse_fraction(text: str | None, flag: str) -> float | None:
    """'0.05' or '5%' -> 0.05; ``None`` stays ``None``."""
    if text is None:
        return None
    t = text.strip()
    try:
        return float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise ConfigError(f"{flag} must be a number like 0.05 or 5%, got {shown(text)}") from None


#: ``--profit-target off``: the flag given, the setting switched off (``None`` = flag not given).
OFF: Final = "off"


def parse_fraction_or_off(text: str | None, flag: str) -> float | str | None:
    """'0.5' or '50%' -> 0.5; 'off'/'none' -> :data:`OFF`; ``None`` stays ``None``."""
    if text is not None and text.strip().lower() in ("off", "none"):
        return OFF
    return parse_fraction(text, flag)


def parse_strike_pair(text: str | None, flag: str) -> tuple[float, float] | None:
    """'0.3,0.15' -> (0.3, 0.15); one value '0.3' -> (0.3, 0.15): the far leg at half the near one."""
    if text is None:
        return None
    parts = split_list(text, flag)
    try:
        vals = [float(p[:-1]) / 100.0 if p.endswith("%") else float(p) for p in parts]
    except ValueError:
        raise ConfigError(f"{flag} must be one number or two (near,far) like 0.3,0.15, got {text!r}") from None
    if len(vals) == 1:
        return vals[0], vals[0] / 2.0
    if len(vals) != 2:
        raise ConfigError(f"{flag} takes one value or two (near,far), got {len(vals)}: {text!r}")
    return vals[0], vals[1]


def parse_pairs(items: list[str] | None, flag: str) -> list[tuple[str, str]]:
    """``['a=1,b=2', 'c=3']`` -> ``[('a', '1'), ('b', '2'), ('c', '3')]``.

    A name given twice (``rsi.period=14,rsi.period=15``) is refused: which one was meant?
    """
    out: dict[str, str] = {}
    if items and not any(part.strip() for item in items for part in item.split(",")):
        raise ConfigError(f"{flag} is empty ({shown(items[0])}); give name=value pairs or leave {flag} out")
    for item in items or []:
        parts = split_list(item, flag)
        if not parts:  # `-p rsi.period=10 -p ""`
            raise ConfigError(f"{flag}: empty value among {shown(items)}; leave it out or give name=value pairs")
        for part in parts:
            key, sep, val = part.partition("=")
            if not sep or not key.strip() or not val.strip():
                raise ConfigError(f"{flag} expects name=value pairs, got {shown(part)}")
            name = key.strip()
            if name in out:
                raise ConfigError(f"{flag} gives {name!r} twice ({out[name]!r} and {val.strip()!r}); give it once")
            out[name] = val.strip()
    return list(out.items())


def build_config(
    *,
    config_file: str | None = None,
    dataset: Mapping[str, Any] | None = None,
    indicators: str | None = None,
    params: list[str] | None = None,
    blend_mode: str | None = None,
    weights: list[str] | None = None,
    dead_zone: float | None = None,
    regime_config: str | None = None,
    engine: Mapping[str, Any] | None = None,
    costs: str | None = None,
    mode: str | None = None,
    options: Mapping[str, Any] | None = None,
    size: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    seed: int | None = None,
) -> RunConfig:
    """Flags laid over a config file (or over the defaults) -> a validated RunConfig.

    ``None`` means "flag not given" (:data:`OFF`: given and switched off). Changing any
    dataset field drops the file's recorded data hash (it described other bars). ``options``
    holds :class:`phi.options.OptionsConfig` fields and needs ``mode="options"`` (given or
    from the file).
    """
    if config_file:  # read (and refuse) the file before the engine is imported
        from phi._io import read_user_text

        text = read_user_text(config_file, "--config file")
    from phi.backtest.run_config import RunConfig

    if config_file:
        try:
            d = RunConfig.from_json(text).to_dict()
        except ConfigError as exc:
            raise ConfigError(f"--config file {config_file!r}: {exc}") from None
    else:
        d = {"dataset": {"symbol": "DEMO"}, "indicators": [{"name": n} for n in DEFAULT_INDICATORS]}
    given = {k: v for k, v in (dataset or {}).items() if v is not None}
    if given:
        d["dataset"] = {**d["dataset"], **given, "content_hash": None}
    if indicators is not None:
        names = split_list(indicators, "--indicators")
        if not names:
            raise ConfigError("--indicators is empty; give names like rsi,macd (see phi indicators list)")
        d["indicators"] = [{"name": n} for n in names]
    by_name = {ind["name"]: ind for ind in d["indicators"]}

    def target(name: str, flag: str) -> dict[str, Any]:
        if name not in by_name:
            raise ConfigError(
                f"{flag} names {name!r}, which is not among the indicators "
                f"({', '.join(by_name)}).{did_you_mean(name, list(by_name))}"
            )
        return by_name[name]

    for key, val in parse_pairs(params, "--params"):
        ind, dot, param = key.partition(".")
        if not dot or not param:
            raise ConfigError(f"--params expects indicator.param=value (like rsi.period=10), got {key!r}")
        entry = target(ind, "--params")
        entry["params"] = {**entry.get("params", {}), param: parse_value(val)}
    for name, val in parse_pairs(weights, "--weights"):
        w = parse_value(val)
        if isinstance(w, str):
            raise ConfigError(f"--weights: the weight of {name!r} must be a number, got {val!r}")
        target(name, "--weights")["weight"] = w
    if blend_mode is not None:
        d["blend"] = {"mode": blend_mode}
    if dead_zone is not None:
        blend = dict(d.get("blend") or {"mode": "voting"})
        blend["params"] = {**(blend.get("params") or {}), "dead_zone": dead_zone}
        d["blend"] = blend
    if regime_config is not None:
        from phi.regime.config import load_config, overrides

        blend = dict(d.get("blend") or {})  # the mode must be regime_weighted (BlendConfig says so)
        blend["regime"] = overrides(load_config(regime_config))
        d["blend"] = blend
    eng = dict(d.get("engine") or {})
    options_run = (mode if mode is not None else d.get("mode", "equities")) == "options"
    if costs is not None and options_run:
        raise ConfigError("--costs sets stock commission and slippage; options runs take --haircut and the options' per-contract commission")
    if (costs is not None or not config_file) and not options_run:  # a preset, or a new config's default
        from phi.backtest.costs import DEFAULT_COST_PRESET, cost_preset

        eng.update(cost_preset(DEFAULT_COST_PRESET if costs is None else costs).engine_fields())
    eng.update({k: v for k, v in (engine or {}).items() if v is not None})
    if size is not None:
        sizing = eng.get("sizing", "percent_equity")
        field = _SIZE_FIELD.get(sizing, "size_pct")
        eng[field] = parse_fraction(size, "--size") if field in ("size_pct", "risk_pct") else parse_value(size)
        if isinstance(eng[field], str):  # '5%' or 'abc' for an amount: not "must be a finite number"
            what = "an amount of cash like 5000" if field == "size_cash" else "a number of units like 10"
            raise ConfigError(f"--size with --sizing {sizing} is {what} (no %), got {shown(size)}")
    d["engine"] = eng
    if mode is not None:
        d["mode"] = mode
        if mode != "options":
            d.pop("options", None)
    opts = {k: (None if v == OFF else v) for k, v in (options or {}).items() if v is not None}
    if opts:
        if d.get("mode", "equities") != "options":
            raise ConfigError(f"options settings ({', '.join(opts)}) need --mode options")
        d["options"] = {**(d.get("options") or {}), **opts}
    if description is not None:
        d["description"] = description
    if tags:
        d["tags"] = list(tags)
    if seed is not None:
        d["seed"] = seed
    return RunConfig.from_dict(d)
