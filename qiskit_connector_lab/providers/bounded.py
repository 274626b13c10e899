"""Bounded calls to IBM Quantum: a deadline on every blocking client call, bounded HTTP, clear errors.

Three layers keep a notebook or a server from hanging on IBM:

* :func:`call_with_deadline` runs a blocking client call in a daemon worker thread and gives up after the
  deadline, raising :class:`DeadlineExceeded` (the caller is never held longer).
* :func:`install_bounded_http` makes the HTTP sessions the IBM client creates *inside our worker threads* use a
  read timeout and a short urllib3 ``Retry`` (the client's default has no read timeout, retries a 5xx five times
  and honours a ``Retry-After`` of up to six hours). Those sessions belong to the service the connector builds, so
  the jobs later sent through its backend and session keep these bounds; services the user builds are untouched.
* :func:`classify` turns whatever the client raised into one of our one-line errors, with the token redacted.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TextIO, TypeVar

from ..errors import (
    BadResponse,
    ConfigError,
    ConnectorError,
    DeadlineExceeded,
    RateLimited,
    ServerError,
    Unauthorized,
    UnknownBackend,
    Unreachable,
    UpstreamError,
)
from ..secret import redact

T = TypeVar("T")

_policy = threading.local()


def call_with_deadline(
    fn: Callable[[], T],
    *,
    what: str,
    seconds: float,
    secrets: tuple[Any, ...] = (),
    on_late_result: Callable[[T], Any] | None = None,
    notes: list[str] | None = None,
) -> T:
    """Run ``fn()`` in a worker thread; return its result, or raise within ``seconds``.

    Errors from ``fn`` are translated by :func:`classify`. The worker's HTTP sessions get a read timeout of
    ``seconds`` too, so an abandoned worker also ends soon after the deadline instead of leaking. If the caller
    gave up and the worker still produces a result, ``on_late_result`` receives it (e.g. to close a Session
    nobody will use). The IBM client's own warnings and log warnings during the call are never printed: they
    are folded, one redacted line each, into ``notes`` (if given).
    """
    future: Future[T] = Future()
    handoff = threading.Lock()  # the caller gives up, or the worker delivers: exactly one of the two happens first
    abandoned = False
    captured: list[str] = []

    def worker() -> None:
        _policy.seconds = seconds
        _policy.captured = captured
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, never swallowed
            future.set_exception(exc)
            return
        finally:
            _policy.seconds = None
            _policy.captured = None
        with handoff:
            late = abandoned
            future.set_result(result)
        if late and on_late_result is not None:
            try:
                on_late_result(result)
            except Exception:  # noqa: BLE001, S110 - best effort: the caller already reported the deadline
                pass

    thread = threading.Thread(target=worker, name=f"qconnector: {what}", daemon=True)
    thread.start()
    try:
        result = future.result(timeout=seconds)
        if notes is not None:
            notes.extend(dict.fromkeys(redact(line, secrets) for line in captured))
        return result
    except ConnectorError:
        raise
    except TimeoutError:  # what Future.result(timeout=...) raises
        with handoff:
            finished = future.done()
            abandoned = not finished  # the worker reads it (a closure cell) when it delivers
        if not finished:
            raise DeadlineExceeded(what, seconds) from None
        if future.exception() is None:  # delivered just as the deadline passed: still the caller's
            return future.result()
        raise classify(future.exception(), what=what, seconds=seconds, secrets=secrets) from None  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - every client failure becomes one classified line
        raise classify(exc, what=what, seconds=seconds, secrets=secrets) from None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_of(exc: BaseException) -> int | None:
    for link in _chain(exc):
        code = getattr(link, "status_code", None)
        if isinstance(code, int) and code > 0:
            return code
        code = getattr(link, "code", None)  # ibm_cloud_sdk_core.ApiException
        if isinstance(code, int) and 100 <= code < 600:
            return code
        response = getattr(link, "response", None)
        code = getattr(response, "status_code", None)
        if isinstance(code, int):
            return code
    return None


def _retry_after(exc: BaseException) -> float | None:
    for link in _chain(exc):
        response = getattr(link, "response", None)
        if response is None:  # not `or`: a requests.Response for a 4xx/5xx is falsy
            response = getattr(link, "http_response", None)
        headers = getattr(response, "headers", None)
        if headers:
            value = headers.get("Retry-After")
            if value:
                try:
                    return float(value)
                except ValueError:
                    return None
    return None


def _client_error_types() -> dict[str, tuple[type[BaseException], ...]]:
    """The exception classes of the IBM client and its HTTP stack, by what they mean (imported on first use)."""
    import json

    import requests
    import urllib3.exceptions as u3
    from qiskit.providers.exceptions import QiskitBackendNotFoundError
    from qiskit_ibm_runtime.accounts.exceptions import InvalidAccountError
    from qiskit_ibm_runtime.exceptions import IBMNotAuthorizedError

    return {
        "read_timeout": (requests.ReadTimeout, u3.ReadTimeoutError),
        "unauthorized": (IBMNotAuthorizedError,),
        "invalid_account": (InvalidAccountError,),
        "retries_exhausted": (requests.exceptions.RetryError,),
        "unreachable": (
            requests.ConnectionError,
            u3.NewConnectionError,
            u3.ConnectTimeoutError,
            u3.MaxRetryError,
            u3.ProtocolError,
            requests.exceptions.ChunkedEncodingError,
            ConnectionError,
        ),
        "backend_not_found": (QiskitBackendNotFoundError,),
        "unreadable": (json.JSONDecodeError, requests.exceptions.JSONDecodeError),
    }


def _is(exc: BaseException, kinds: dict[str, tuple[type[BaseException], ...]], kind: str) -> bool:
    return any(isinstance(link, kinds[kind]) for link in _chain(exc))


def classify(exc: BaseException, *, what: str, seconds: float = 0.0, secrets: tuple[Any, ...] = ()) -> ConnectorError:
    """Translate an exception from the IBM client (or the network) into a one-line ConnectorError.

    Decided by the exception's type (qiskit-ibm-runtime's, requests' and urllib3's classes, anywhere in the chain
    of causes) and its HTTP status, never by the wording of a class name.
    """
    if isinstance(exc, ConnectorError):
        return exc
    kinds = _client_error_types()
    text = " ".join(str(link) for link in _chain(exc))
    status = _status_of(exc)

    if _is(exc, kinds, "read_timeout"):
        return DeadlineExceeded(what, seconds or getattr(_policy, "seconds", None) or 0)
    if status == 401 or _is(exc, kinds, "unauthorized"):
        return Unauthorized(
            f"IBM Quantum rejected the API token while {what} (HTTP 401). "
            "Check IQP_API_TOKEN: create a new API key on IBM Quantum Platform if it was revoked."
        )
    if status in (400, 401, 403) and _is(exc, kinds, "invalid_account"):
        return Unauthorized(
            f"IBM Cloud did not accept the API key while {what} (HTTP {status}). "
            "Check IQP_API_TOKEN: it must be an IBM Quantum Platform API key."
        )
    if status == 403:
        return Unauthorized(
            f"IBM Quantum refused access while {what} (HTTP 403). "
            "Check that the API key can use this instance (OPEN_PLAN_INSTANCE / PAID_PLAN_INSTANCE)."
        )
    if status == 429:
        retry_after = _retry_after(exc)
        wait = f" Retry after {retry_after:g} s." if retry_after is not None else " Wait a minute and retry."
        return RateLimited(f"IBM Quantum is rate-limiting requests (HTTP 429) while {what}.{wait}", retry_after)
    if (status is not None and status >= 500) or _is(exc, kinds, "retries_exhausted"):
        code = f"HTTP {status}" if status else "repeated 5xx"
        return ServerError(
            f"IBM Quantum had a server error ({code}) while {what}. Check the IBM Quantum status page and retry later.",
            status,
        )
    if _is(exc, kinds, "unreachable"):
        return Unreachable(
            f"IBM Quantum could not be reached while {what} (connection failed). "
            "Check the network and any CLOUD_API_URL / IQP_RUNTIME_API_URL overrides, or use the offline local fleet "
            "(%qconnect --local, connect(local=True))."
        )
    if _is(exc, kinds, "invalid_account") and (
        "does not have access to the instance" in text or "is not a valid instance" in text
    ):
        return ConfigError(
            "instance",
            "is not an instance this API key can use.",
            "Check OPEN_PLAN_INSTANCE / PAID_PLAN_INSTANCE against IBM Quantum Platform → Instances.",
        )
    if _is(exc, kinds, "backend_not_found") or (status == 404 and "/backends/" in text):
        return UnknownBackend(
            f"IBM Quantum no longer lists that QPU for this instance ({what}). "
            "Pick another one, or connect without a name for the least busy."
        )
    if _is(exc, kinds, "unreadable"):
        return BadResponse(f"IBM Quantum sent a reply that could not be read while {what}. Retry later.")
    if isinstance(exc, (KeyError, TypeError, AttributeError, IndexError)):
        # The client tripped over data it could not read (a field missing or of the wrong type in IBM's reply).
        return BadResponse(
            f"IBM Quantum sent data that could not be read while {what} ({type(exc).__name__}). "
            "Retry later; if it persists, check the IBM Quantum status page."
        )
    if status is not None and 400 <= status < 500:
        detail = redact(str(exc), secrets).split("\n")[0][:200]
        return UpstreamError(f"IBM Quantum refused the request while {what} (HTTP {status}): {detail}")
    detail = redact(str(exc), secrets).split("\n")[0][:200]
    return UpstreamError(f"Talking to IBM Quantum failed while {what}: {type(exc).__name__}: {detail}")


# --- the client's own warnings, folded instead of printed ----------------------------------------------------

_CLIENT_LOGGERS = ("qiskit_ibm_runtime", "ibm_cloud_sdk_core")


def _captured_here() -> list[str] | None:
    return getattr(_policy, "captured", None)


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 200 else line[:197] + "..."


class _CaptureFilter(logging.Filter):
    """In a deadline worker, a client log record of WARNING or above is kept as a note instead of printed."""

    def filter(self, record: logging.LogRecord) -> bool:
        captured = _captured_here()
        if captured is None or record.levelno < logging.WARNING:
            return True
        if not getattr(record, "_qconnector_captured", False):
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a record whose arguments do not fit its format: keep the format
                message = str(record.msg)
            captured.append(_one_line(message))
            record._qconnector_captured = True
        return False


_capture_filter = _CaptureFilter()
_shown_before: list[Callable[..., None]] = [warnings.showwarning]  # what printed warnings before us


def _showwarning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    captured = _captured_here()
    if captured is None:
        _shown_before[-1](message, category, filename, lineno, file, line)
    else:
        captured.append(_one_line(str(message)))


def capture_client_warnings() -> None:
    """Fold the IBM client's warnings raised inside deadline workers (idempotent; other threads are untouched)."""
    if warnings.showwarning is not _showwarning:
        _shown_before.append(warnings.showwarning)
        warnings.showwarning = _showwarning
    manager = logging.Logger.manager
    names = [n for n in list(manager.loggerDict) if n.split(".")[0] in _CLIENT_LOGGERS] + list(_CLIENT_LOGGERS)
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    for name in names:
        logger = logging.getLogger(name)
        targets.append(logger)
        targets.extend(logger.handlers)
    for target in targets:
        if _capture_filter not in target.filters:
            target.addFilter(_capture_filter)


