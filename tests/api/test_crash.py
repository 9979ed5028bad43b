"""An unexpected error answers a clean 500 problem and leaves the keep-alive connection usable:
behind a proxy's shared connection pool, the next request on it may be another member's."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from tests.e2e.server import free_port
from tuangou.api import errors


@pytest.fixture
def served() -> Iterator[int]:
    app = FastAPI()
    errors.install(app)

    @app.get("/api/crash")
    def crash() -> dict[str, str]:
        raise RuntimeError("the disk of /var/lib/secret is full")

    @app.get("/api/fine")
    def fine() -> dict[str, str]:
        return {"ok": "yes"}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.025)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def test_a_crash_answers_a_problem_and_keeps_the_connection(served: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    conn.request("GET", "/api/crash")
    reply = conn.getresponse()
    body = json.loads(reply.read())
    assert reply.status == 500
    assert reply.getheader("content-type") == "application/problem+json"
    assert body["code"] == "internal_error"
    assert "secret" not in json.dumps(body)  # nothing of the fault leaks out
    sock = conn.sock
    # The next request goes out on the same connection, and is answered.
    conn.request("GET", "/api/fine")
    reply = conn.getresponse()
    assert (reply.status, json.loads(reply.read())) == (200, {"ok": "yes"})
    assert conn.sock is sock
    conn.close()
