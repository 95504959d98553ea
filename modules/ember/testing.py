"""A test client that drives an app in-process, through `App.handle()`: no socket, no port.

    from ember.testing import TestClient

    client = TestClient(app)
    r = await client.get("/api/state")
    assert r.status == 200 and r.json()["led"] is False

Each request gets its own connection: two in-memory streams served by `app.handle()` in a task.
The client sends the request, reads one response, closes its side and waits for the app to close
the connection; an exception that escapes `handle()` is raised in the test. Cookies the app sets
are kept and sent back. `websocket()` and `sse()` return helpers for those protocols;
`connect()` gives the raw connection (bytes in, in the pieces a test chooses; bytes out).

For tests only: manifest.py leaves this module out of device firmware. It runs on CPython and on
MicroPython (unix port, webassembly), so one test file can run on all three."""

import asyncio
import json

_HIGH_WATER = 65536  # unread response bytes at which the app's drain() waits for the test
# RFC 6455's sample handshake: the key the client sends and the accept value it must get back.
_WS_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
_WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


class Timeout(Exception):
    """The app did not answer, or did not close the connection, within the client's timeout."""


class ProtocolError(Exception):
    """What the app wrote is not a well-formed HTTP response (or WebSocket frame), or it wrote
    more than the one response a request asked for."""


class HandshakeError(Exception):
    """`websocket()` was answered with something other than 101: `response` says what."""

    def __init__(self, response):
        super().__init__("WebSocket handshake refused: %d" % response.status)
        self.response = response


class WebSocketClosed(Exception):
    """The app closed the WebSocket (`code`, `reason`), or dropped the connection (1006)."""

    def __init__(self, code=1006, reason=""):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


# -- the connection -----------------------------------------------------------------------------


class _AppSide:
    """The app's end of an in-memory connection: the asyncio Stream methods ember uses.

    `readinto` returns at most what one `send()` of the test gave (each is one arrival, as a
    packet would be), or 0 once the test has shut down its side and everything was read."""

    def __init__(self, conn):
        self._c = conn

    async def readinto(self, buf):
        c = self._c
        while True:
            if c.app_closed:
                raise OSError(9)  # EBADF: reading a socket the app has closed
            if c.reset:
                raise OSError(104)  # ECONNRESET
            if c._pieces:
                break
            if c.eof:
                return 0
            c._app_wake.clear()
            await c._app_wake.wait()
        piece = c._pieces[0]
        off = c._offset
        n = len(piece) - off
        if n > len(buf):
            n = len(buf)
        buf[:n] = piece[off : off + n]
        if off + n == len(piece):
            c._pieces.pop(0)
            c._offset = 0
        else:
            c._offset = off + n
        return n

    async def read(self, n=-1):
        buf = bytearray(n if n > 0 else 4096)
        k = await self.readinto(buf)
        return bytes(buf[:k])

    def write(self, data):
        c = self._c
        if c.app_closed:
            raise OSError(9)
        if c.reset:
            raise OSError(32)  # EPIPE: the test went away
        c._rx.extend(data)  # copied: ember reuses its buffers (memoryview slices) after a write
        c._test_wake.set()

    async def drain(self):
        c = self._c
        # Always yields once, like MicroPython's Stream.drain: a handler that streams for ever
        # still lets the test run.
        await asyncio.sleep(0)
        while len(c._rx) > _HIGH_WATER and not c.reset and not c.app_closed:
            c._app_wake.clear()
            await c._app_wake.wait()
        if c.reset:
            raise OSError(32)

    def close(self):
        c = self._c
        c.app_closed = True
        c._test_wake.set()
        c._app_wake.set()  # a task of the app still reading gets EBADF, as from a real socket

    async def wait_closed(self):
        pass

    def get_extra_info(self, name):
        if name == "peername":
            return self._c.peer
        return None


