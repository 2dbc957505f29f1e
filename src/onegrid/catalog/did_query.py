"""DID searches: metadata filters compiled to SQL over the indexed columns (and the JSON
metadata for other keys), streamed in name order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog.meta_filter import Condition, Filter, InvalidFilter, wildcard_to_like
from onegrid.catalog.tables import DID, TYPED_META, DIDType

_CMP = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "lte": "__le__", "gt": "__gt__", "gte": "__ge__"}
_INT_COLUMNS = {"length", "bytes", *(k for k, t in TYPED_META.items() if t is int)}
_TEXT_COLUMNS = {"name", "account", "guid", *(k for k, t in TYPED_META.items() if t is str)}
_TYPE_SETS = {
    "all": {DIDType.FILE, DIDType.DATASET, DIDType.CONTAINER},
    "collection": {DIDType.DATASET, DIDType.CONTAINER},
    "dataset": {DIDType.DATASET}, "container": {DIDType.CONTAINER}, "file": {DIDType.FILE},
}


def types_for(did_type: str) -> set[DIDType]:
    try:
        return _TYPE_SETS[did_type.lower()]
    except KeyError:
        raise InvalidFilter(f"DID type {did_type!r} must be one of {', '.join(_TYPE_SETS)}") from None


def _compare(column: Any, op: str, value: Any) -> sa.ColumnElement[bool]:
    return getattr(column, _CMP[op])(value)  # type: ignore[no-any-return]


def _condition(c: Condition) -> sa.ColumnElement[bool] | None:
    if c.key == "type":
        if c.op not in ("eq", "ne"):
            raise InvalidFilter(f"filter {c}: type takes = or !=")
        clause = DID.did_type.in_(types_for(c.value))
        return clause if c.op == "eq" else sa.not_(clause)
    if c.key in ("created_before", "created_after", "created_at"):
        try:
            when = datetime.fromisoformat(c.value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidFilter(f"filter {c}: {c.value!r} is not an ISO date") from None
        op = {"created_before": "lt", "created_after": "gt"}.get(c.key, c.op)
        return _compare(DID.created_at, op, when)
    if c.key in _INT_COLUMNS:
        try:
            number = int(c.value)
        except ValueError:
            raise InvalidFilter(f"filter {c}: {c.key} takes an integer") from None
        return _compare(getattr(DID, c.key), c.op, number)
    if c.key in _TEXT_COLUMNS:
        column = getattr(DID, c.key)
        if c.has_wildcard:
            if c.op not in ("eq", "ne"):
                raise InvalidFilter(f"filter {c}: wildcards take = or !=")
            if c.key == "name" and c.value == "*":  # every name: no condition (or none at all)
                return None if c.op == "eq" else sa.false()
            like = column.like(wildcard_to_like(c.value), escape="\\")
            return like if c.op == "eq" else sa.not_(like)
        return _compare(column, c.op, c.value)
    # Free-form JSON metadata: compare numbers as numbers, the rest as text.
    element = DID.meta[c.key]
    try:
        number = float(c.value)
    except ValueError:
        number = None
    if number is not None and c.op not in ("eq", "ne"):
        return _compare(element.as_float(), c.op, number)
    if c.has_wildcard:
        like = element.as_string().like(wildcard_to_like(c.value), escape="\\")
        return like if c.op == "eq" else sa.not_(like)
    if number is not None:
        return sa.or_(_compare(element.as_string(), c.op, c.value), _compare(element.as_float(), c.op, number)) \
            if c.op == "eq" else sa.and_(_compare(element.as_float(), c.op, number))
    if c.value.lower() in ("true", "false"):
        return _compare(element.as_boolean(), c.op, c.value.lower() == "true")
    return _compare(element.as_string(), c.op, c.value)


def compile_filter(groups: Filter) -> sa.ColumnElement[bool]:
    """OR of ANDs as one WHERE clause."""
    ors = []
    for conds in groups:
        parts = [p for p in (_condition(c) for c in conds) if p is not None]
        ors.append(sa.and_(sa.true(), *parts))
    return sa.or_(*ors) if ors else sa.true()


def search(session: Session, scope: str, groups: Filter, *, did_type: str = "collection",
           limit: int | None = None, long: bool = False) -> Iterator[Any]:
    """Names (or, with `long`, dicts) of the DIDs in `scope` matching the filter."""
    types = types_for(did_type)
    has_type = any(c.key == "type" for g in groups for c in g)
    query = sa.select(DID.scope, DID.name, DID.did_type, DID.bytes, DID.length).where(DID.scope == scope)
    if not has_type:
        query = query.where(DID.did_type.in_(types))
    query = query.where(compile_filter(groups)).order_by(DID.name)
    if limit:
        query = query.limit(limit)
    for s, n, t, b, length in session.execute(query.execution_options(yield_per=10000)):
        if long:
            yield {"scope": s, "name": n, "did_type": t.value, "bytes": b, "length": length}
        else:
            yield n
