"""DID metadata filters, as `rucio list-dids --filter` takes them. Pure: no I/O.

Text form: `;` separates OR groups, `,` separates AND conditions, each condition is
`key OP value` with OP in `= == != < <= > >=`, or a range `1000 <= run_number < 2000`;
`*` in a value is a wildcard. Wire form (what the stock client sends): a list of dicts,
one per OR group, `{"key": v, "key.gte": v, ...}`. Both become `list[list[Condition]]`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onegrid.catalog.errors import InvalidFilter

OPS = ("eq", "ne", "lt", "lte", "gt", "gte")
_SYMBOL_TO_OP = {"<=": "lte", ">=": "gte", "==": "eq", "!=": "ne", "<": "lt", ">": "gt", "=": "eq"}
_OP_TO_SYMBOL = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_REVERSED = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte", "eq": "eq", "ne": "ne"}
_SPLIT = re.compile(r"(<=|>=|==|!=|<|>|=)")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class Condition:
    key: str
    op: str  # one of OPS
    value: str

    @property
    def has_wildcard(self) -> bool:
        return "*" in self.value

    def __str__(self) -> str:
        return f"{self.key}{_OP_TO_SYMBOL[self.op]}{self.value}"


Filter = list[list[Condition]]  # OR of ANDs


def _check_key(key: str, text: str) -> str:
    if not _KEY.match(key):
        raise InvalidFilter(f"invalid filter {text!r}: {key!r} is not a metadata key")
    return key


def parse_text(text: str) -> Filter:
    """Parse `run_number>=1000,run_number<2000;datatype=RAW` into OR groups of conditions."""
    groups: Filter = []
    for or_part in text.split(";"):
        if not or_part.strip():
            continue
        conds: list[Condition] = []
        for and_part in or_part.split(","):
            part = and_part.strip()
            if not part:
                continue
            tokens = [t.strip() for t in _SPLIT.split(part)]
            if len(tokens) == 3 and tokens[0] and tokens[2]:
                key, sym, value = tokens
                conds.append(Condition(_check_key(key, part), _SYMBOL_TO_OP[sym], value))
            elif len(tokens) == 5 and all(tokens):
                low, sym1, key, sym2, high = tokens
                op1, op2 = _SYMBOL_TO_OP[sym1], _SYMBOL_TO_OP[sym2]
                if op1 not in ("lt", "lte") or op2 not in ("lt", "lte"):
                    raise InvalidFilter(f"invalid filter {part!r}: a range reads low < key < high")
                _check_key(key, part)
                conds.append(Condition(key, _REVERSED[op1], low))
                conds.append(Condition(key, op2, high))
            else:
                raise InvalidFilter(f"invalid filter {part!r}: expected key OP value (OP one of = != < <= > >=)")
        if conds:
            groups.append(conds)
    return groups


def parse_wire(filters: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> Filter:
    """The stock client's form: `[{"run_number.gte": 1000, "datatype": "RAW"}, {...}]`."""
    if isinstance(filters, Mapping):
        filters = [filters]
    groups: Filter = []
    for group in filters:
        if not isinstance(group, Mapping):
            raise InvalidFilter(f"invalid filter group {group!r}: expected a dictionary")
        conds = []
        for raw_key, value in group.items():
            key, _, op = str(raw_key).partition(".")
            op = op or "eq"
            if op not in OPS:
                raise InvalidFilter(f"invalid filter key {raw_key!r}: operator {op!r} is not one of {', '.join(OPS)}")
            _check_key(key, str(raw_key))
            text = value if isinstance(value, str) else ("true" if value is True else "false" if value is False else str(value))
            conds.append(Condition(key, op, text))
        groups.append(conds)
    return groups


def to_wire(groups: Filter) -> list[dict[str, str]]:
    out = []
    for conds in groups:
        group: dict[str, str] = {}
        for c in conds:
            k = c.key if c.op == "eq" else f"{c.key}.{c.op}"
            if k in group:
                raise InvalidFilter(f"duplicate condition {k!r} in one AND group")
            group[k] = c.value
        out.append(group)
    return out


def wildcard_to_like(value: str) -> str:
    """`data*_2024` → `data%\\_2024` for SQL LIKE with '\\' as escape."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")