class TestConnection:
    """One in-memory connection to the app, from the test's side (`TestClient.connect()`).

    `send(data, step=None)` queues bytes as one arrival (or `step`-byte arrivals); `shutdown()`
    ends the test's sending side (the app reads EOF); `abort()` resets the connection. Read
    with `await response()`, `await read(n)`, `await read_all()`; `await wait_closed()` waits for
    `handle()` to return and raises what escaped it. `app_closed` says whether the app closed."""

    __test__ = False  # not a pytest test class

    def __init__(self, app, timeout, peer):
        self.timeout = timeout
        self.peer = peer
        self.eof = False
        self.reset = False
        self.app_closed = False
        self.done = False
        self.error = None  # what escaped app.handle()
        self._pieces = []
        self._offset = 0
        self._rx = bytearray()  # what the app wrote and the test has not read yet
        self._app_wake = asyncio.Event()
        self._test_wake = asyncio.Event()
        stream = _AppSide(self)
        self.task = asyncio.create_task(self._serve(app, stream))

    async def _serve(self, app, stream):
        try:
            await app.handle(stream, stream)
        except BaseException as e:  # noqa: B036 - a test must see whatever escaped handle()
            self.error = e
        self.done = True
        self._test_wake.set()

    # -- sending --
    def send(self, data, step=None):
        """Queue `data` (bytes or str) for the app: one arrival, or arrivals of `step` bytes."""
        if type(data) is str:
            data = data.encode()
        if self.eof or self.reset:
            raise ProtocolError("send() after shutdown() or abort()")
        if not data:
            return
        if step is None:
            self._pieces.append(bytes(data))
        else:
            for i in range(0, len(data), step):
                self._pieces.append(bytes(data[i : i + step]))
        self._app_wake.set()

    def shutdown(self):
        """End the test's side of the connection: the app reads EOF after what was sent."""
        self.eof = True
        self._app_wake.set()

    def abort(self):
        """Reset the connection: the app's next read or write fails, as after a TCP RST."""
        self.reset = True
        self._pieces = []
        self._app_wake.set()
        self._test_wake.set()

    # -- receiving --
    async def _wait(self):
        self._test_wake.clear()
        await self._test_wake.wait()

    def _ended(self):
        return self.app_closed or self.done or self.reset

    async def _fill(self, n):
        """At least n unread bytes, or fewer when the app closed first; returns how many."""
        while len(self._rx) < n and not self._ended():
            await self._wait()
        return len(self._rx)

    def _take(self, n):
        data = bytes(self._rx[:n])
        self._rx[:n] = b""
        self._app_wake.set()  # room again, for a drain() waiting on it
        return data

    async def _line(self):
        """The next CRLF-terminated line (without the CRLF); ProtocolError at EOF."""
        scan = 0
        while True:
            i = self._rx.find(b"\r\n", scan)
            if i >= 0:
                line = self._take(i + 2)
                return line[:-2]
            scan = len(self._rx) - 1 if self._rx else 0
            if self._ended():
                raise ProtocolError("connection closed in the middle of a line: %r" % self._rx)
            await self._wait()

    async def _exactly(self, n):
        if await self._fill(n) < n:
            raise ProtocolError("connection closed %d bytes early" % (n - len(self._rx)))
        return self._take(n)

    async def _timed(self, coro, what):
        try:
            return await asyncio.wait_for(coro, self.timeout)
        except asyncio.TimeoutError:
            raise Timeout("%s within %s s (unread: %r)" % (what, self.timeout, bytes(self._rx)))

    async def read(self, n):
        """Exactly n bytes of what the app wrote (fewer only if it closed first)."""
        k = await self._timed(self._fill(n), "no %d bytes" % n)
        return self._take(k if k < n else n)

    async def read_all(self):
        """Everything the app writes until it closes the connection."""

        async def until_closed():
            while not self._ended():
                await self._wait()
            return self._take(len(self._rx))

        return await self._timed(until_closed(), "the app did not close the connection")

    async def response(self, head=False, informational=False):
        """The next response. `head`: it answers a HEAD request (no body). Interim responses
        (100 Continue) are skipped unless `informational`."""
        return await self._timed(self._response(head, informational), "no complete response")

    async def _response(self, head, informational, stream=False):
        while True:
            r = await self._head()
            if r.status >= 200 or r.status == 101 or informational:  # 101: the last HTTP
                break
        te = r.headers.get("Transfer-Encoding")
        if te is not None and te.lower() != "chunked":
            raise ProtocolError("unknown Transfer-Encoding %r" % te)
        length = r.headers.get("Content-Length")
        if length is not None:
            if not length.isdigit():
                raise ProtocolError("bad Content-Length %r" % length)
            length = int(length)
        if head or r.status < 200 or r.status == 204 or r.status == 304:
            body = _Body(self, 0, False)
        else:
            body = _Body(self, length, te is not None)
        if stream:
            return r, body
        parts = []
        while True:
            data = await body.next()
            if data is None:
                break
            parts.append(data)
        r.body = b"".join(parts)
        return r

    async def _head(self):
        line = await self._line()
        words = line.split(b" ", 2)
        if len(words) < 2 or not words[0].startswith(b"HTTP/1.") or not words[1].isdigit():
            raise ProtocolError("not a status line: %r" % line)
        if len(words[1]) != 3:
            raise ProtocolError("not a status line: %r" % line)
        fields = []
        while True:
            line = await self._line()
            if not line:
                break
            colon = line.find(b":")
            if colon <= 0:
                raise ProtocolError("malformed header line %r" % line)
            fields.append((line[:colon].decode(), line[colon + 1 :].strip().decode()))
        reason = words[2].decode() if len(words) > 2 else ""
        return TestResponse(int(words[1]), Headers(fields), b"", reason, words[0].decode())

    async def wait_closed(self):
        """Wait until `handle()` has returned; raise what escaped it, if anything did."""

        async def until_done():
            while not self.done:
                await self._wait()

        await self._timed(until_done(), "app.handle() did not return")
        if self.error is not None:
            raise self.error


