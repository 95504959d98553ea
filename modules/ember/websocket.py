"""WebSocket (RFC 6455), server side: handshake, messages, fragments, ping/pong, close codes.

    from ember.websocket import with_websocket

    @app.get("/ws")
    @with_websocket(max_message=4096)
    async def echo(req, ws):
        async for msg in ws:  # str for text, bytes for binary; ends when the peer closes
            await ws.send(msg)

Or take the connection over yourself: `ws = await accept(req)`, then `await ws.receive()` /
`ws.send()` and `await ws.close()` in a `finally`.

Frames are read through the connection's own buffer; a message is assembled in one bytearray per
socket, grown on demand up to `max_message` (1009 beyond) and reused. Protocol errors close the
connection with 1002 (unmasked or reserved bits, bad control frames, bad continuation), 1007
(invalid UTF-8 in text) or 1009 (too big). An idle WebSocket has no timeout unless
`ping_interval` is given: then a ping goes out every `ping_interval` seconds and a peer that sent
nothing (not even a pong) for a whole interval is dropped."""

import asyncio

from .takeover import Takeover
from .headers import text
from .http import HTTPError
from .runtime import MICROPYTHON, print_exception

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_UNMASK_CHUNK = 256 if MICROPYTHON else 1 << 24  # bytes XORed per big-int operation
_KEEP_BUF = 4096  # message buffers up to this size stay allocated between messages

TEXT = 1
BINARY = 2
CLOSE = 8
PING = 9
PONG = 10


class ConnectionClosed(Exception):
    """The WebSocket is closed: `code` (1006 when the connection just dropped) and `reason`."""

    def __init__(self, code=1006, reason=""):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


async def accept(req, max_message=16384, ping_interval=None, protocols=None, close_timeout=2):
    """Check the handshake (400, or 426 for a version other than 13), answer 101, and return the
    WebSocket. `protocols`: subprotocols this endpoint speaks, first match with the client's
    Sec-WebSocket-Protocol wins (`ws.protocol`)."""
    h = req.raw_headers
    upgrade = h.get(b"upgrade")
    if not req.http11 or not req.upgrade or upgrade is None or b"websocket" not in upgrade.lower():
        raise HTTPError(400, "not a WebSocket handshake")
    if h.get(b"sec-websocket-version") != b"13":
        raise HTTPError(426, "WebSocket version 13 only", {"Sec-WebSocket-Version": "13"})
    key = h.get(b"sec-websocket-key")
    if key is None or not _valid_key(key):
        raise HTTPError(400, "bad Sec-WebSocket-Key")
    chosen = None
    offered = h.get(b"sec-websocket-protocol")
    if protocols and offered:
        for p in offered.split(b","):
            p = text(p.strip())
            if p in protocols:
                chosen = p
                break
    head = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept_key(key) + b"\r\n"
    )
    if chosen:
        head += b"Sec-WebSocket-Protocol: " + chosen.encode() + b"\r\n"
    ws = WebSocket(req.conn, max_message, ping_interval, close_timeout)
    ws.protocol = chosen
    req.owner = ws  # the connection is the WebSocket's now: no response after the handler
    await req.conn.send(head + b"\r\n")
    return ws


def with_websocket(handler=None, **options):
    """Decorator: `async def handler(req, ws, **params)` runs on an accepted WebSocket (options as
    for `accept`). The close handshake is done when it returns (1011 if it raised); a peer that
    went away simply ends it."""

    def wrap(handler):
        async def websocket_handler(req, **params):
            try:
                ws = await accept(req, **options)
            except OSError:  # the client left before the 101 went out
                return
            try:
                await handler(req, ws, **params)
            except ConnectionClosed:
                pass
            except asyncio.CancelledError:
                if not ws.expired:
                    raise
                return
            except Exception as e:
                print_exception(e)
                await ws.close(1011, "internal error")
                return
            await ws.close()

        return websocket_handler

    return wrap if handler is None else wrap(handler)


