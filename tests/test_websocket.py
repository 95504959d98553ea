"""WebSocket (RFC 6455) through real clients: the `websockets` library, and a raw-socket client
for what a library refuses to send (unmasked, fragmented, malformed frames). Every runtime."""

import asyncio
import base64
import json
import os
import re
import socket
import struct
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError

from conftest import RUNTIME, assert_clean_keep_alive, raw, recv_all, stats, wait_for_stat

pytestmark = pytest.mark.integration

KEY = base64.b64encode(b"0123456789abcdef").decode()


@pytest.fixture
def rt(serve):
    return serve("realtime")


def ws_url(app, path):
    return "ws://127.0.0.1:%d%s" % (app.port, path)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


# -- a raw client -------------------------------------------------------------------------------


class Raw:
    """A WebSocket client over a plain socket that sends whatever frames the test asks for."""

    def __init__(self, app, path="/ws/echo"):
        self.s = socket.create_connection(("127.0.0.1", app.port), timeout=10)
        self.s.sendall(
            (
                "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, KEY)
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(1)
            assert chunk, "closed during the handshake: %r" % head
            head += chunk
        assert head.startswith(b"HTTP/1.1 101 "), head
        self.head = head

    def frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0, length_form=None):
        b0 = (0x80 if fin else 0) | rsv << 4 | opcode
        n = len(payload)
        m = 0x80 if mask else 0
        if length_form == 126:
            head = struct.pack("!BBH", b0, m | 126, n)
        elif length_form == 127:
            head = struct.pack("!BBQ", b0, m | 127, n)
        elif n < 126:
            head = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, m | 126, n)
        else:
            head = struct.pack("!BBQ", b0, m | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        self.s.sendall(head + payload)

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise EOFError("closed after %d of %d bytes" % (len(data), n))
            data += chunk
        return data

    def read(self):
        """(fin, opcode, payload) of the next server frame (servers never mask)."""
        b0, b1 = self.recv_exact(2)
        assert not b1 & 0x80, "server frames must not be masked"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self.recv_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self.recv_exact(8))
        return bool(b0 & 0x80), b0 & 0x0F, self.recv_exact(n)

    def expect_close(self, code):
        """The server's close frame carries `code`; we answer it and the server hangs up."""
        fin, op, payload = self.read()
        while op != 8:  # skip whatever was in flight
            fin, op, payload = self.read()
        assert struct.unpack("!H", payload[:2])[0] == code, payload
        self.frame(8, payload[:2])
        assert recv_all(self.s, 5) == b""  # then the TCP connection closes
        return payload[2:].decode()

    def close(self):
        self.s.close()


# -- handshake ----------------------------------------------------------------------------------


def handshake(app, **headers):
    h = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    h.update(headers)
    h = {k: v for k, v in h.items() if v is not None}
    return httpx.get(app.url + "/ws/echo", headers=h, timeout=10)