class _Body:
    """A response body as it arrives: `await next()` gives the next piece, None at its end."""

    def __init__(self, conn, length, chunked):
        self.conn = conn
        self.left = length  # bytes left (Content-Length), or None: until the connection closes
        self.chunked = chunked
        self.done = False

    async def next(self):
        if self.done:
            return None
        c = self.conn
        if self.chunked:
            line = await c._line()
            semi = line.find(b";")
            size = (line if semi < 0 else line[:semi]).strip()
            try:
                n = int(size, 16)
            except ValueError:
                raise ProtocolError("bad chunk size line %r" % line)
            if n == 0:
                while await c._line():  # trailers
                    pass
                self.done = True
                return None
            data = await c._exactly(n)
            if await c._line() != b"":
                raise ProtocolError("chunk data not followed by CRLF")
            return data
        if self.left is None:  # until the connection closes
            k = await c._fill(1)
            if not k:
                self.done = True
                return None
            return c._take(k)
        if not self.left:
            self.done = True
            return None
        k = await c._fill(1)
        if not k:
            raise ProtocolError("connection closed %d bytes before the end of the body" % self.left)
        data = c._take(k if k < self.left else self.left)
        self.left -= len(data)
        return data


# -- responses ----------------------------------------------------------------------------------


class Headers:
    """Response header fields in the order received; names compare case-insensitively."""

    def __init__(self, fields):
        self._fields = fields  # [(name, value)] as str

    def get(self, name, default=None):
        """The first value of `name`, or `default`."""
        name = name.lower()
        for k, v in self._fields:
            if k.lower() == name:
                return v
        return default

    def getlist(self, name):
        """Every value of `name` (e.g. each Set-Cookie)."""
        name = name.lower()
        return [v for k, v in self._fields if k.lower() == name]

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return self.get(name) is not None

    def __len__(self):
        return len(self._fields)

    def items(self):
        return list(self._fields)

    def __repr__(self):
        return "Headers(%r)" % (self._fields,)


