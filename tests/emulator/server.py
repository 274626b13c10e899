"""HTTP plumbing of the emulator: stdlib ``ThreadingHTTPServer`` + handler.

The handler does no API logic itself; it parses the request, applies the
fault table and latency, asks the emulator for a :class:`Response`, records
the request and writes the reply (HTTP/1.1 keep-alive, ``Content-Length`` on
every reply that may carry a body, Nagle disabled).
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .faults import DROP_KINDS

if TYPE_CHECKING:  # pragma: no cover
    from .emulator import IBMQuantumEmulator

THREAD_PREFIX = "ibmq-emulator"

# Deliberately truncated JSON for the "malformed" fault.
MALFORMED_BODY = b'{"devices": [{"name": "ibm_'


@dataclass(frozen=True)
class RequestRecord:
    """One entry of the emulator's request log.

    ``path`` is normalised (a leading ``/experimental`` is removed, so the
    ``QISKIT_IBM_URL=.../experimental/api/v1`` recipe and the ``url_resolver``
    recipe log the same paths); ``raw_path`` is what was on the wire.
    ``query`` is the raw query string with any value equal to the API key, and
    any ``apikey``/``token`` parameter, replaced by ``***``.  ``status`` is
    None when the connection was dropped without a reply (refuse/reset, or a
    stall interrupted by ``stop()``).  No header value is stored except the
    ``Service-CRN`` (not a secret); for ``Authorization`` only its presence and
    scheme (``bearer``/``apikey``/...) are kept.
    """

    method: str
    path: str
    raw_path: str
    query: str
    status: int | None
    timestamp: float
    duration: float
    has_auth: bool
    auth_scheme: str | None
    service_crn: str | None
    fault: int | str | None = None


@dataclass
class Request:
    method: str
    path: str
    raw_path: str
    query: dict[str, str]
    headers: Any
    body: bytes
    raw_query: str = ""

    def query_list(self, key: str) -> list[str]:
        """Every value of a repeated query parameter (``tags=a&tags=b``)."""
        return [v for k, v in parse_qsl(self.raw_query, keep_blank_values=True) if k == key]

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(payload).encode(), dict(headers or {}))


def normalise_path(raw_path: str) -> str:
    path = raw_path or "/"
    if path.startswith("/experimental/"):
        path = path[len("/experimental") :]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def scrub_query(query: str, secret: str) -> str:
    if not query:
        return ""
    pairs = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key.lower() in {"apikey", "api_key", "token", "access_token"} and value:
            value = "***"
        elif secret and secret in value:
            value = value.replace(secret, "***")
        pairs.append((key, value))
    return urlencode(pairs)


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Threading server that tracks its connection threads so ``stop()`` can end them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True  # lets stop()/start() rebind the same port
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: IBMQuantumEmulator) -> None:
        self.emulator = emulator
        self._conn_lock = threading.Lock()
        self._conns: dict[threading.Thread, socket.socket] = {}
        self._abort: set[int] = set()
        super().__init__(address, EmulatorRequestHandler)

    # -- connection threads -------------------------------------------------
    def process_request(self, request: socket.socket, client_address: Any) -> None:  # type: ignore[override]
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"{THREAD_PREFIX}-conn-{self.server_address[1]}",
            daemon=True,
        )
        with self._conn_lock:
            self._conns[thread] = request
        thread.start()

    def _serve_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._conn_lock:
                self._conns.pop(threading.current_thread(), None)

    def mark_abort(self, request: socket.socket) -> None:
        """Close this connection with RST instead of FIN."""
        try:
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        with self._conn_lock:
            self._abort.add(id(request))

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._conn_lock:
            abort = id(request) in self._abort
            self._abort.discard(id(request))
        if abort:
            self.close_request(request)  # no SHUT_WR first: the peer sees a bare RST
        else:
            super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)) or self.emulator._stopping.is_set():
            return
        self.emulator._errors.append(traceback.format_exc())

    def abort_connections(self) -> None:
        with self._conn_lock:
            socks = list(self._conns.values())
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_connections(self, timeout: float) -> list[threading.Thread]:
        deadline = time.monotonic() + timeout
        with self._conn_lock:
            threads = list(self._conns)
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        return [t for t in threads if t.is_alive()]


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "ibm-quantum-emulator"
    sys_version = ""
    timeout = None  # idle keep-alive connections are ended by stop() via shutdown()
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        # Never write access logs: nothing the emulator prints may carry a secret.
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- internals ------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        started = time.monotonic()
        stamp = time.time()
        split = urlsplit(self.path)
        raw_path = split.path or "/"
        path = normalise_path(raw_path)
        auth = self.headers.get("Authorization")
        scheme = auth.split(" ", 1)[0].lower() if auth else None
        crn = self.headers.get("Service-CRN")

        def record(status: int | None, fault: int | str | None) -> None:
            emu._record(
                RequestRecord(
                    method=method,
                    path=path,
                    raw_path=raw_path,
                    query=scrub_query(split.query, emu.api_key),
                    status=status,
                    timestamp=stamp,
                    duration=time.monotonic() - started,
                    has_auth=bool(auth),
                    auth_scheme=scheme,
                    service_crn=crn,
                    fault=fault,
                )
            )

        try:
            body = self._read_body()
        except (ValueError, OSError):
            record(None, None)
            self.close_connection = True
            return
        request = Request(
            method=method,
            path=path,
            raw_path=raw_path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
            raw_query=split.query,
        )

        fault = emu._faults.take(method, path)
        kind = fault.kind if fault is not None else None

        if kind == "stall" and emu._stopping.wait(fault.seconds):
            record(None, kind)
            self.close_connection = True
            return
        latency = emu.latency
        if latency and latency > 0 and emu._stopping.wait(latency):
            record(None, kind)
            self.close_connection = True
            return
        if kind in DROP_KINDS:
            record(None, kind)
            if kind == "reset":
                self.server.mark_abort(self.connection)
            self.close_connection = True
            return

        try:
            if isinstance(kind, int):
                response = emu._fault_response(request, fault)
            elif kind == "malformed":
                response = Response(200, MALFORMED_BODY)
            else:
                response = emu._route(request, empty=(kind == "empty"))
        except Exception:
            emu._errors.append(traceback.format_exc())
            response = emu._error(500, "Internal error in the emulator.")
        record(response.status, kind)
        self._send(response)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            no_body = response.status == 204 or response.status == 304 or response.status < 200
            if not no_body:
                self.send_header("Content-Type", response.content_type)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if not no_body:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if response.body and not no_body:
                self.wfile.write(response.body)
        except (ConnectionError, OSError):
            self.close_connection = True
