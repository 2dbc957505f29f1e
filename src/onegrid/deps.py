"""FastAPI dependencies shared by every router (`Annotated` aliases keep routes short)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.config import Settings
from onegrid.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it
    raises. Streaming routes must open their own (`runtime.reading()`) inside the stream,
    because this one is closed before the body is sent."""
    with runtime.transaction() as session:
        yield session


def get_clock(runtime: RuntimeDep) -> Clock:
    return runtime.clock


def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


# scope="function": committed before the response is sent (FastAPI's default for a yield
# dependency closes it after sending, so a client could act on a write not yet committed,
# or be told of success for a commit that then fails).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