def _valid_key(key):
    """Sec-WebSocket-Key must be the base64 of 16 bytes: 22 alphabet characters and "=="."""
    if len(key) != 24 or key[22:] != b"==" or key[21] not in b"AQgw":
        return False
    for i in range(22):
        if _B64.find(key[i : i + 1]) < 0:
            return False
    return True


def accept_key(key):
    """Sec-WebSocket-Accept for `key` (bytes): base64(SHA-1(key + GUID))."""
    import binascii

    try:
        from hashlib import sha1
    except ImportError:  # MicroPython built without it (webassembly, unix without SSL)
        from .sha1 import sha1
    return binascii.b2a_base64(sha1(key + _GUID).digest())[:-1]


def _unmask(mv, n, mask):
    """XOR `mv[:n]` in place with the 4-byte `mask`, a few hundred bytes per big-int operation
    (8x faster than a per-byte loop on MicroPython)."""
    if not n:
        return
    c = n if n < _UNMASK_CHUNK else _UNMASK_CHUNK
    fb = int.from_bytes
    m = fb((mask * ((c + 3) >> 2))[:c], "little")
    i = 0
    while n - i >= c:
        mv[i : i + c] = (fb(mv[i : i + c], "little") ^ m).to_bytes(c, "little")
        i += c
    r = n - i
    if r:
        m &= (1 << (8 * r)) - 1
        mv[i:n] = (fb(mv[i:n], "little") ^ m).to_bytes(r, "little")


