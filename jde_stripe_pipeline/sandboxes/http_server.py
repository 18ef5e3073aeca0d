"""A small real HTTP/1.1 server on loopback, shared by both sandboxes.

Each sandbox is a pure-ish function `HttpRequest -> HttpResponse | DROP_CONNECTION`; this module owns
the sockets, the threads and the keep-alive, so the sandboxes stay about the protocol they imitate.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes
    client_ip: str

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass
class HttpResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return cls(
            status,
            json.dumps(payload, default=str).encode("utf-8"),
            {"Content-Type": "application/json", **(headers or {})},
        )


class DropConnection:
    """Sentinel: close the socket without answering (a dropped connection, as a flaky network does)."""


DROP_CONNECTION: Final = DropConnection()

Handler = Callable[[HttpRequest], HttpResponse | DropConnection]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before its answer (a timeout, a killed run) is no server error."""
        if isinstance(sys.exc_info()[1], BrokenPipeError | ConnectionResetError):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    """Serves a handler on `host:port` (port 0 picks a free one) in a background thread or the foreground."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0, name: str = "sandbox"):
        self._handler = handler
        self._name = name
        self._httpd = _Server((host, port), _make_request_handler(handler, name))
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self._name, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _make_request_handler(handler: Handler, name: str) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: 40 ms delayed-ACK stalls
        server_version = name

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s: " + format, name, *args)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:  # the client went away mid-send: a real server never sees a request
                self.close_connection = True
                return
            parts = urlsplit(self.path)
            request = HttpRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                client_ip=self.client_address[0],
            )
            try:
                response = handler(request)
            except Exception:
                log.exception("%s: unhandled error on %s %s", name, self.command, parts.path)
                response = HttpResponse.of_json(500, {"message": "internal sandbox error"})
            if isinstance(response, DropConnection):
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _handle

    return RequestHandler
