"""The one HTTP seam of the client: base URL, bearer token, errors back to exceptions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from onegrid.errors import OneGridError, error_for_code


class Transport:
    """Sends requests to a OneGrid server and raises the server's errors as ours."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 60,
                 http: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = http or httpx.Client(timeout=timeout)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        response = self.http.request(method, f"{self.url}{path}", headers=headers, **kwargs)
        raise_for_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def stream_lines(self, method: str, path: str, **kwargs: Any) -> Iterator[Any]:
        """Yield the objects of an `application/x-json-stream` answer, one per line."""
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        with self.http.stream(method, f"{self.url}{path}", headers=headers, **kwargs) as response:
            if response.is_error:
                response.read()
                raise_for_error(response)
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)

    def close(self) -> None:
        self.http.close()


def raise_for_error(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        body = response.json()
        code, message = body.get("error", ""), body.get("message") or response.text
    except (ValueError, AttributeError):
        code, message = "", response.text or response.reason_phrase
    cls = error_for_code(code) if code else OneGridError
    err = cls(message or f"HTTP {response.status_code}")
    raise err
