"""The FastAPI application: one app, every subsystem's router, one error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import onegrid
from onegrid.catalog.router import router as catalog_router
from onegrid.errors import OneGridError
from onegrid.iam.router import router as iam_router
from onegrid.monitor.router import router as monitor_router
from onegrid.runtime import Runtime
from onegrid.transfers.router import router as transfers_router
from onegrid.wms.router import router as wms_router

_STATUS_CODES = {400: "INVALID_INPUT", 401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE"}


def error_response(status: int, code: str, message: str, rucio_class: str | None = None) -> JSONResponse:
    headers = {}
    if rucio_class:
        # The stock Rucio client raises the exception named here.
        headers = {"ExceptionClass": rucio_class, "ExceptionMessage": message.encode("ascii", "replace").decode()}
    body: dict[str, Any] = {"error": code, "message": message}
    if rucio_class:
        body.update({"ExceptionClass": rucio_class, "ExceptionMessage": message})
    return JSONResponse(body, status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OneGridError)
    async def _onegrid_error(_request: Request, exc: OneGridError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.rucio_class)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, "INVALID_INPUT", _describe_validation(exc), "InvalidObject")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
        return error_response(exc.status_code, code, str(exc.detail))


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime.load_keys()
        yield

    app = FastAPI(title="OneGrid", version=onegrid.__version__, lifespan=lifespan)
    app.state.runtime = runtime
    install_error_handlers(app)

    @app.get("/health", tags=["server"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": onegrid.__version__}

    for router in (iam_router, catalog_router, transfers_router, wms_router, monitor_router):
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """The app of `onegrid server --workers N`: each worker process builds its own runtime
    from the settings (environment and `ONEGRID_CONFIG`)."""
    from onegrid.config import load_settings

    return create_app(Runtime.create(load_settings()))
