"""Server-Sent Events through real clients (httpx streaming, raw sockets), on every runtime."""

import json
import socket
import time

import httpx
import pytest

from conftest import assert_clean_keep_alive, raw, recv_all, stats, wait_for_stat

pytestmark = pytest.mark.integration


@pytest.fixture
def rt(serve):
    return serve("realtime")


def parse(lines):
    """Events as the EventSource algorithm (HTML §9.2.6) dispatches them: dicts with the fields
    set in that block; comments collected under ":"."""
    events, cur, data = [], {}, []
    for line in lines:
        if line == "":
            if data:
                cur["data"] = "\n".join(data)
            if cur:
                events.append(cur)
            cur, data = {}, []
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "":
            cur.setdefault(":", []).append(value)
        elif name == "data":
            data.append(value)
        else:
            cur[name] = value
    return events


def test_events_fields_and_headers(rt):
    r = httpx.get(rt.url + "/sse/ticks?n=3", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream"
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["transfer-encoding"] == "chunked"
    events = parse(r.text.split("\n"))
    assert events[0] == {"retry": "1500"}
    for i in (1, 2, 3):
        assert events[i] == {"event": "tick", "id": str(i), "data": json.dumps({"i": i})}
    assert events[4] == {"event": "multi", "data": "line one\nline two\nline three"}
    assert events[5] == {"data": "raw bytes"}
    assert events[6] == {":": ["just a comment"]}
    assert events[7] == {"event": "end", "data": "done"}
    assert len(events) == 8


def test_streamed_as_it_happens(rt):
    """Events arrive one by one while the handler runs (not buffered until it ends)."""
    with httpx.stream("GET", rt.url + "/sse/forever", timeout=10) as r:
        lines = r.iter_lines()
        got = []
        for line in lines:
            if line.startswith("data: "):
                got.append(int(line[6:]))
            if len(got) == 5:
                break
    assert got == [1, 2, 3, 4, 5]


def test_last_event_id(rt):
    r = httpx.get(rt.url + "/sse/resume", headers={"Last-Event-ID": "41"}, timeout=10)
    events = parse(r.text.split("\n"))
    assert [(e["id"], e["data"]) for e in events] == [("42", "42"), ("43", "43"), ("44", "44")]
    r = httpx.get(rt.url + "/sse/resume", timeout=10)
    assert [e["id"] for e in parse(r.text.split("\n"))] == ["1", "2", "3"]


def test_client_disconnect_ends_busy_handler(rt):
    """A handler that keeps sending learns the client left, and its cleanup runs."""
    for round in (1, 2, 3):
        with httpx.stream("GET", rt.url + "/sse/forever", timeout=10) as r:
            for line in r.iter_lines():
                if line == "data: 3":
                    break
        assert wait_for_stat(rt, "sse_closed", round)
    assert stats(rt)["sse_open"] == 3


def test_client_disconnect_ends_waiting_handler(rt):
    """A handler blocked in a long sleep (no sends) is cancelled when the client closes."""
    with httpx.stream("GET", rt.url + "/sse/quiet", timeout=10) as r:
        lines = r.iter_lines()  # kept: leaving a `for` over it would close the connection
        while next(lines) != "data: hello":
            pass
        time.sleep(0.5)
        assert stats(rt)["sse_closed"] == 0
    start = time.monotonic()
    assert wait_for_stat(rt, "sse_closed", 1)
    assert time.monotonic() - start < 2


def test_keepalive_comments_and_no_timeout(rt):
    """A quiet stream gets `:` keep-alive lines and outlives the app's 1 s timeouts."""
    with httpx.stream("GET", rt.url + "/sse/quiet", timeout=10) as r:
        start = time.monotonic()
        comments = 0
        for line in r.iter_lines():
            if line.startswith(":"):
                comments += 1
            if time.monotonic() - start > 2.5:
                break
        assert comments >= 5


def test_many_streams_then_all_gone(rt):
    """Streams up to the connection cap, all dropped abruptly: every handler ends, every slot is
    free again (8 more streams work)."""
    for round in (1, 2):
        socks = []
        for _ in range(7):
            s = socket.create_connection(("127.0.0.1", rt.port), timeout=10)
            s.sendall(b"GET /sse/forever HTTP/1.1\r\nHost: x\r\n\r\n")
            socks.append(s)
        for s in socks:
            data = b""
            while b"data: 2\n" not in data:
                data += s.recv(4096)
        for s in socks:
            s.close()
        assert wait_for_stat(rt, "sse_closed", 7 * round)
    assert stats(rt)["sse_open"] == 14


def test_http10_stream_is_close_delimited(rt):
    with socket.create_connection(("127.0.0.1", rt.port), timeout=10) as s:
        s.sendall(b"GET /sse/ticks?n=1 HTTP/1.0\r\n\r\n")
        data = recv_all(s, 5)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in head.lower()
    assert b"\r\nConnection: close" in head
    events = parse(body.decode().split("\n"))
    assert events[1] == {"event": "tick", "id": "1", "data": '{"i": 1}'}
    assert events[-1] == {"event": "end", "data": "done"}


def test_handler_returning_without_close_leaves_nothing_behind(rt):
    reply = raw(rt.port, b"GET /sse/abandoned HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b"0\r\n\r\n"), reply
    time.sleep(0.2)  # its slot is free again
    # The listener holds the next free slot ready: a first client takes that one, the second gets
    # the abandoned handler's slot, and must see nothing of it (no ping, no keep-alive comment,
    # no request bytes taken by a watcher).
    with socket.create_connection(("127.0.0.1", rt.port)):
        assert_clean_keep_alive(rt.port)
