"""A small HTTP server on 127.0.0.1 for link-following tests, started by the test itself.

Routes map a path to ``(status, headers)`` or ``(status, headers, body)``; ``{port}`` in a header
value is replaced by the server's port. Every request is recorded (method, path, Host header) so
that a test can assert that nothing was (or was) fetched. ``head_status`` overrides the status of
HEAD requests for a path (e.g. 405 to force the GET fallback).

    with LinkServer({"/a": (302, {"Location": "/b"}), "/b": (200, {})}) as srv:
        url = srv.url("/a")
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = tuple[int, dict[str, str]] | tuple[int, dict[str, str], bytes]


class LinkServer:
    def __init__(self, routes: dict[str, Route], *, head_status: dict[str, int] | None = None):
        self.routes = routes
        self.head_status = head_status or {}
        self.requests: list[tuple[str, str, str, str]] = []  # method, path, Host, Cookie
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _reply(self, method: str) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append((method, self.path, self.headers.get("Host", ""), self.headers.get("Cookie", "")))
                route = server.routes.get(path)
                if route is None:
                    status, headers, body = 404, {}, b"not found"
                else:
                    status, headers = route[0], route[1]
                    body = route[2] if len(route) > 2 else b"ok"  # type: ignore[misc]
                if method == "HEAD" and path in server.head_status:
                    status, headers = server.head_status[path], {}
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v.replace("{port}", str(server.port)))
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Set-Cookie", "tracking=1; Path=/")
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self._reply("HEAD")

            def do_GET(self) -> None:
                self._reply("GET")

        return Handler

    def __enter__(self) -> LinkServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
