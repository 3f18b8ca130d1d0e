"""A local chat webhook for tests: a real HTTP server on 127.0.0.1 that keeps the payloads
it receives and answers with the statuses a test asks for (never the internet)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET_PATH = "/services/T000/B000/s3cr3t-token"


@dataclass
class Hook:
    """A local webhook: answers with ``statuses`` in turn (then 200) and keeps the payloads."""

    url: str
    statuses: list[int]
    payloads: list[dict[str, Any]] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    stall: bool = False


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook("", [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.stall:
                state.hold.wait(5)
                return
            state.payloads.append(json.loads(body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"server error")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.hold.set()
    server.shutdown()
    server.server_close()
