"""The routes' errors: JSON ``{"message": one sentence, "code": ...}`` with the right HTTP status.

The connector's errors carry a ``code``; the status says whose fault it is:

==========================================  ======  ==========================================
error                                       status  why
==========================================  ======  ==========================================
UnknownBackend, NoBackendAvailable, JobNot…   404     no such QPU or job
JobNotCancellable                            409     the job already finished
PlanMismatchError                            409     the configuration disagrees with IBM
ConfigError                                  500     the server's own configuration is unusable
Unauthorized, ServerError, BadResponse, ...  502     IBM answered, but not usefully
RateLimited, Unreachable                     503     IBM cannot be asked now (``Retry-After``)
JobStoreBusy                                 503     the local job store is busy (``Retry-After``)
DeadlineExceeded                             504     IBM did not answer in time
==========================================  ======  ==========================================

IBM's own 401/403 become 502: a 401/403 from *this* server means the browser is not logged in to Jupyter.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tornado import web

from ..errors import (
    ConnectorError,
    DeadlineExceeded,
    NoBackendAvailable,
    PlanMismatchError,
    RateLimited,
    UnknownBackend,
    Unreachable,
    UpstreamError,
)
from .backoff import RETRY_AFTER_CAP

#: The ``Retry-After`` of a busy local job store: another process holds its write lock (a write takes milliseconds;
#: one held for the store's whole wait is a hung process, which a retry a second later may find gone).
BUSY_STORE_RETRY_SECONDS = 1

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")

#: Messages for the errors tornado and jupyter_server raise themselves (no connector error behind them).
HTTP_DEFAULTS = {
    400: ("bad_request", "The request is not valid."),
    403: ("forbidden", "The request is not authenticated; log in to Jupyter or send its token."),
    404: ("not_found", "There is no such qiskit-connector-lab route."),
    405: ("method_not_allowed", "This route does not accept that method."),
    413: ("too_large", "The request body is too large."),
}


def first_sentence(text: str) -> str:
    """The first sentence of a (one-line) message."""
    text = " ".join(str(text).split())
    return _SENTENCE_END.split(text, maxsplit=1)[0] if text else text


def rest_of(text: str) -> str:
    text = " ".join(str(text).split())
    parts = _SENTENCE_END.split(text, maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


#: The errors only a change of the configuration (.env, environment, account) can end: the answer carries
#: ``config`` (see ``upstream.config_info``), so the sidebar retries when the .env changes.
CONFIG_ERROR_CODES = frozenset({"config_error", "plan_mismatch", "unauthorized"})


class ApiError(web.HTTPError):
    """An error a route answers with. ``message`` is one sentence; ``hint`` (optional) says what to do."""

    def __init__(
        self, status: int, code: str, message: str, *, hint: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.code = code
        self.message = message
        self.hint = hint
        self.headers = headers or {}
        self.extra: dict[str, Any] = {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.hint:
            body["hint"] = self.hint
        body.update(self.extra)
        return body


def status_for(error: ConnectorError) -> int:
    from ..jobs.from_ibm import UnreadableJob
    from ..jobs.local_store import JobStoreBusy
    from ..jobs.records import JobNotCancellable, JobNotFound

    if isinstance(error, UnreadableJob):
        return 502  # IBM answered, with a job this server cannot read: a bad gateway, not the server's own fault
    if isinstance(error, (UnknownBackend, NoBackendAvailable, JobNotFound)):
        return 404
    if isinstance(error, JobNotCancellable):
        return 409
    if isinstance(error, PlanMismatchError):
        return 409
    if isinstance(error, (RateLimited, Unreachable, JobStoreBusy)):
        return 503
    if isinstance(error, DeadlineExceeded):
        return 504
    if isinstance(error, UpstreamError):
        return 502
    return 500  # ConfigError (the server's own configuration) and anything else of the server's


def api_error(error: ConnectorError, *, retry_after: float | None = None) -> ApiError:
    """The route's answer for a connector error (``retry_after``: seconds until the server asks IBM again).

    The ``Retry-After`` header and the hint say the same number of seconds. The server waits at most
    :data:`~.backoff.RETRY_AFTER_CAP` (one hour) however long IBM asks for, and the hint says so.
    """
    from ..jobs.local_store import JobStoreBusy

    status = status_for(error)
    headers = {}
    wait = BUSY_STORE_RETRY_SECONDS if isinstance(error, JobStoreBusy) else retry_after  # not IBM's backoff
    if isinstance(error, RateLimited) and error.retry_after and not wait:
        wait = error.retry_after
    if wait:
        wait = min(wait, RETRY_AFTER_CAP)
    hint = rest_of(error.message)
    if wait and status in (502, 503, 504):
        seconds = max(1, math.ceil(wait))
        headers["Retry-After"] = str(seconds)
        if isinstance(error, RateLimited):
            asked = error.retry_after
            hint = f"Retry after {seconds} s."
            if asked and asked > RETRY_AFTER_CAP:
                hint += (
                    f" IBM asked for {asked:g} s; this server asks IBM again after at most "
                    f"{RETRY_AFTER_CAP:g} s (one hour)."
                )
    return ApiError(status, error.code, first_sentence(error.message), hint=hint, headers=headers)


def error_body(
    handler: web.RequestHandler, status_code: int, error: BaseException | None, failed: str
) -> dict[str, Any]:
    """The JSON body of an error answer, and its headers set on ``handler``: an :class:`ApiError` as it says, else
    tornado's default for the status, with ``failed`` (one sentence, no traceback) for a 5xx."""
    if isinstance(error, ApiError):
        for header, value in error.headers.items():
            handler.set_header(header, value)
        return error.body()
    code, message = HTTP_DEFAULTS.get(status_code, ("internal_error", ""))
    if status_code >= 500 or not message:
        code = "internal_error" if status_code >= 500 else f"http_{status_code}"
        message = failed
    return {"message": message, "code": code}


def finish_rendered(handler: web.RequestHandler, rendered: Any, age: float) -> None:
    """Answer a rendered listing (:class:`~.shared_upstream.RenderedListing`): gzipped when the client takes it."""
    handler.set_header("Content-Type", "application/json")
    handler.set_header("Vary", "Accept-Encoding")
    if "gzip" in handler.request.headers.get("Accept-Encoding", ""):
        handler.set_header("Content-Encoding", "gzip")
        handler.finish(rendered.gzipped(age))
    else:
        handler.finish(rendered.body(age))