# --- bounded HTTP for the IBM client's sessions -------------------------------------------------------------


def _bounded_adapter(seconds: float) -> Any:
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class BoundedAdapter(HTTPAdapter):
        """An adapter whose requests always have a read timeout, and whose retries end well inside it."""

        def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
            connect = min(5.0, seconds)
            if timeout is None:
                timeout = (connect, seconds)
            elif isinstance(timeout, tuple):
                timeout = (timeout[0] or connect, min(timeout[1], seconds) if timeout[1] else seconds)
            else:
                timeout = min(float(timeout), seconds)
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)

    retry = Retry(
        total=2,
        connect=1,
        read=0,  # a read timeout is the deadline: never wait for it twice
        backoff_factor=0.2,
        status_forcelist=(500, 502, 503, 504, 520, 521, 522, 524),
        allowed_methods=None,  # the IBM client retries POSTs on these statuses too
        respect_retry_after_header=False,  # a 429 is reported with its Retry-After, not slept on
        raise_on_status=False,  # after the last retry, hand back the real reply, so the error names its status
    )
    return BoundedAdapter(max_retries=retry)


def _adapter_for_this_thread() -> Any | None:
    seconds = getattr(_policy, "seconds", None)
    return None if seconds is None else _bounded_adapter(seconds)


def install_bounded_http() -> None:
    """Make the client's HTTP sessions created inside a deadline worker use :func:`_bounded_adapter` (idempotent)."""
    from . import runtime_internals

    runtime_internals.install_session_hook(_adapter_for_this_thread)
