"""Request bodies: Content-Length or chunked, read through the connection's buffer."""

from .http import CONTINUE, HTTPError


# No chunked body is larger than this (and so no chunk size has more than 8 hex digits).
MAX_CHUNKED = 0xFFFFFFFF


def chunk_size(field):
    """A chunk-size field (hex digits, optional spaces around) as an int; -1 when malformed.

    Checked digit by digit: int(field, 16) would take "0x10", "+a" or "1_0", and would build a
    big int from any number of digits; more than 8 significant ones is refused as too large."""
    field = field.strip()
    size = 0
    digits = 0
    for c in field:
        if 48 <= c <= 57:
            c -= 48
        elif 97 <= (c | 32) <= 102:
            c = (c | 32) - 87
        else:
            return -1
        if size or c:
            digits += 1
            if digits > 8:
                return MAX_CHUNKED + 1
        size = size * 16 + c
    return size if field else -1


class BodyReader:
    """Reads a request body (Content-Length or chunked) from the connection's buffer and socket.

    A framing error ends keep-alive: after it, nobody knows where the next request starts."""

    def __init__(self, req, length, expect_continue):
        self.req = req
        self.conn = req.conn
        self.chunked = length is None
        self.left = 0 if self.chunked else length  # bytes left in the body, or in this chunk
        self.done = False
        self.expect_continue = expect_continue
        # Chunked: the most the reader takes in all (`req.body()` sets max_body), and the sizes
        # announced so far. A chunk beyond it is refused at its size line, before its data.
        self.cap = MAX_CHUNKED
        self.announced = 0

    async def finish(self):
        """Skip what the handler left of the body, so the next request starts at its head.
        False when the connection must close instead."""
        if self.done:
            return True
        if self.expect_continue:  # the client waits for 100 before sending: it sends nothing now
            return False
        return await self.discard(65536)  # larger: the connection closes instead

    async def _next_chunk(self):
        """Read a chunk-size line; at the last chunk, skip trailers and finish."""
        conn = self.conn
        if self.left is None:  # CRLF that ends the previous chunk's data
            if await conn.line(2) != b"":
                self._bad("bad chunk")
        line = await conn.line(64)
        semi = line.find(b";")  # chunk extensions are ignored
        size = chunk_size(line if semi < 0 else line[:semi])
        if size < 0:
            self._bad("bad chunk size")
        self.announced += size
        if self.announced > self.cap:
            self.req.keep_alive = False
            self.done = True
            raise HTTPError(413)
        self.left = size
        if size == 0:
            while await conn.line(conn.app.max_header_line):
                pass
            self.done = True

    async def _ready(self):
        """Bytes available in the current chunk or body (0 at the end)."""
        if self.done:
            return 0
        if self.expect_continue:
            self.expect_continue = False
            try:
                await self.conn.send(CONTINUE)
            except OSError:  # the client is gone (reset): its body ends here
                self._bad("body ended early")
        if not self.left:  # 0, or None between chunks
            if not self.chunked:
                self.done = True
                return 0
            try:
                await self._next_chunk()
            except HTTPError as e:
                if e.status != 400:  # 413: already refused
                    raise
                self._bad(e.reason)
            except (EOFError, OSError):  # the client stopped sending, or reset the connection
                self._bad("body ended early")
            if self.done:
                return 0
        return self.left

    async def read(self, n=1024):
        """Up to n bytes of body; b"" at its end."""
        left = await self._ready()
        if not left:
            return b""
        try:
            data = await self.conn.read(n if n < left else left)
        except (EOFError, OSError):  # the client stopped sending (or reset): 400 if it still
            self._bad("body ended early")  # listens, then close
        self._consumed(len(data))
        return data

    async def readinto(self, buf):
        """Fill up to len(buf) bytes of `buf`; 0 at the end of the body."""
        left = await self._ready()
        if not left:
            return 0
        if len(buf) > left:
            buf = memoryview(buf)[:left]
        try:
            n = await self.conn.readinto(buf)
        except (EOFError, OSError):
            self._bad("body ended early")
        self._consumed(n)
        return n

    def _bad(self, reason):
        self.req.keep_alive = False
        self.done = True
        raise HTTPError(400, reason)

    def _consumed(self, n):
        if not n:
            self._bad("body ended early")
        self.left -= n
        if self.chunked and self.left == 0:
            self.left = None  # the chunk's trailing CRLF comes next

    def __aiter__(self):
        return self

    async def __anext__(self):
        data = await self.read(1024)
        if not data:
            raise StopAsyncIteration
        return data

    async def discard(self, limit):
        """Skip the rest of the body, at most `limit` bytes; False when more remain."""
        while limit > 0:
            left = await self._ready()
            if not left:
                return True
            n = len(await self.conn.read(left if left < 512 else 512))
            self._consumed(n)
            limit -= n
        return self.done


class _Empty:
    """The stream of a request without a body."""

    done = True

    async def read(self, n=0):
        return b""

    async def readinto(self, buf):
        return 0

    def __aiter__(self):
        return self

    async def __anext__(self):
        raise StopAsyncIteration


EMPTY = _Empty()