def _valid_utf8(b, n):
    """Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF), which MicroPython's
    decoder does not check."""
    i = 0
    while i < n:
        c = b[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            k = 1
            lo, hi = 0x80, 0xBF
        elif 0xE0 <= c <= 0xEF:
            k = 2
            lo = 0xA0 if c == 0xE0 else 0x80
            hi = 0x9F if c == 0xED else 0xBF
        elif 0xF0 <= c <= 0xF4:
            k = 3
            lo = 0x90 if c == 0xF0 else 0x80
            hi = 0x8F if c == 0xF4 else 0xBF
        else:
            return False
        if i + k >= n:
            return False
        c = b[i + 1]
        if c < lo or c > hi:
            return False
        for j in range(i + 2, i + k + 1):
            if b[j] & 0xC0 != 0x80:
                return False
        i += k + 1
    return True


def _close_code_ok(code):
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class WebSocket(Takeover):
    """An accepted WebSocket: `receive()`, `send()`, `ping()`, `close()`, `async for msg in ws`.

    `closed` turns True once a close frame went either way or the connection dropped;
    `close_code` / `close_reason` then say why."""

    status = 101  # for the access log

    def __init__(self, conn, max_message=16384, ping_interval=None, close_timeout=2):
        super().__init__(conn)
        self.max_message = max_message
        self.close_timeout = close_timeout
        self.protocol = None
        self.closed = False
        self.close_code = None
        self.close_reason = ""
        self.expired = False  # dropped for not answering pings
        self._sent_close = False
        self._buf = None  # the message being assembled
        self._reading = False
        self._alive = True  # a frame arrived since the last ping
        self._pinger = None
        if ping_interval:
            self._pinger = asyncio.create_task(self._ping_loop(ping_interval))

    # -- receiving --
    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.receive()
        except ConnectionClosed:
            raise StopAsyncIteration

    async def receive(self):
        """The next message: str (text) or bytes (binary). Pings are answered on the way.
        Raises ConnectionClosed when the peer closed (its close is answered) or went away."""
        if self.closed:
            raise ConnectionClosed(self.close_code or 1006, self.close_reason)
        self._reading = True
        try:
            return await self._receive()
        except (OSError, EOFError):
            self._dropped()
            raise ConnectionClosed(1006)
        finally:
            self._reading = False

    async def _receive(self):
        opcode = 0  # of the message being assembled
        size = 0
        while True:
            b0, n, mask = await self._header()
            self._alive = True
            op = b0 & 0x0F
            if b0 & 0x70:
                await self._fail(1002, "reserved bits set", n)
            if mask is None:
                await self._fail(1002, "client frames must be masked", n)
            if op >= 8:
                if op > PONG:
                    await self._fail(1002, "unknown opcode", n)
                if not b0 & 0x80 or n > 125:
                    await self._fail(1002, "bad control frame", n)
                data = bytearray(n)
                await self._read_payload(memoryview(data), n, mask)
                if op == PING:
                    if not self._sent_close:
                        await self._send_frame(PONG, data)
                elif op == CLOSE:
                    await self._peer_closed(data)
                continue
            if op == 0:
                if not opcode:
                    await self._fail(1002, "continuation without a message", n)
            elif op <= BINARY:
                if opcode:
                    await self._fail(1002, "message inside a fragmented message", n)
                opcode = op
            else:
                await self._fail(1002, "unknown opcode", n)
            if size + n > self.max_message:
                await self._fail(1009, "message too big", n)
            buf = self._reserve(size, size + n)
            await self._read_payload(memoryview(buf)[size:], n, mask)
            size += n
            if b0 & 0x80:
                break
        buf = self._buf
        if len(buf) > _KEEP_BUF:
            self._buf = None
        if opcode == BINARY:
            return bytes(buf[:size]) if size != len(buf) else bytes(buf)
        mv = memoryview(buf)[:size]
        try:
            text = str(mv, "utf-8")
        except UnicodeError:
            text = None
        if text is None or (MICROPYTHON and len(text) != size and not _valid_utf8(mv, size)):
            await self._fail(1007, "invalid UTF-8", 0)
        return text

    def _reserve(self, keep, total):
        """The message buffer with room for `total` bytes, its first `keep` bytes kept."""
        buf = self._buf
        if buf is None or len(buf) < total:
            grown = bytearray(total if buf is None or total > 2 * len(buf) else 2 * len(buf))
            if keep:
                grown[:keep] = memoryview(buf)[:keep]
            self._buf = buf = grown
        return buf

    async def _header(self):
        """(first byte, payload length, mask or None) of the next frame."""
        conn = self.conn
        await self._need(2)
        b0 = conn.byte()
        b1 = conn.byte()
        n = b1 & 0x7F
        # The extended length, then the mask: wait until the whole header is there.
        await self._need((2 if n == 126 else 8 if n == 127 else 0) + (4 if b1 & 0x80 else 0))
        if n == 126:
            n = (conn.byte() << 8) | conn.byte()
        elif n == 127:
            n = 0
            for _ in range(8):
                n = (n << 8) | conn.byte()
            if n >> 63:
                if b1 & 0x80:  # the mask too: nothing of this frame stays buffered
                    conn.byte(), conn.byte(), conn.byte(), conn.byte()
                await self._fail(1002, "bad frame length", 0)
        mask = None
        if b1 & 0x80:
            mask = bytes((conn.byte(), conn.byte(), conn.byte(), conn.byte()))
        return b0, n, mask

    async def _read_payload(self, mv, n, mask):
        got = 0
        while got < n:
            got += await self.conn.readinto(mv[got:n])
        if mask is not None and n:
            _unmask(mv, n, mask)

    async def _skip(self, n):
        conn = self.conn
        while n > 0:
            n -= len(await conn.read(n if n < 1024 else 1024))

    async def _peer_closed(self, data):
        """A close frame arrived: answer it (echoing its code) unless we sent ours first."""
        n = len(data)
        code = 1005
        reason = ""
        if n == 1:
            await self._fail(1002, "bad close frame", 0)
        if n >= 2:
            code = (data[0] << 8) | data[1]
            if not _close_code_ok(code):
                await self._fail(1002, "bad close code", 0)
            try:
                reason = str(memoryview(data)[2:], "utf-8")
            except UnicodeError:
                reason = None
            if reason is None or (MICROPYTHON and not _valid_utf8(data[2:], n - 2)):
                await self._fail(1007, "invalid UTF-8", 0)
        if not self._sent_close:
            await self._send_close(1000 if code == 1005 else code, "")
        self.closed = True
        self.close_code = code
        self.close_reason = reason
        self._stop_pinger()
        raise ConnectionClosed(code, reason)

    async def _fail(self, code, reason, skip):
        """Fail the connection (RFC 6455 §7.1.7): send our close, wait briefly for the peer's."""
        if self._sent_close:  # already closing: just give up on this connection
            self._dropped()
            raise ConnectionClosed(1006)
        await self._send_close(code, reason)
        self.closed = True
        self.close_code = code
        self.close_reason = reason
        await self._await_close(skip)
        raise ConnectionClosed(code, reason)

    async def _await_close(self, skip=0):
        """Read (and drop) frames until the peer's close frame, EOF or `close_timeout`."""
        try:
            await asyncio.wait_for(self._until_close(skip), self.close_timeout)
        except Exception:  # timeout, EOF, reset: the connection is done either way
            pass
        self._stop_pinger()

    async def _until_close(self, skip):
        await self._skip(skip)
        while True:
            b0, n, mask = await self._header()
            await self._skip(n)
            if b0 & 0x0F == CLOSE:
                return

    # -- sending --
    async def send(self, data):
        """Send a message: str as text, bytes/bytearray/memoryview as binary."""
        if type(data) is str:
            await self._send_frame(TEXT, data.encode())
        else:
            await self._send_frame(BINARY, data)

    async def ping(self, data=b""):
        """Send a ping (the peer answers with a pong, which `receive()` consumes)."""
        await self._send_frame(PING, data)

    async def close(self, code=1000, reason=""):
        """Close the WebSocket: send a close frame with `code` and `reason`, then wait up to
        `close_timeout` seconds for the peer's (unless another task is receiving: it gets it)."""
        if self._sent_close:
            return
        await self._send_close(code, reason)
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.close_reason = reason
            if not self._reading:
                await self._await_close()

    async def _send_close(self, code, reason):
        self._stop_pinger()
        try:
            await self._send_frame(CLOSE, bytes((code >> 8, code & 255)) + reason.encode())
        except ConnectionClosed:
            pass
        self._sent_close = True

    async def _send_frame(self, op, data):
        if self._sent_close:
            raise ConnectionClosed(self.close_code or 1006, self.close_reason)
        n = len(data)
        if n < 126:
            head = bytes((0x80 | op, n))
        elif n < 65536:
            head = bytes((0x80 | op, 126, n >> 8, n & 255))
        else:
            head = bytes((0x80 | op, 127)) + n.to_bytes(8, "big")
        try:
            if n < 512:  # one write
                await self._send(head + bytes(data))
            else:  # no copy of a large payload
                await self._send(head, data)
        except OSError:  # Takeover._send has called _lost: _dropped
            raise ConnectionClosed(1006)

    # -- liveness --
    def _dropped(self):
        self.closed = True
        self._sent_close = True
        if self.close_code is None:
            self.close_code = 1006
        self._stop_pinger()

    _lost = _dropped  # Takeover._send's hook: a write failed, the client is gone

    def connection_lost(self):
        """The server is closing the connection (the handler has returned): nothing may use it."""
        if not self.closed:
            self._dropped()

    def _stop_pinger(self):
        p = self._pinger
        if p is not None:
            self._pinger = None
            if p is not asyncio.current_task():
                p.cancel()

    async def _ping_loop(self, interval):
        while not self.closed:
            await asyncio.sleep(interval)
            if self.closed:
                return
            if not self._alive:  # nothing, not even a pong, for a whole interval: drop it
                self.expired = True
                self._pinger = None
                self._dropped()
                task = self.conn.task
                if task is not None:
                    task.cancel()
                return
            self._alive = False
            try:
                await self.ping()
            except ConnectionClosed:
                return