class TestResponse:
    """`status` (int), `reason`, `headers` (`Headers`), `body` (bytes), `text`, `json()`."""

    __test__ = False

    def __init__(self, status, headers, body=b"", reason="", version="HTTP/1.1"):
        self.status = status
        self.headers = headers
        self.body = body
        self.reason = reason
        self.version = version

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        body = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        return "<TestResponse %d %r %r>" % (self.status, self.headers.items(), body)


# -- the client ---------------------------------------------------------------------------------


class TestClient:
    """Sends requests to `app` in-process. `timeout`: seconds any one exchange may take before
    `Timeout` is raised (a test never hangs). `cookies`: name -> value, sent with every request
    and updated from each response's Set-Cookie (Max-Age=0 deletes; Path is honoured)."""

    __test__ = False

    def __init__(self, app, cookies=None, timeout=5, host="localhost"):
        self.app = app
        self.cookies = dict(cookies) if cookies else {}
        self.timeout = timeout
        self.host = host
        self._paths = {}  # cookie name -> its Path, when not "/"
        self._port = 40000

    def connect(self):
        """A new raw connection to the app (`TestConnection`). Call it inside a coroutine."""
        self._port += 1
        return TestConnection(self.app, self.timeout, ("127.0.0.1", self._port))

    def encode(self, method, path, headers=None, body=None, json=None, form=None, chunked=False):
        """The request as bytes (what `request()` sends): HTTP/1.1, with Host, the cookies that
        apply to `path`, and Content-Length or chunked framing for the body."""
        fields = _field_list(headers)
        names = [k.lower() for k, _ in fields]
        if json is not None:
            import json as _json

            body = _json.dumps(json)
            if "content-type" not in names:
                fields.append(("Content-Type", "application/json"))
        elif form is not None:
            body = urlencode(form)
            if "content-type" not in names:
                fields.append(("Content-Type", "application/x-www-form-urlencoded"))
        if "host" not in names:
            fields.insert(0, ("Host", self.host))
        cookie = self._cookie_header(path)
        if cookie:
            fields.append(("Cookie", cookie))
        if chunked:
            chunks = [body] if type(body) in (bytes, bytearray, str) else list(body or ())
            body = b"".join(b"%x\r\n%s\r\n" % (len(c), _bytes(c)) for c in chunks if c)
            body += b"0\r\n\r\n"
            fields.append(("Transfer-Encoding", "chunked"))
        else:
            body = _bytes(body) if body is not None else b""
            if (body or method in ("POST", "PUT", "PATCH")) and "content-length" not in names:
                fields.append(("Content-Length", str(len(body))))
        lines = ["%s %s HTTP/1.1" % (method, path)]
        for k, v in fields:
            lines.append("%s: %s" % (k, v))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def request(
        self, method, path, headers=None, body=None, json=None, form=None, chunked=False
    ):
        """Send one request on a new connection; return its `TestResponse`.

        `body`: bytes or str; `json`: sent as JSON; `form`: a dict (or pairs) sent urlencoded;
        `chunked`: send `body` (bytes, or a list of chunks) with Transfer-Encoding: chunked.
        `headers`: a dict, or a list of (name, value) pairs to repeat a field."""
        conn = self.connect()
        conn.send(self.encode(method, path, headers, body, json, form, chunked))
        r = await conn.response(head=method == "HEAD")
        conn.shutdown()
        await conn.wait_closed()
        extra = await conn.read_all()
        if extra:
            raise ProtocolError("%d bytes after the response: %r" % (len(extra), extra[:100]))
        self._keep_cookies(r)
        return r

    async def get(self, path, headers=None):
        return await self.request("GET", path, headers)

    async def head(self, path, headers=None):
        return await self.request("HEAD", path, headers)

    async def options(self, path, headers=None):
        return await self.request("OPTIONS", path, headers)

    async def delete(self, path, headers=None):
        return await self.request("DELETE", path, headers)

    async def post(self, path, headers=None, body=None, json=None, form=None, chunked=False):
        return await self.request("POST", path, headers, body, json, form, chunked)

    async def put(self, path, headers=None, body=None, json=None, form=None, chunked=False):
        return await self.request("PUT", path, headers, body, json, form, chunked)

    async def patch(self, path, headers=None, body=None, json=None, form=None, chunked=False):
        return await self.request("PATCH", path, headers, body, json, form, chunked)

    async def websocket(self, path, headers=None, protocols=None):
        """Open a WebSocket to `path`: a `TestWebSocket`; `HandshakeError` if not answered 101.
        `protocols`: subprotocols to offer (the one the app chose is `ws.protocol`)."""
        fields = _field_list(headers)
        fields += [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", _WS_KEY.decode()),
            ("Sec-WebSocket-Version", "13"),
        ]
        if protocols:
            fields.append(("Sec-WebSocket-Protocol", ", ".join(protocols)))
        conn = self.connect()
        conn.send(self.encode("GET", path, fields))
        r = await conn.response()
        self._keep_cookies(r)
        if r.status != 101:
            conn.shutdown()
            await conn.wait_closed()
            raise HandshakeError(r)
        if r.headers.get("Sec-WebSocket-Accept") != _WS_ACCEPT:
            raise ProtocolError("wrong Sec-WebSocket-Accept: %r" % r.headers.items())
        return TestWebSocket(conn, r)

    async def sse(self, path, headers=None, last_event_id=None):
        """GET an event stream: a `TestEventStream` (check `stream.response.status`)."""
        fields = _field_list(headers)
        fields.append(("Accept", "text/event-stream"))
        if last_event_id is not None:
            fields.append(("Last-Event-ID", str(last_event_id)))
        conn = self.connect()
        conn.send(self.encode("GET", path, fields))
        r, body = await conn._timed(conn._response(False, False, True), "no response head")
        self._keep_cookies(r)
        return TestEventStream(conn, r, body)

    # -- cookies --
    def _cookie_header(self, path):
        q = path.find("?")
        if q >= 0:
            path = path[:q]
        pairs = []
        for name, value in self.cookies.items():
            p = self._paths.get(name, "/")
            if path == p or path.startswith(p if p.endswith("/") else p + "/"):
                pairs.append(name + "=" + value)
        return "; ".join(pairs)

    def _keep_cookies(self, r):
        for line in r.headers.getlist("Set-Cookie"):
            attrs = line.split(";")
            eq = attrs[0].find("=")
            if eq <= 0:
                continue
            name = attrs[0][:eq].strip()
            value = attrs[0][eq + 1 :].strip()
            path = "/"
            delete = False
            for a in attrs[1:]:
                a = a.strip()
                low = a.lower()
                if low.startswith("max-age="):
                    try:
                        delete = int(a[8:]) <= 0
                    except ValueError:
                        pass
                elif low.startswith("path="):
                    path = a[5:] or "/"
            if delete:
                self.cookies.pop(name, None)
                self._paths.pop(name, None)
            else:
                self.cookies[name] = value
                if path == "/":
                    self._paths.pop(name, None)
                else:
                    self._paths[name] = path


