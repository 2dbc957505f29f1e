"""HTTP answers of a storage → `onegrid.errors` types, with the server's own message.

Storage servers answer errors in many shapes: our `{"error", "message"}`, RFC 7807
`{"title", "detail"}` (Tape REST API), HTML pages (nginx), plain text (xrootd, dCache).
The message keeps the method, the URL, the status and the server's words."""

from __future__ import annotations

import contextlib
import json
import re

import httpx

from onegrid.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OneGridError,
    QuotaExceeded,
    Unauthenticated,
    Unavailable,
)

_BY_STATUS: dict[int, type[OneGridError]] = {
    400: InvalidInput, 401: Unauthenticated, 403: Forbidden, 404: NotFound, 405: Conflict, 409: Conflict,
    410: NotFound, 412: AlreadyExists, 413: QuotaExceeded, 416: InvalidInput, 422: InvalidInput,
    423: Conflict, 507: QuotaExceeded,
}
_TAGS = re.compile(r"<[^>]+>")
MAX_MESSAGE = 300


def server_message(response: httpx.Response) -> str:
    """The server's own explanation, short: JSON fields if any, else the text sans HTML."""
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return response.reason_phrase
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "detail", "title", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])[:MAX_MESSAGE]
    plain = " ".join(_TAGS.sub(" ", text).split())
    return (plain or response.reason_phrase)[:MAX_MESSAGE]


def error_for(response: httpx.Response, what: str) -> OneGridError:
    """The error to raise for a failed `what` (e.g. "PUT https://…")."""
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = Unavailable if response.status_code >= 500 or response.status_code == 429 else OneGridError
    return cls(f"{what}: {response.status_code} {server_message(response)}")


def raise_for(response: httpx.Response, what: str) -> None:
    if response.is_error:
        # Already streamed: the message falls back to the reason phrase.
        with contextlib.suppress(httpx.StreamError):
            response.read()
        raise error_for(response, what)


def network_error(exc: httpx.HTTPError, what: str) -> Unavailable:
    """A connection refused, a reset, a timeout: the storage is unavailable (recoverable)."""
    return Unavailable(f"{what}: {type(exc).__name__}: {exc}")
