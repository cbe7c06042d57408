"""A tiny filter language for the run index: ``sharpe > 1 and symbol = 'AAPL'``.

Grammar (keywords are case-insensitive)::

    expr       := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" expr ")" | comparison
    comparison := FIELD OP VALUE | LISTFIELD "has" TEXT
    OP         := = | == | != | <> | < | <= | > | >=
    VALUE      := number (``1.5``, ``-20%`` = -0.2) | 'text' | "text" | true | false

Fields and their kinds are declared once in :data:`FIELDS`; a filter is parsed into a small
tree (:class:`Compare`, :class:`Has`, :class:`Not`, :class:`BoolOp`) that
:mod:`phi.backtest.run_index` turns into SQLAlchemy expressions with bound parameters: no user
text ever becomes SQL. Every mistake is one :class:`~phi.errors.ConfigError` line that names the
problem and where it is (``unknown field 'sharp' at character 1. Did you mean 'sharpe'?``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from phi.errors import ConfigError, did_you_mean, shown

__all__ = ["FIELDS", "BoolOp", "Compare", "Has", "Node", "Not", "parse_filter", "parse_sort"]

Kind = Literal["number", "text", "bool", "list"]
#: Every field a filter or a sort may name, with its kind.
FIELDS: Final[dict[str, Kind]] = {
    "run_id": "text", "created_at": "text", "config_hash": "text", "data_fingerprint": "text",
    "symbol": "text", "vendor": "text", "timeframe": "text", "start": "text", "end": "text",
    "blend_mode": "text", "mode": "text", "phi_version": "text", "synthetic": "bool",
    "indicators": "list", "tags": "list", "bars": "number",
    "total_return": "number", "cagr": "number", "annual_volatility": "number", "sharpe": "number",
    "sortino": "number", "calmar": "number", "max_drawdown": "number", "profit_factor": "number",
    "win_rate": "number", "exposure": "number", "n_trades": "number", "n_open_trades": "number",
    "final_equity": "number", "buy_and_hold_return": "number",
}  # fmt: skip
#: Short names a trader might type for a field.
ALIASES: Final = {"trades": "n_trades", "return": "total_return", "drawdown": "max_drawdown",
                  "dd": "max_drawdown", "indicator": "indicators", "tag": "tags", "id": "run_id"}  # fmt: skip
OPERATORS: Final = ("=", "==", "!=", "<>", "<", "<=", ">", ">=")
MAX_FILTER_CHARS: Final = 2_000
MAX_DEPTH: Final = 50

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?%?)
    | (?P<text>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op><=|>=|!=|<>|==|=|<|>)
    | (?P<paren>[()])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.X,
)


@dataclass(frozen=True)
class Compare:
    """``field op value`` (``op`` normalised to one of ``= != < <= > >=``)."""

    field: str
    op: str
    value: float | str | bool


@dataclass(frozen=True)
class Has:
    """``field has value`` for a list field (indicators, tags)."""

    field: str
    value: str


@dataclass(frozen=True)
class Not:
    """``not node``."""

    node: Node


@dataclass(frozen=True)
class BoolOp:
    """``and``/``or`` over two or more nodes."""

    op: Literal["and", "or"]
    nodes: tuple[Node, ...]


Node = Compare | Has | Not | BoolOp


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int  # 1-based character position, for messages


def _tokens(text: str) -> list[_Tok]:
    out, i = [], 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        if m is None or m.lastgroup is None:
            j = len(text) - len(text[i:].lstrip())
            raise ConfigError(f"--where: cannot read {text[j:j + 12]!r} at character {j + 1}")
        start = m.start(m.lastgroup)
        out.append(_Tok(m.lastgroup, m.group(m.lastgroup), start + 1))
        i = m.end()
    return out


def _field(tok: _Tok, option: str = "--where") -> str:
    name = ALIASES.get(tok.text.lower(), tok.text.lower())
    if name not in FIELDS:
        raise ConfigError(
            f"{option}: unknown field {shown(tok.text)} at character {tok.pos}."
            f"{did_you_mean(tok.text, [*FIELDS, *ALIASES])} Fields: {', '.join(FIELDS)}"
        )
    return name


def _value(tok: _Tok) -> float | str | bool:
    if tok.kind == "number":
        pct = tok.text.endswith("%")
        x = float(tok.text.rstrip("%"))
        return x / 100.0 if pct else x
    if tok.kind == "text":
        return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
    if tok.kind == "word" and tok.text.lower() in ("true", "false"):
        return tok.text.lower() == "true"
    raise ConfigError(f"--where: expected a value (a number, 'text', true or false) at character {tok.pos}, got {shown(tok.text)}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.end = len(text) + 1

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, what: str) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise ConfigError(f"--where: the filter ends where {what} was expected")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def expr(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConfigError(f"--where: nested more than {MAX_DEPTH} levels deep")
        nodes = [self.term(depth)]
        while self.keyword("or"):
            nodes.append(self.term(depth))
        return nodes[0] if len(nodes) == 1 else BoolOp("or", tuple(nodes))

    def term(self, depth: int) -> Node:
        nodes = [self.factor(depth)]
        while self.keyword("and"):
            nodes.append(self.factor(depth))
        return nodes[0] if len(nodes) == 1 else BoolOp("and", tuple(nodes))

    def factor(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ConfigError(f"--where: nested more than {MAX_DEPTH} levels deep")
        if self.keyword("not"):
            return Not(self.factor(depth + 1))
        tok = self.take("a field name")
        if tok.kind == "paren" and tok.text == "(":
            node = self.expr(depth + 1)
            close = self.take("')'")
            if close.text != ")":
                raise ConfigError(f"--where: expected ')' at character {close.pos}, got {shown(close.text)}")
            return node
        if tok.kind != "word":
            raise ConfigError(f"--where: expected a field name at character {tok.pos}, got {shown(tok.text)}")
        return self.comparison(tok)

    def comparison(self, ftok: _Tok) -> Node:
        name = _field(ftok)
        kind = FIELDS[name]
        op = self.take(f"an operator after {shown(ftok.text)}")
        if kind == "list":
            if not (op.kind == "word" and op.text.lower() in ("has", "contains")):
                raise ConfigError(f"--where: {name} is a list; write {name} has 'name' (character {op.pos})")
            val = self.take("a value")
            value = _value(val)
            if not isinstance(value, str):
                raise ConfigError(f"--where: {name} has needs a quoted name, got {shown(val.text)} at character {val.pos}")
            return Has(name, value)
        if op.kind != "op":
            raise ConfigError(
                f"--where: expected an operator ({' '.join(OPERATORS)}) after {shown(ftok.text)} at character {op.pos}, got {shown(op.text)}"
            )
        norm = {"==": "=", "<>": "!="}.get(op.text, op.text)
        val = self.take("a value")
        value = _value(val)
        want = {"number": float, "text": str, "bool": bool}[kind]
        if not isinstance(value, want) or (want is float and isinstance(value, bool)):
            wanted = {"number": "a number", "text": "a quoted text", "bool": "true or false"}[kind]
            raise ConfigError(f"--where: {name} is compared with {wanted}, got {val.text[:60]} at character {val.pos}")
        if kind == "bool" and norm not in ("=", "!="):
            raise ConfigError(f"--where: {name} is true or false; use = or != (character {op.pos})")
        return Compare(name, norm, value)


def parse_filter(text: str) -> Node:
    """Parse a ``--where`` filter into a tree; :class:`ConfigError` (one line) if it is not one.

    >>> parse_filter("sharpe > 1 and symbol = 'AAPL'")
    BoolOp(op='and', nodes=(Compare(field='sharpe', op='>', value=1.0), Compare(field='symbol', op='=', value='AAPL')))
    >>> parse_filter("max_drawdown >= -20%")
    Compare(field='max_drawdown', op='>=', value=-0.2)
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError("--where is empty; e.g. --where \"sharpe > 1 and symbol = 'AAPL'\"")
    if len(text) > MAX_FILTER_CHARS:
        raise ConfigError(f"--where is {len(text):,} characters long; at most {MAX_FILTER_CHARS:,} are allowed")
    p = _Parser(text)
    node = p.expr(0)
    rest = p.peek()
    if rest is not None:
        raise ConfigError(f"--where: unexpected {shown(rest.text)} at character {rest.pos} (join conditions with and/or)")
    return node


def parse_sort(text: str) -> tuple[str, bool]:
    """``FIELD``, ``FIELD:desc`` (highest or newest first, the default) or ``FIELD:asc`` ->
    ``(field, descending)``; :class:`ConfigError` for an unknown field or direction.
    """
    if text is not None and not isinstance(text, str):
        raise ConfigError(f"--sort must be a field name (text), got {type(text).__name__}")
    name, _, direction = (text or "").strip().partition(":")
    field = _field(_Tok("word", name.strip(), 1), "--sort") if name.strip() else ""
    if not field:
        raise ConfigError("--sort is empty; e.g. --sort sharpe or --sort max_drawdown:asc")
    if FIELDS[field] == "list":
        raise ConfigError(f"--sort: {field} is a list and cannot be sorted by")
    direction = direction.strip().lower() or "desc"
    if direction not in ("asc", "desc"):
        raise ConfigError(f"--sort: direction must be asc or desc, got {shown(direction)}")
    return field, direction == "desc"