# -- WebSocket ----------------------------------------------------------------------------------

TEXT = 1
BINARY = 2
CLOSE = 8
PING = 9
PONG = 10


def frame(opcode, payload=b"", fin=True, mask=b"\x37\xfa\x21\x3d", rsv=0, form=None):
    """One WebSocket frame as bytes. `mask`: 4 bytes, or None for an unmasked frame; `form`: 126
    or 127 to force the 16- or 64-bit length field."""
    payload = _bytes(payload)
    n = len(payload)
    head = bytearray(((0x80 if fin else 0) | (rsv << 4) | opcode, 0))
    if form == 127 or (form is None and n >= 65536):
        head[1] = 127
        head += n.to_bytes(8, "big")
    elif form == 126 or (form is None and n >= 126):
        head[1] = 126
        head += n.to_bytes(2, "big")
    else:
        head[1] = n
    if mask is None:
        return bytes(head) + payload
    head[1] |= 0x80
    masked = bytearray(payload)
    for i in range(n):
        masked[i] ^= mask[i & 3]
    return bytes(head) + mask + bytes(masked)


class TestWebSocket:
    """The test's end of an accepted WebSocket: `send`, `receive`, `ping`, `close`, and
    `send_frame` / `receive_frame` for frames the app should refuse or for its control frames.
    `close_code` / `close_reason` are set once a close frame came from the app."""

    __test__ = False

    def __init__(self, conn, response):
        self.conn = conn
        self.response = response
        self.protocol = response.headers.get("Sec-WebSocket-Protocol")
        self.close_code = None
        self.close_reason = None
        self._sent_close = False
        self._masks = 0

    def _mask(self):
        self._masks += 1
        k = self._masks * 2654435761 & 0xFFFFFFFF  # a different mask for each frame
        return k.to_bytes(4, "big")

    async def send_frame(
        self, opcode, payload=b"", fin=True, mask=True, rsv=0, form=None, step=None
    ):
        """Send one frame (see `frame`). `mask`: True (a fresh key), False (unmasked: the app
        must refuse it) or 4 bytes; `step`: deliver the frame in arrivals of `step` bytes."""
        if mask is True:
            mask = self._mask()
        elif mask is False:
            mask = None
        self.conn.send(frame(opcode, payload, fin, mask, rsv, form), step)

    async def send(self, message):
        """A text (str) or binary (bytes) message, in one frame."""
        await self.send_frame(TEXT if type(message) is str else BINARY, message)

    async def ping(self, data=b""):
        await self.send_frame(PING, data)

    async def receive_frame(self):
        """(opcode, fin, payload bytes) of the next frame from the app; `WebSocketClosed(1006)`
        when the connection ends first."""
        return await self.conn._timed(self._frame(), "no WebSocket frame")

    async def _frame(self):
        c = self.conn
        if await c._fill(2) < 2:
            raise WebSocketClosed(1006)
        b0, b1 = c._take(2)
        if b1 & 0x80:
            raise ProtocolError("the app sent a masked frame")
        n = b1 & 0x7F
        if n >= 126:
            k = 2 if n == 126 else 8
            if await c._fill(k) < k:
                raise WebSocketClosed(1006)
            n = int.from_bytes(c._take(k), "big")
        if await c._fill(n) < n:
            raise WebSocketClosed(1006)
        return b0 & 0x0F, bool(b0 & 0x80), c._take(n)

    async def receive(self):
        """The next message: str (text) or bytes (binary). Pings are answered with pongs.
        Raises `WebSocketClosed` when the app closes (its close is answered) or drops it."""
        return await self.conn._timed(self._receive(), "no WebSocket message")

    async def _receive(self):
        opcode = 0
        data = b""
        while True:
            op, fin, payload = await self._frame()
            if op == PING:
                if not self._sent_close:
                    await self.send_frame(PONG, payload)
                continue
            if op == PONG:
                continue
            if op == CLOSE:
                code = 1005
                reason = ""
                if len(payload) >= 2:
                    code = (payload[0] << 8) | payload[1]
                    reason = payload[2:].decode()
                self.close_code = code
                self.close_reason = reason
                if not self._sent_close:
                    self._sent_close = True
                    await self.send_frame(CLOSE, payload[:2])
                raise WebSocketClosed(code, reason)
            if op != 0:
                opcode = op
            data += payload
            if fin:
                return data.decode() if opcode == TEXT else data

    async def close(self, code=1000, reason=""):
        """Send a close frame, read up to the app's close frame, and wait for the connection to
        end; returns the app's close code."""
        if not self._sent_close:
            self._sent_close = True
            payload = bytes((code >> 8, code & 255)) + reason.encode()
            await self.send_frame(CLOSE, payload)
        try:
            while self.close_code is None:
                await self.receive()
        except WebSocketClosed:
            pass
        await self.wait_closed()
        return self.close_code

    async def wait_closed(self):
        """Shut down the test's side and wait for the app to end the connection."""
        self.conn.shutdown()
        await self.conn.wait_closed()