def test_handshake_accept_key(rt):
    raw = Raw(rt)
    # RFC 6455 §1.3: base64(SHA-1(key + GUID)), computed here independently with hashlib.
    import hashlib

    expect = base64.b64encode(
        hashlib.sha1((KEY + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    )
    assert b"\r\nSec-WebSocket-Accept: " + expect + b"\r\n" in raw.head
    assert b"\r\nUpgrade: websocket\r\n" in raw.head
    raw.close()


def test_bad_version_is_426(rt):
    r = handshake(rt, **{"Sec-WebSocket-Version": "8"})
    assert r.status_code == 426
    assert r.headers["sec-websocket-version"] == "13"
    r = handshake(rt, **{"Sec-WebSocket-Version": None})
    assert r.status_code == 426


@pytest.mark.parametrize(
    "key",
    ["", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBs*SBub25jZQ=="],
)
def test_bad_key_is_400(rt, key):
    assert handshake(rt, **{"Sec-WebSocket-Key": key}).status_code == 400


def test_missing_key_or_upgrade_is_400(rt):
    assert handshake(rt, **{"Sec-WebSocket-Key": None}).status_code == 400
    assert handshake(rt, Upgrade=None).status_code == 400
    assert handshake(rt, Connection="keep-alive").status_code == 400
    assert httpx.get(rt.url + "/ws/echo", timeout=10).status_code == 400
    assert httpx.get(rt.url + "/stats", timeout=10).status_code == 200  # still serving


def test_subprotocol_and_server_ping(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/info"), subprotocols=["superchat"]) as ws:
            assert ws.subprotocol == "superchat"
            await ws.send("a")
            assert await ws.recv() == "superchat a"
            await ws.send("b")  # the server pinged in between: websockets answered it
            assert await ws.recv() == "after ping: b"

    run(go())


# -- messages -----------------------------------------------------------------------------------


def test_echo_text_and_binary(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/echo")) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send("héllo €𝄞")
            assert await ws.recv() == "héllo €𝄞"
            await ws.send(b"\x00\x01\xff")
            assert await ws.recv() == b"\x00\x01\xff"
            await ws.send("")
            assert await ws.recv() == ""
            await ws.send(b"")
            assert await ws.recv() == b""
            for i in range(50):
                await ws.send("m%d" % i)
            for i in range(50):
                assert await ws.recv() == "m%d" % i

    run(go())


def test_length_16_bit(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/echo")) as ws:
            msg = "x" * 126 + "y" * 874  # 1000 bytes: 16-bit length, under the 1024 cap
            await ws.send(msg)
            assert await ws.recv() == msg

    run(go())


def test_length_fields_in_every_encoding(rt):
    """A raw client writes each length in the 7-, 16- and 64-bit forms (the longer forms for
    short payloads too: parsing must not depend on the payload being large)."""
    raw = Raw(rt)
    for payload in (b"a" * 5, b"b" * 125, b"c" * 126, b"d" * 1000):
        for form in (None, 126, 127):
            raw.frame(2, payload, length_form=form)
            assert raw.read() == (True, 2, payload)
    raw.close()


@pytest.mark.skipif(
    RUNTIME == "wasm",
    reason="webassembly bridge: bytes cross Node<->MicroPython as base64 strings through the "
    "pyscript proxy, superlinear in size (20 KB: 3.4 s each way; 70 KB ran out of memory)",
)
def test_large_messages_16_and_64_bit(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/big"), max_size=None) as ws:
            data = os.urandom(65535)  # the largest 16-bit length
            await ws.send(data)
            assert await ws.recv() == data
            data = os.urandom(70000)  # 64-bit length, the cap raised to 200000
            await ws.send(data)
            assert await ws.recv() == data
            text = "é" * 40000  # 80000 bytes of UTF-8
            await ws.send(text)
            assert await ws.recv() == text

    run(go())


def test_fragmented_message_with_interleaved_ping(rt):
    raw = Raw(rt)
    raw.frame(1, b"frag", fin=False)
    raw.frame(9, b"mid-ping")  # control frames may come between fragments
    raw.frame(0, "mént".encode()[:2], fin=False)  # fragments may split a UTF-8 sequence
    raw.frame(0, "mént".encode()[2:], fin=True)
    assert raw.read() == (True, 10, b"mid-ping")
    assert raw.read() == (True, 1, "fragmént".encode())
    raw.frame(2, b"\x01", fin=False)
    raw.frame(0, b"\x02", fin=False)
    raw.frame(0, b"\x03")
    assert raw.read() == (True, 2, b"\x01\x02\x03")
    raw.frame(8, struct.pack("!H", 1000))
    assert raw.expect_close(1000) == ""
    raw.close()


def test_fragmented_by_websockets_library(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/echo")) as ws:
            await ws.send(["frag", "men", "ted"])
            assert await ws.recv() == "fragmented"
            await ws.send([b"a", b"b"])
            assert await ws.recv() == b"ab"

    run(go())


def test_ping_answered_with_pong(rt):
    raw = Raw(rt)
    raw.frame(9, b"are you there")
    assert raw.read() == (True, 10, b"are you there")
    raw.frame(9)
    assert raw.read() == (True, 10, b"")

    async def go():
        async with connect(ws_url(rt, "/ws/echo")) as ws:
            latency = await (await ws.ping(b"x"))
            assert latency >= 0

    run(go())
    raw.close()


# -- closing ------------------------------------------------------------------------------------


def test_client_close_code_echoed(rt):
    raw = Raw(rt)
    raw.frame(1, b"hi")
    assert raw.read() == (True, 1, b"hi")
    raw.frame(8, struct.pack("!H", 4000) + b"going")
    fin, op, payload = raw.read()
    assert op == 8 and struct.unpack("!H", payload[:2])[0] == 4000
    assert recv_all(raw.s, 5) == b""
    raw.close()

    async def go():
        async with connect(ws_url(rt, "/ws/echo")) as ws:
            await ws.close(1001, "bye")
            assert ws.close_code == 1001

    run(go())


def test_server_close_with_code_and_reason(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/close/4001")) as ws:
            await ws.send("x")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4001, "bye now")

    run(go())


def test_handler_exception_closes_1011(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/raise")) as ws:
            await ws.send("x")
            with pytest.raises(ConnectionClosedError):
                await ws.recv()
            assert ws.close_code == 1011

    run(go())
    assert rt.printed("handler bug"), rt.output()


def test_manual_accept_api(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/manual")) as ws:
            await ws.send("abc")
            assert await ws.recv() == "ABC"
            await ws.send(b"abc")
            assert await ws.recv() == b"abc"

    run(go())
    assert wait_for_stat(rt, "ws_closed", 1)


# -- protocol errors ----------------------------------------------------------------------------


def test_unmasked_frame_closes_1002(rt):
    raw = Raw(rt)
    raw.frame(1, b"naked", mask=False)
    raw.expect_close(1002)
    raw.close()


def test_oversize_message_closes_1009(rt):
    async def go():
        async with connect(ws_url(rt, "/ws/echo")) as ws:
            await ws.send("ok")
            assert await ws.recv() == "ok"
            await ws.send("x" * 2000)  # the endpoint's cap is 1024
            with pytest.raises(ConnectionClosedError):
                await ws.recv()
            assert ws.close_code == 1009

    run(go())
    raw = Raw(rt)  # and when only the fragments together are too big
    raw.frame(2, b"a" * 600, fin=False)
    raw.frame(0, b"b" * 600)
    raw.expect_close(1009)
    raw.close()


@pytest.mark.parametrize(
    "payload",
    [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"ok\xe2\x82"],
    ids=["ff", "overlong-2", "surrogate", "above-10ffff", "overlong-3", "truncated"],
)
def test_invalid_utf8_closes_1007(rt, payload):
    raw = Raw(rt)
    raw.frame(1, payload)
    raw.expect_close(1007)
    raw.close()


@pytest.mark.parametrize(
    "frames",
    [
        [(1, b"x", True, 4)],  # RSV1 without an extension
        [(1, b"x", True, 1)],  # RSV3
        [(9, b"p" * 126, True, 0)],  # control frame over 125 bytes
        [(9, b"p", False, 0)],  # fragmented control frame
        [(0, b"x", True, 0)],  # continuation with nothing to continue
        [(1, b"a", False, 0), (1, b"b", True, 0)],  # new message inside a fragmented one
        [(3, b"x", True, 0)],  # reserved data opcode
        [(11, b"", True, 0)],  # reserved control opcode
        [(8, b"\x03", True, 0)],  # close payload of one byte
        [(8, struct.pack("!H", 1005), True, 0)],  # close code that must not be sent
        [(8, struct.pack("!H", 999), True, 0)],
    ],
    ids=[
        "rsv1", "rsv3", "long-ping", "fragmented-ping", "orphan-continuation", "nested-message",
        "opcode-3", "opcode-11", "short-close", "close-1005", "close-999",
    ],
)  # fmt: skip
def test_protocol_errors_close_1002(rt, frames):
    raw = Raw(rt)
    for opcode, payload, fin, rsv in frames:
        raw.frame(opcode, payload, fin=fin, rsv=rsv)
    raw.expect_close(1002)
    raw.close()
    assert httpx.get(rt.url + "/stats", timeout=10).status_code == 200


def test_invalid_utf8_close_reason_is_1007(rt):
    raw = Raw(rt)
    raw.frame(8, struct.pack("!H", 1000) + b"\xff")
    raw.expect_close(1007)
    raw.close()


# -- connections and liveness -------------------------------------------------------------------


def test_vanishing_clients_free_their_slots(rt):
    """Clients that drop the TCP connection without a close frame: every handler ends, and the
    server (max_connections=8) still takes new WebSockets afterwards."""
    for _ in range(3):
        raws = [Raw(rt) for _ in range(6)]
        for r in raws:
            r.frame(1, b"x")
            assert r.read() == (True, 1, b"x")
        for r in raws:
            r.s.close()
    assert wait_for_stat(rt, "ws_closed", 18)
    assert stats(rt)["ws_open"] == 18

    async def go():
        socks = [await connect(ws_url(rt, "/ws/echo")) for _ in range(7)]
        for i, ws in enumerate(socks):
            await ws.send(str(i))
        for i, ws in enumerate(socks):
            assert await ws.recv() == str(i)
        for ws in socks:
            await ws.close()

    run(go())


def test_idle_websocket_has_no_timeout(rt):
    """The app's idle and I/O timeouts are 1 s: an idle WebSocket outlives them."""

    async def go():
        async with connect(ws_url(rt, "/ws/echo"), ping_interval=None) as ws:
            await asyncio.sleep(2.5)
            await ws.send("still here")
            assert await ws.recv() == "still here"

    run(go())


def test_ping_interval_drops_silent_peer(rt):
    raw = Raw(rt, "/ws/ping")  # a client that never answers pings
    fin, op, payload = raw.read()
    assert op == 9  # the server's ping, after 0.3 s
    start = time.monotonic()
    assert recv_all(raw.s, 5) == b""  # and then it hangs up
    assert time.monotonic() - start < 3
    raw.close()
    assert wait_for_stat(rt, "ws_closed", 1)

    async def go():  # a client that answers pings stays connected
        async with connect(ws_url(rt, "/ws/ping"), ping_interval=None) as ws:
            await asyncio.sleep(1.5)
            await ws.send("alive")
            assert await ws.recv() == "alive"

    run(go())


def test_a_handshake_to_a_plain_route_gets_that_route_not_an_upgrade(rt):
    handshake = (
        "GET /stats HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % KEY
    ).encode()
    with socket.create_connection(("127.0.0.1", rt.port), timeout=5) as s:
        s.sendall(handshake)
        head, _, body = recv_until_body(s).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and b"Upgrade" not in head, head
    assert set(json.loads(body)) == {"sse_open", "sse_closed", "ws_open", "ws_closed"}


def test_plain_get_on_a_websocket_route_is_400(rt):
    reply = raw(rt.port, b"GET /ws/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), reply
    assert body == b"not a WebSocket handshake"


def recv_until_body(s):
    """One response with a Content-Length, read whole (the connection stays open)."""
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < int(
        re.search(rb"Content-Length: (\d+)", data).group(1)
    ):
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    return data


def test_handler_returning_without_close_leaves_nothing_behind(rt):
    ws = Raw(rt, "/ws/abandoned")
    assert recv_all(ws.s, 5) == b""  # the server closed it, with no frame (its handler is gone)
    ws.s.close()
    time.sleep(0.2)  # its slot is free again
    # The listener holds the next free slot ready: a first client takes that one, the second gets
    # the abandoned handler's slot, and must see nothing of it (no ping, no keep-alive comment,
    # no request bytes taken by a watcher).
    with socket.create_connection(("127.0.0.1", rt.port)):
        assert_clean_keep_alive(rt.port)
