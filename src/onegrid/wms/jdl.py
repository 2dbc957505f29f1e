"""DIRAC JDL (ClassAd syntax) to plain attributes, and parametric expansion.

    [
      Executable = "my.sh";            // comments like this
      Arguments = "-n 10";
      InputSandbox = {"a.py", "LFN:/belle/x"};
      CPUTime = 3600;
      Parameters = 5; ParameterStart = 0; ParameterStep = 1;
    ]

Values are strings, numbers, booleans, bare words and `{...}` lists. The surrounding
brackets are optional. Errors name the line and what was expected.
"""

from __future__ import annotations

import re
from typing import Any

from onegrid.errors import InvalidInput

_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)|(?P<string>"(?:[^"\\]|\\.)*")
    |(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![A-Za-z_]))|(?P<word>[A-Za-z_][A-Za-z0-9_.\-:/]*)
    |(?P<punct>[\[\]{}=;,])""",
    re.VERBOSE | re.DOTALL,
)

PARAMETRIC_KEYS = ("Parameters", "ParameterStart", "ParameterStep", "ParameterFactor")


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise InvalidInput(f"JDL line {line}: unexpected {text[pos:pos + 10]!r}")
        kind = m.lastgroup or ""
        if kind not in ("ws", "comment"):
            out.append((kind, m.group(), text.count("\n", 0, pos) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise InvalidInput(f"JDL: unexpected end, expected {value or 'a value'}")
        if value is not None and tok[1] != value:
            raise InvalidInput(f"JDL line {tok[2]}: expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> dict[str, Any]:
        bracketed = self.peek() is not None and self.peek()[1] == "["  # type: ignore[index]
        if bracketed:
            self.take("[")
        attrs: dict[str, Any] = {}
        while (tok := self.peek()) is not None and tok[1] != "]":
            kind, name, line = self.take()
            if kind != "word":
                raise InvalidInput(f"JDL line {line}: expected an attribute name, found {name!r}")
            self.take("=")
            attrs[name] = self.value()
            if (nxt := self.peek()) is not None and nxt[1] == ";":
                self.take(";")
            elif nxt is not None and nxt[1] != "]":
                raise InvalidInput(f"JDL line {nxt[2]}: expected ';' after attribute {name}")
        if bracketed:
            self.take("]")
        if (tok := self.peek()) is not None:
            raise InvalidInput(f"JDL line {tok[2]}: unexpected {tok[1]!r} after the description")
        return attrs

    def value(self) -> Any:
        kind, text, line = self.take()
        if kind == "string":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape") if "\\" in text else text[1:-1]
        if kind == "number":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "word":
            low = text.lower()
            return True if low == "true" else False if low == "false" else text
        if text == "{":
            items: list[Any] = []
            while (tok := self.peek()) is not None and tok[1] != "}":
                items.append(self.value())
                if (nxt := self.peek()) is not None and nxt[1] == ",":
                    self.take(",")
            self.take("}")
            return items
        raise InvalidInput(f"JDL line {line}: expected a value, found {text!r}")


def parse_jdl(text: str) -> dict[str, Any]:
    """The attributes of one JDL description (names as written)."""
    if not text.strip():
        raise InvalidInput("JDL is empty")
    return _Parser(text).parse()


def _parameter_values(attrs: dict[str, Any], limit: int) -> list[Any]:
    params = attrs["Parameters"]
    if isinstance(params, list):
        values = params
    elif isinstance(params, int) and not isinstance(params, bool):
        if params < 1:
            raise InvalidInput("Parameters: must be a positive count or a list")
        start = attrs.get("ParameterStart", 0)
        step = attrs.get("ParameterStep", 0 if "ParameterFactor" in attrs else 1)
        factor = attrs.get("ParameterFactor", 1)
        for key, val in (("ParameterStart", start), ("ParameterStep", step), ("ParameterFactor", factor)):
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise InvalidInput(f"{key}: must be a number")
        values, value = [], start
        for _ in range(params):
            values.append(value)
            value = value * factor + step
    else:
        raise InvalidInput("Parameters: must be a positive count or a list")
    if not values:
        raise InvalidInput("Parameters: the list is empty")
    if len(values) > limit:
        raise InvalidInput(f"Parameters: {len(values)} jobs exceed the limit of {limit} per submission")
    return values


def _substitute(value: Any, param: Any, index: int) -> Any:
    if isinstance(value, str):
        return value.replace("%s", str(param)).replace("%n", str(index))
    if isinstance(value, list):
        return [_substitute(v, param, index) for v in value]
    return value


def expand_parametric(attrs: dict[str, Any], *, limit: int) -> list[dict[str, Any]]:
    """One attribute dict per job: `%s` becomes the parameter value and `%n` its index."""
    if "Parameters" not in attrs:
        return [attrs]
    values = _parameter_values(attrs, limit)
    base = {k: v for k, v in attrs.items() if k not in PARAMETRIC_KEYS}
    return [{k: _substitute(v, p, i) for k, v in base.items()} for i, p in enumerate(values)]