# -- Server-Sent Events -------------------------------------------------------------------------


class Event:
    """One server-sent event: `event` (None for a plain message), `data` (str; data lines
    joined with newlines), `id`, `retry` (int ms or None); `json()` parses `data`."""

    def __init__(self, event=None, data=None, id=None, retry=None):
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry

    def json(self):
        return json.loads(self.data)

    def __repr__(self):
        return "Event(event=%r, data=%r, id=%r, retry=%r)" % (
            self.event,
            self.data,
            self.id,
            self.retry,
        )


class TestEventStream:
    """An event stream as an EventSource reads it: `await next()` (None when the app ends the
    stream), `async for event in stream`, `await close()` (the client goes away). `response` is
    the head; `comments` counts comment lines (keep-alives)."""

    __test__ = False

    def __init__(self, conn, response, body):
        self.conn = conn
        self.response = response
        self.comments = 0
        self._body = body
        self._buf = b""

    async def next(self):
        return await self.conn._timed(self._next(), "no event")

    async def _next(self):
        fields = {}
        data = []
        while True:
            i = self._buf.find(b"\n")
            if i < 0:
                piece = await self._body.next()
                if piece is None:
                    return None
                self._buf += piece
                continue
            line = self._buf[:i]
            self._buf = self._buf[i + 1 :]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if fields or data:
                    retry = fields.get("retry")
                    return Event(
                        fields.get("event"),
                        "\n".join(data) if data else None,
                        fields.get("id"),
                        int(retry) if retry is not None and retry.isdigit() else None,
                    )
                continue
            if line[0] == 58:  # ":"
                self.comments += 1
                continue
            colon = line.find(b":")
            name = line if colon < 0 else line[:colon]
            value = b"" if colon < 0 else line[colon + 1 :]
            if value.startswith(b" "):
                value = value[1:]
            if name == b"data":
                data.append(value.decode())
            else:
                fields[name.decode()] = value.decode()

    def __aiter__(self):
        return self

    async def __anext__(self):
        event = await self.next()
        if event is None:
            raise StopAsyncIteration
        return event

    async def close(self):
        """Go away, as a closed browser tab does; waits for the app to end the connection."""
        self.conn.shutdown()
        await self.conn.wait_closed()


