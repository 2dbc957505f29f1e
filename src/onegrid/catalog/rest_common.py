"""Helpers of the Rucio-compatible routes: request bodies the stock client sends without
a content type, JSON-stream answers, exact content types, who may write where."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from onegrid.catalog.tables import Scope
from onegrid.errors import Forbidden, InvalidInput
from onegrid.iam.deps import Principal
from onegrid.iam.tables import AccountType
from onegrid.runtime import Runtime

STREAM = "application/x-json-stream"


async def json_body(request: Request) -> Any:
    """The request's JSON (the stock client sends it without a Content-Type)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"request body is not JSON: {exc}") from None


def require(body: Any, key: str, kind: type | tuple[type, ...] = object) -> Any:
    if not isinstance(body, dict) or key not in body:
        raise InvalidInput(f"request body needs {key!r}")
    if not isinstance(body[key], kind):
        raise InvalidInput(f"{key!r} has the wrong type")
    return body[key]


def json_response(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, default=str), status_code=status, media_type="application/json")


def created(text: str = "Created") -> Response:
    return Response(text, status_code=201, media_type="text/plain")


def ok(text: str = "") -> Response:
    return Response(text, status_code=200, media_type="text/plain")


def stream(runtime: Runtime, produce: Callable[[Session], Iterable[Any]], *, media_type: str = STREAM,
           line: Callable[[Any], str] | None = None) -> StreamingResponse:
    """Stream `produce(session)` one JSON object per line (or, for another media type, the
    strings it yields) from a read-only session opened inside the generator (the
    request's own transaction is closed by the time the body is sent)."""

    def body() -> Iterator[bytes]:
        with runtime.reading() as session:
            batch: list[str] = []
            for item in produce(session):
                if line is not None:
                    batch.append(line(item))
                elif isinstance(item, str) and media_type != STREAM:
                    batch.append(item)
                else:
                    batch.append(json.dumps(item, default=str) + "\n")
                if len(batch) >= 500:
                    yield "".join(batch).encode()
                    batch = []
            if batch:
                yield "".join(batch).encode()

    # Produce the first batch now, so that a bad request (unknown DID, bad filter) is
    # answered with its error status rather than a broken stream.
    gen = body()
    try:
        first = next(gen)
    except StopIteration:
        first = b""

    def chained() -> Iterator[bytes]:
        yield first
        yield from gen

    return StreamingResponse(chained(), media_type=media_type)


def split_scope_name(scope_name: str) -> tuple[str, str]:
    """`scope/name` from a path (names may hold slashes, as Belle II's `/belle/...`)."""
    scope, sep, name = scope_name.partition("/")
    if not sep or not scope or not name:
        raise InvalidInput(f"expected scope/name in the path, got {scope_name!r}")
    return scope, name


def is_privileged(principal: Principal) -> bool:
    return principal.is_root or principal.account_type is AccountType.SERVICE


def require_scope_writer(session: Session, principal: Principal, scopes: Iterable[str]) -> None:
    """Only a scope's owner (or root, or a service account) writes DIDs in it."""
    if is_privileged(principal):
        return
    for scope in set(scopes):
        row = session.get(Scope, scope)
        if row is not None and row.account != principal.account:
            raise Forbidden(f"account {principal.account} may not write in scope {scope} (owned by {row.account})")
        if row is None and scope.startswith("user.") and scope != f"user.{principal.account}":
            # made on first use, but only by its user (or a service writing on the user's behalf)
            raise Forbidden(f"account {principal.account} may not write in scope {scope}")
