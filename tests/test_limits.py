"""Every limit answers with its status (or a clean close) and never costs a connection slot."""

import asyncio
import json
import socket
import time

import pytest

from conftest import raw, recv_all

pytestmark = pytest.mark.integration


@pytest.fixture
def limits(serve):
    return serve("limits")


def status(reply):
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None


def get(port, path="/", extra=b""):
    return raw(port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")


def slots(port):
    reply = raw(port, b"GET /peak HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return json.loads(reply.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize(
    "request_bytes, expected",
    [
        (b"GET /\r\nHost: x\r\n\r\n", 400),  # request line without version
        (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # two spaces
        (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # method is not a token of capitals
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # HTTP/1.1 without Host
        (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n", 400),  # space before colon
        (b"GET / HTTP/1.1\nHost: x\n\n", 400),  # bare LF line endings
        (b"GET nope HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        (
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
            400,
        ),
        (
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        (b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    ],
)
def test_malformed_requests(limits, request_bytes, expected):
    reply = raw(limits.port, request_bytes)
    assert status(reply) == expected, reply
    if expected != 405:
        assert b"Connection: close" in reply
    assert status(get(limits.port)) == 200  # and the server answers the next client


@pytest.mark.parametrize(
    "path, size_line, expected",
    [
        ("/upload", b"ffffffffffffffffffff", 413),  # more hex digits than any body has
        ("/stream", b"ffffffffffffffffffff", 413),  # even where max_body does not apply
        ("/upload", b"401", 413),  # one byte over max_body (1024), announced
        ("/upload", b"0000000000000000400", 200),  # leading zeros are not digits of the size
        ("/upload", b"0x10", 400),
        ("/upload", b"1_0", 400),
        ("/upload", b"+a", 400),
        ("/upload", b"", 400),
    ],
)
def test_chunk_size_is_judged_before_any_of_its_data(limits, path, size_line, expected):
    with socket.create_connection(("127.0.0.1", limits.port), timeout=5) as s:
        s.sendall(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + size_line + b"\r\n"
        )
        t0 = time.monotonic()
        if expected == 200:  # a valid size: the data follows, and the body is taken whole
            s.sendall(b"x" * 1024 + b"\r\n0\r\n\r\n")
        s.settimeout(5)
        reply = s.recv(1000)
        waited = time.monotonic() - t0
    assert status(reply) == expected, reply
    assert waited < 0.5  # at once: not after a read timeout
    if expected != 200:
        assert b"Connection: close" in reply


def test_a_blank_line_before_a_request_is_ignored_however_it_arrives(limits):
    ok = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", limits.port), timeout=5) as s:
        s.sendall(ok)
        assert s.recv(1000).endswith(b"ok")
        s.sendall(b"\r\n" + ok)  # in a packet of its own
        assert status(s.recv(1000)) == 200
        s.sendall(ok + b"\r\n" + ok)  # behind the previous request
        replies = b""
        while replies.count(b"ok") < 2:
            chunk = s.recv(1000)
            assert chunk, replies
            replies += chunk
        assert replies.count(b"HTTP/1.1 200 OK") == 2


def test_protocol_error_to_head_has_the_length_and_no_body(limits):
    bad = b" / HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n"
    get_reply = raw(limits.port, b"GET" + bad)
    head_reply = raw(limits.port, b"HEAD" + bad)
    get_head, _, get_body = get_reply.partition(b"\r\n\r\n")
    head_head, _, head_body = head_reply.partition(b"\r\n\r\n")
    assert status(head_reply) == 400 and head_body == b""
    assert get_body and head_head == get_head  # Content-Length included: the GET body's length
    assert b"Content-Length: %d\r\n" % len(get_body) in head_head + b"\r\n"


@pytest.mark.listener
def test_malformed_requests_cost_no_slot(limits):
    for _ in range(20):
        raw(limits.port, b"GET  / HTTP/1.1\r\n\r\n")
    assert slots(limits.port)["conns"] == 1  # only the connection asking


def test_request_line_limit_414(limits):
    assert status(get(limits.port, "/" + "a" * 300)) == 414


def test_huge_request_line_is_refused_without_buffering(limits):
    # 1 MB request line: the server answers after its 512-byte buffer fills, long before the end.
    with socket.create_connection(("127.0.0.1", limits.port), timeout=5) as s:
        s.sendall(b"GET /" + b"a" * 4096)
        reply = recv_all(s, 3)
        assert status(reply) == 414
        try:
            for _ in range(256):
                s.sendall(b"a" * 4096)
        except OSError:
            pass  # the server closed: it did not read the megabyte
    assert status(get(limits.port)) == 200


def test_header_line_limit_431(limits):
    assert status(get(limits.port, extra=b"X-Long: " + b"v" * 150 + b"\r\n")) == 431


def test_header_count_limit_431(limits):
    extra = b"".join(b"X-H%d: v\r\n" % i for i in range(11))
    assert status(get(limits.port, extra=extra)) == 431


def test_header_total_limit_431(limits):
    extra = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 70) for i in range(8))  # ~600 bytes > 512
    assert status(get(limits.port, extra=extra)) == 431


def test_body_limit_413(limits):
    reply = raw(
        limits.port,
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + b"x" * 2000,
    )
    assert status(reply) == 413
    reply = raw(
        limits.port,
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
        + b"x" * 1000,
    )
    assert reply.endswith(b'{"len": 1000}')


def test_chunked_body_limit_413(limits):
    body = b"".join(b"100\r\n" + b"x" * 256 + b"\r\n" for _ in range(5)) + b"0\r\n\r\n"
    reply = raw(
        limits.port,
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
    )
    assert status(reply) == 413


@pytest.mark.listener
def test_header_timeout_408(limits):
    with socket.create_connection(("127.0.0.1", limits.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
        t0 = time.monotonic()
        reply = recv_all(s, 5)
        waited = time.monotonic() - t0
    assert status(reply) == 408
    assert 0.8 < waited < 3


@pytest.mark.listener
def test_silent_client_is_closed(limits):
    with socket.create_connection(("127.0.0.1", limits.port), timeout=5) as s:
        t0 = time.monotonic()
        assert recv_all(s, 5) == b""  # closed without a response: nothing was asked
        assert time.monotonic() - t0 < 3


@pytest.mark.listener
def test_keep_alive_idle_timeout(limits):
    with socket.create_connection(("127.0.0.1", limits.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(1000).endswith(b"ok")
        t0 = time.monotonic()
        assert recv_all(s, 5) == b""
        assert 0.8 < time.monotonic() - t0 < 3


@pytest.mark.listener
def test_timeouts_fire_on_time_across_the_tick_counter_wrap(serve):
    app = serve("ticks_wrap")
    armed = json.loads(
        raw(app.port, b"GET /arm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").partition(
            b"\r\n\r\n"
        )[2]
    )
    assert armed["period"] - 400 < armed["ticks"] < armed["period"]  # the wrap is 300 ms ahead
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # the head never ends: 408 after 1 s
        t0 = time.monotonic()
        reply = recv_all(s, 5)
        waited = time.monotonic() - t0
    assert status(reply) == 408
    assert 0.8 < waited < 3
    with socket.create_connection(("127.0.0.1", app.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # then idle: closed after 1 s
        assert s.recv(1000).endswith(b"ok")
        t0 = time.monotonic()
        assert recv_all(s, 5) == b""
        assert 0.8 < time.monotonic() - t0 < 3


@pytest.mark.listener
def test_slots_return_after_timeouts(limits):
    socks = [socket.create_connection(("127.0.0.1", limits.port)) for _ in range(8)]
    time.sleep(2.0)  # all eight time out and are closed
    for s in socks:
        s.close()
    assert status(get(limits.port)) == 200
    assert slots(limits.port)["conns"] == 1


@pytest.mark.listener
def test_200_clients_against_8_connections(limits):
    async def one():
        for _attempt in range(3):
            try:
                r, w = await asyncio.open_connection("127.0.0.1", limits.port)
                w.write(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                await w.drain()
                data = await asyncio.wait_for(r.read(), 60)
                w.close()
                return data
            except (ConnectionError, OSError):
                await asyncio.sleep(0.2)
        return b""

    async def many():
        return await asyncio.gather(*(one() for _ in range(200)))

    replies = asyncio.run(many())
    assert sum(1 for r in replies if r.startswith(b"HTTP/1.1 200") and r.endswith(b"done")) == 200
    stats = slots(limits.port)
    assert stats["peak"] <= 8
    assert stats["conns"] == 1
