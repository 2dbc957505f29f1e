"""Turning what users send (JSON objects, lists of them, DIRAC JDL) into job descriptions."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from onegrid.errors import InvalidInput
from onegrid.wms.jdl import expand_parametric, parse_jdl
from onegrid.wms.models import JobDescription

_ALIASES = {f.alias: name for name, f in JobDescription.model_fields.items() if f.alias}


def describe_error(exc: ValidationError, index: int | None) -> str:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    attr = loc[0] if loc else "description"
    where = f"job {index}: " if index is not None else ""
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown attribute"
    return f"{where}{attr}: {msg}"


def descriptions_from(body: Any, *, limit: int) -> list[JobDescription]:
    """Every job of a submission: a JDL text, one object, or a list (bulk); each may be
    parametric. Errors name the job's index and the attribute."""
    if isinstance(body, str):
        items: list[Any] = [parse_jdl(body)]
    elif isinstance(body, dict):
        items = [body]
    elif isinstance(body, list):
        items = body
    else:
        raise InvalidInput("a submission is a JDL text, a JSON object or a list of them")
    expanded: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            item = parse_jdl(item)
        if not isinstance(item, dict):
            raise InvalidInput(f"job {i}: must be an object or a JDL text")
        if set(item) == {"JDL"} and isinstance(item["JDL"], str):
            item = parse_jdl(item["JDL"])
        for one in expand_parametric(item, limit=limit):
            expanded.append((i, one))
        if len(expanded) > limit:
            raise InvalidInput(f"more than {limit} jobs in one submission")
    out = []
    single = len(items) == 1
    for i, attrs in expanded:
        try:
            out.append(JobDescription.model_validate(attrs))
        except ValidationError as exc:
            raise InvalidInput(describe_error(exc, None if single else i)) from exc
    return out
