"""The base of every route handler (``routes`` and ``account_routes`` both build on it, so neither imports the
other): JSON answers, JSON errors with no traceback, no caching by the browser, a cross-origin refusal that says so.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..secret import redact
from .http_errors import ApiError, error_body
from .shared_upstream import SharedUpstream

#: The largest request body a route reads.
MAX_BODY_BYTES = 4096


class QConnectorHandler(APIHandler):
    """Base of every route: JSON answers, JSON errors with no traceback, no caching by the browser."""

    cache: SharedUpstream

    def initialize(self, cache: SharedUpstream) -> None:
        self.cache = cache

    async def prepare(self) -> None:  # type: ignore[override]  # as APIHandler.prepare
        try:
            await super().prepare()
        except web.HTTPError as error:
            # jupyter_server answers a request from a page of another origin with a bare 404; say what happened.
            if error.status_code == 404 and not self.check_origin():
                raise ApiError(
                    403,
                    "cross_origin",
                    f"The {self.request.method} was refused as cross-origin: it came from a page of another site.",
                    hint="Open JupyterLab from this server's own address, or allow the origin with "
                    "ServerApp.allow_origin.",
                ) from None
            raise

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")

    def json_body(self) -> Any:
        """The request's JSON body (None when empty): 413 beyond MAX_BODY_BYTES, 400 if it is not JSON."""
        body = self.request.body or b""
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, "too_large", f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else None
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
        return data

    def reply(self, data: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None, None))[1]
        body = error_body(
            self,
            status_code,
            error,
            "The qiskit-connector-lab server extension failed; the server log has the details.",
        )
        if (
            isinstance(error, web.HTTPError)
            and not isinstance(error, ApiError)
            and status_code == 403
            and "xsrf" in (error.log_message or "").lower()
            and getattr(self, "_jupyter_current_user", None) is not None
        ):
            # Logged in, but the XSRF token is missing: say so. Not logged in at all: the 403 default says that.
            body = {
                "message": f"The {self.request.method} carries no valid XSRF token, so it was refused.",
                "code": "xsrf_failed",
            }
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ApiError):
            self.log.debug(
                "qiskit-connector-lab: %s %s -> %d %s",
                self.request.method,
                self.request.path,
                value.status_code,
                value.code,
            )
        elif isinstance(value, web.HTTPError):
            super().log_exception(typ, value, tb)
        else:
            # The traceback goes to the log (redacted), never to the client; no request headers (cookies).
            self.log.error(
                "qiskit-connector-lab: %s %s failed:\n%s",
                self.request.method,
                self.request.path,
                redact("".join(traceback.format_exception(typ, value, tb))),
            )
