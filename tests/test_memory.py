"""MemoryError anywhere leaves the server serving: 503 when it can, or a clean close; the
connection slot always comes back."""

import json
import re
import socket
import threading
import time

import httpx
import pytest

from conftest import raw

pytestmark = [pytest.mark.integration, pytest.mark.listener]


@pytest.fixture
def oom(serve):
    return serve("oom")


def get(port, path):
    return raw(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")


def body(reply):
    return reply.partition(b"\r\n\r\n")[2]


def assert_recovered(port):
    assert body(get(port, "/")) == b"alive"
    slots = json.loads(body(get(port, "/slots")))
    assert slots["busy"] == 1  # just this request's connection
    assert slots["workers"] == 8  # every slot still has its worker


def test_memory_error_in_handler_answers_503(oom):
    reply = get(oom.port, "/handler")
    assert reply.startswith(b"HTTP/1.1 503")
    assert_recovered(oom.port)


@pytest.mark.parametrize("stage", ["parse", "write"])
def test_memory_error_while_serving_answers_503(oom, stage):
    # Raised before any byte of the response is written: the constant 503 goes out, then close.
    assert body(get(oom.port, f"/arm/{stage}/1")) == b"armed"
    reply = get(oom.port, "/")
    assert reply.startswith(b"HTTP/1.1 503 ") and b"Connection: close\r\n" in reply, reply
    assert_recovered(oom.port)


def test_memory_error_at_accept_keeps_accepting(oom):
    assert body(get(oom.port, "/arm/accept/3")) == b"armed"
    replies = [get(oom.port, "/") for _ in range(3)]
    assert all(r == b"" for r in replies)  # refused connections are closed at once
    assert_recovered(oom.port)


def test_memory_error_keep_alive_client_sees_503_then_reconnects(oom):
    with httpx.Client(base_url=oom.url, timeout=5) as client:
        assert client.get("/").text == "alive"
        assert client.get("/handler").status_code == 503
        assert client.get("/").text == "alive"
    assert_recovered(oom.port)


def test_slots_fitted_to_a_small_heap(serve):
    # The default App wants 8 slots of 1 KB; a 32 KB heap holds fewer, and serve() says so.
    app = serve("defaults", heapsize="32k", frozen=True)
    made = re.search(r"ember: heap for (\d+) of 8 connections", app.output())
    assert made, app.output()
    slots = int(made.group(1))
    assert 1 <= slots < 8
    assert json.loads(body(get(app.port, "/slots"))) == {"slots": slots, "busy": 1}
    # More clients than slots at once: the rest wait in the listen backlog, all are answered.
    replies = []
    threads = [
        threading.Thread(target=lambda: replies.append(body(get(app.port, "/"))))
        for _ in range(3 * slots)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert replies == [b"ok"] * (3 * slots), app.output()


def test_tiny_heap_under_load_keeps_serving(serve):
    # ESP8266-sized heap, 100 clients for 5 s (frozen ember, as on a device).
    app = serve("tiny", heapsize="24k", frozen=True)
    stop = time.monotonic() + 5
    answered = [0]
    wrong = []

    def hammer():
        while time.monotonic() < stop:
            reply = b""
            try:
                with socket.create_connection(("127.0.0.1", app.port), timeout=3) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while chunk := s.recv(1024):
                        reply += chunk
            except TimeoutError:  # still queued behind the two slots when this client gave up
                continue
            except OSError as e:
                wrong.append(repr(e))
                continue
            if reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"\r\n\r\nok"):
                answered[0] += 1
            elif reply and not reply.startswith(b"HTTP/1.1 503 "):
                wrong.append(reply[:80])  # neither whole, nor a 503, nor a clean close

    threads = [threading.Thread(target=hammer) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.alive(), app.output()
    # Every client got a whole 200, a 503, or (no memory to answer with) a clean close.
    assert wrong == []
    # Measured here: 540 answers in the 5 s (two slots, loaded machine). A server that wedges
    # (alive, answering nothing) stops far below this floor.
    assert answered[0] >= 100, answered[0]
    for _ in range(10):
        assert body(get(app.port, "/")) == b"ok"
