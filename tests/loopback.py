"""A loopback HTTP server for tests of code that talks to a remote endpoint: it records every POST (path, headers,
JSON body) and answers with whatever the test queued as (content type, bytes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    def __init__(self) -> None:
        self.replies: list[tuple[str, bytes]] = []
        # Answers by request path when nothing is queued (a page test's or browser test's many calls).
        self.route: Callable[[str, dict[str, Any]], tuple[str, bytes]] | None = None
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if owner.replies or owner.route is None:
                    content_type, payload = owner.replies.pop(0)
                else:
                    content_type, payload = owner.route(self.path, body)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def reply_json(self, payload: dict[str, Any]) -> None:
        self.replies.append(("application/json", json.dumps(payload).encode()))

    def close(self) -> None:
        self.httpd.shutdown()
