"""The little of HTTP the endpoint needs on raw ASGI: a request view, responses, errors.

Raw ASGI rather than a framework because the data path (PUT and GET bodies, TPC) is the
product: every layer between uvicorn's receive/send and the disk costs throughput.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from onegrid.errors import OneGridError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class HttpError(OneGridError):
    """An HTTP status the OneGrid hierarchy has no class for (405, 412, 416, 507, ...)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.error_code = code
        self.headers = headers or {}

    def to_json(self) -> dict[str, str]:
        return {"error": self.error_code, "message": self.message}


@dataclass
class Request:
    scope: Scope
    receive: Receive
    send: Send

    def __post_init__(self) -> None:
        self.headers: dict[str, str] = {}
        for k, v in self.scope["headers"]:
            name = k.decode("latin-1").lower()
            value = v.decode("latin-1")
            self.headers[name] = f"{self.headers[name]},{value}" if name in self.headers else value

    @property
    def method(self) -> str:
        return str(self.scope["method"]).upper()

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_length(self) -> int | None:
        raw = self.header("content-length")
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError as exc:
            raise HttpError(400, "INVALID_INPUT", f"bad Content-Length {raw!r}") from exc
        if value < 0:
            raise HttpError(400, "INVALID_INPUT", f"bad Content-Length {raw!r}")
        return value

    async def drain(self) -> None:
        """Read and drop a request body (so keep-alive connections stay usable)."""
        more = True
        while more:
            msg = await self.receive()
            if msg["type"] == "http.disconnect":
                return
            more = msg.get("more_body", False)


def encode_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]


async def start(send: Send, status: int, headers: dict[str, str]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": encode_headers(headers)})


async def respond(send: Send, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                  *, head: bool = False) -> None:
    hdrs = {"content-length": str(len(body)), **(headers or {})}
    await start(send, status, hdrs)
    await send({"type": "http.response.body", "body": b"" if head else body})


async def respond_json(send: Send, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(value, separators=(",", ":")).encode()
    await respond(send, status, body, {"content-type": "application/json", **(headers or {})})


def error_status(exc: OneGridError) -> int:
    return exc.http_status if isinstance(exc, HttpError) else exc.status


async def respond_error(send: Send, exc: OneGridError, *, head: bool = False) -> None:
    headers = dict(exc.headers) if isinstance(exc, HttpError) else {}
    if error_status(exc) == 401:
        headers.setdefault("www-authenticate", 'Bearer realm="onegrid-storage"')
    body = json.dumps(exc.to_json()).encode()
    await respond(send, error_status(exc), body, {"content-type": "application/json", **headers}, head=head)
