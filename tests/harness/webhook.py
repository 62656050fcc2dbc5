"""A local stand-in for a Slack webhook: an HTTP server on 127.0.0.1 (a random
port) that records every POST and answers it with a status, or never.

Used by the deploy_summary callback's webhook unit tests and by
tests/integration/test_summary_notify.py.
"""

from __future__ import annotations

import http.server
import json
import threading
import time


class Receiver:
    """Records each POST as {at, path, content_type, raw, json}; answers STATUS
    (a 3xx with a Location that answers GETs), or holds the connection open without
    an answer when STATUS is None. GETs are recorded in `gets`."""

    def __init__(self, status: int | None, path: str = "/services/T0/B0/hooktoken") -> None:
        self.status = status
        self.posts: list[dict] = []
        self.gets: list[str] = []
        self.stop = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.posts.append({
                    "at": time.monotonic(),
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "raw": body.decode(),
                    "json": json.loads(body),
                })  # fmt: skip
                if receiver.status is None:
                    receiver.stop.wait(120)  # hangs (bounded), holding the connection open
                    return
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:  # a redirect: to a page that answers a GET
                    self.send_header("Location", "/elsewhere")
                self.end_headers()
                self.wfile.write(b"ok" if receiver.status < 300 else b"error")

            def do_GET(self) -> None:
                receiver.gets.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self) -> list[dict]:
        """The JSON bodies received, in order."""
        return [p["json"] for p in self.posts]

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
