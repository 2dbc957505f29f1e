"""RSE expressions, Rucio's grammar: which RSEs a rule, a quota or a listing means.

    expr   := term (op term)*          evaluated left to right, as Rucio does
    op     := '|' (union) | '&' (intersection) | '\\' (complement: left minus right)
    term   := '(' expr ')' | '*' | KEY '=' VALUE | KEY '<' NUMBER | KEY '>' NUMBER | WORD

A WORD selects the RSE of that name, or every RSE whose attribute WORD is true.
`key=value` compares as text (`istape=true` matches the boolean true); `<`/`>` compare
numbers and skip RSEs whose value is not a number. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from onegrid.catalog.errors import InvalidRSEExpression, RSEExpressionMatchesNothing


@dataclass(frozen=True)
class RSEView:
    """What an expression sees of an RSE: its name and attributes."""

    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


_WORD = r"[A-Za-z0-9_.\-]+"
_TOKEN = re.compile(
    rf"\s*(?:(?P<cmp>(?P<key>{_WORD})\s*(?P<op>[=<>])\s*(?P<value>[A-Za-z0-9_.\-:/+]+))"
    rf"|(?P<word>{_WORD})|(?P<punct>[|&\\()*]))"
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # "cmp" | "word" | one of | & \ ( ) *
    pos: int
    key: str = ""
    op: str = ""
    value: str = ""


def tokenize(expression: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            raise InvalidRSEExpression(
                f"invalid RSE expression {expression!r}: unexpected {bad!r} at position {pos}"
            )
        if m.group("cmp"):
            tokens.append(_Tok("cmp", m.start("cmp"), m.group("key"), m.group("op"), m.group("value")))
        elif m.group("word"):
            tokens.append(_Tok("word", m.start("word"), value=m.group("word")))
        else:
            tokens.append(_Tok(m.group("punct"), m.start("punct")))
        pos = m.end()
    return tokens


def _show(tok: _Tok) -> str:
    if tok.kind == "cmp":
        return f"{tok.key}{tok.op}{tok.value}"
    return tok.value if tok.kind == "word" else tok.kind


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return value is True or (isinstance(value, int | float) and value == 1 and not isinstance(value, bool))


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _select(tok: _Tok, rses: list[RSEView], expression: str) -> set[str]:
    if tok.kind == "*":
        return {r.name for r in rses}
    if tok.kind == "word":
        return {r.name for r in rses if r.name == tok.value or _truthy(r.attributes.get(tok.value))}
    if tok.op == "=":
        want = tok.value.lower()
        return {r.name for r in rses if tok.key in r.attributes and _as_text(r.attributes[tok.key]).lower() == want}
    bound = _as_number(tok.value)
    if bound is None:
        raise InvalidRSEExpression(
            f"invalid RSE expression {expression!r}: {tok.key}{tok.op}{tok.value} needs a number"
        )
    out = set()
    for r in rses:
        n = _as_number(r.attributes.get(tok.key))
        if n is not None and (n < bound if tok.op == "<" else n > bound):
            out.add(r.name)
    return out


class _Parser:
    def __init__(self, expression: str, rses: list[RSEView]) -> None:
        self.expression = expression
        self.tokens = tokenize(expression)
        self.i = 0
        self.rses = rses

    def error(self, what: str) -> InvalidRSEExpression:
        return InvalidRSEExpression(f"invalid RSE expression {self.expression!r}: {what}")

    def peek(self) -> _Tok | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> set[str]:
        if not self.tokens:
            raise self.error("it is empty")
        result = self.expr()
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {_show(tok)!r} at position {tok.pos}")
        return result

    def expr(self) -> set[str]:
        result = self.term()
        while (tok := self.peek()) is not None and tok.kind in ("|", "&", "\\"):
            self.i += 1
            right = self.term()
            if tok.kind == "|":
                result = result | right
            elif tok.kind == "&":
                result = result & right
            else:
                result = result - right
        return result

    def term(self) -> set[str]:
        tok = self.peek()
        if tok is None:
            raise self.error("it ends where a term is expected")
        self.i += 1
        if tok.kind == "(":
            inner = self.expr()
            close = self.peek()
            if close is None or close.kind != ")":
                raise self.error(f"the parenthesis at position {tok.pos} is not closed")
            self.i += 1
            return inner
        if tok.kind in ("word", "cmp", "*"):
            return _select(tok, self.rses, self.expression)
        raise self.error(f"unexpected {_show(tok)!r} at position {tok.pos}")


def validate(expression: str) -> None:
    """Raise InvalidRSEExpression if the expression is not well formed."""
    _Parser(expression, []).parse()


def evaluate(expression: str, rses: Iterable[RSEView], *, allow_empty: bool = False) -> list[str]:
    """The names of the RSEs the expression selects, sorted. Raises InvalidRSEExpression
    for a malformed expression and RSEExpressionMatchesNothing for an empty result."""
    pool = list(rses)
    names = _Parser(expression, pool).parse()
    if not names and not allow_empty:
        raise RSEExpressionMatchesNothing(f"RSE expression {expression!r} matches no RSE")
    return sorted(names)