# -- bodies -------------------------------------------------------------------------------------


def _bytes(data):
    if type(data) is str:
        return data.encode()
    return bytes(data)


def _field_list(headers):
    if headers is None:
        return []
    if type(headers) is dict:
        return list(headers.items())
    return list(headers)


_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def quote(text):
    """Percent-encode `text` (str or bytes) for a query string or form: unreserved characters
    stay, a space becomes `+`."""
    out = []
    for c in _bytes(text):
        if _SAFE.find(bytes((c,))) >= 0:
            out.append(chr(c))
        elif c == 32:
            out.append("+")
        else:
            out.append("%%%02X" % c)
    return "".join(out)


def urlencode(fields):
    """`a=1&b=x+y` from a dict or a list of (name, value) pairs."""
    return "&".join(quote(k) + "=" + quote(str(v)) for k, v in _field_list(fields))


def multipart(fields, boundary="ember-test-boundary"):
    """(body bytes, Content-Type value) of a multipart/form-data body. `fields`: a dict or
    (name, value) pairs; a value is str/bytes (a field) or (filename, data[, content_type])."""
    out = []
    for name, value in _field_list(fields):
        out.append(b"--%s\r\n" % boundary.encode())
        disp = 'Content-Disposition: form-data; name="%s"' % name
        if type(value) is tuple:
            disp += '; filename="%s"' % value[0]
            ctype = value[2] if len(value) > 2 else "application/octet-stream"
            out.append(("%s\r\nContent-Type: %s\r\n\r\n" % (disp, ctype)).encode())
            value = value[1]
        else:
            out.append(disp.encode() + b"\r\n\r\n")
        out.append(_bytes(value) + b"\r\n")
    out.append(b"--%s--\r\n" % boundary.encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary
