"""One client connection: a fixed buffer over the socket, reads and writes with deadlines."""

from builtins import bytes, len  # as globals: found at once (see ember.protocol)

from .http import HTTPError
from .runtime import sleep_ms, ticks_add, ticks_diff, ticks_ms

_yielded = 0  # ticks_ms() when a send last yielded to the other tasks (see Connection.send)


def compact(mv, start, end):
    """Move `mv[start:end]` to the front of `mv`; returns its length.

    In steps no longer than the gap: the copies must not overlap (a memoryview slice assignment
    is a plain memcpy on MicroPython)."""
    n = end - start
    i = 0
    while i < n:
        k = n - i if n - i < start else start
        mv[i : i + k] = mv[start + i : start + i + k]
        i += k
    return n


class Connection:
    """Bytes flow through `buf` (a pooled bytearray): `buf[start:end]` is read but not consumed.

    Leftover bytes after a request's head stay there for its body or the next pipelined request.
    `deadline` (ticks_ms, or None) is checked by the server's watchdog, which cancels `task` (the
    one serving it) when a read or write outlives it. Under ember's listener a Connection is a
    connection slot: made once, then `reset` for each client it serves."""

    def __init__(self, app, buf):
        self.app = app
        self.buf = buf
        self.mv = memoryview(buf)
        self.task = None
        self.idle = False  # waiting for its next client: set by its worker, cleared by the listener
        self.reset()

    def reset(self, reader=None, writer=None, sock=None):
        """Start over with a new client's streams; without them, drop the last client's.

        Every attribute is set here or in __init__, so the instance's dict never grows while
        serving. (Twelve: one more would grow MicroPython's dict for them to 17 entries.)"""
        self.reader = reader
        self.writer = writer  # its get_extra_info("peername") is the client's address
        self.sock = sock  # where ember's listener accepted it: closing it allocates nothing
        self.start = 0
        self.end = 0
        self.deadline = None
        self.timed_out = False

    def expire_in(self, ms):
        self.deadline = ticks_add(ticks_ms(), ms)

    async def fill(self):
        """Read more bytes after `end`, compacting first; returns how many (0 at EOF)."""
        if self.start:
            self.end = compact(self.mv, self.start, self.end)
            self.start = 0
        end = self.end
        if end == len(self.buf):
            return -1
        while True:
            n = await self.reader.readinto(self.mv[end:])
            if n is not None:
                break
        self.end = end + n
        return n

    def next_head(self):
        """What the protocol asks before each request, in one call (calls cost the most common
        request more than anything else it does): the next head (bytes) when the buffer holds
        all of it; else, when it holds nothing, the whole buffer, rewound (the bytearray), to
        read into before `take_head(n)`; else None: part of a head is there, `head()` waits for
        the rest."""
        if self.start != self.end:
            head = self.take_head()
            if head is not None or self.start != self.end:  # else only blank lines were there
                return head
        self.start = self.end = 0
        return self.buf

    def take_head(self, received=0):
        """The next request's head if the buffer holds all of it (bytes, without the blank
        line), else None. `received`: bytes just read into the buffer `next_head` returned."""
        self.end += received
        buf = self.buf
        start = self.start
        # Ignore blank lines before a request (RFC 9112 §2.2), e.g. after a POST body.
        while self.end - start >= 2 and buf[start] == 13 and buf[start + 1] == 10:
            start += 2
        self.start = start
        i = buf.find(b"\r\n\r\n", start, self.end)
        if i < 0:
            return None
        self.start = i + 4
        return bytes(self.mv[start:i])

    async def head(self):
        """Wait for the rest of a head that arrives in pieces (`take_head` found none).

        Enforces the request-line and head-size limits while reading: the buffer is the limit."""
        app = self.app
        buf = self.buf
        self.deadline = ticks_add(ticks_ms(), app.header_ms)
        while True:
            head = self.take_head()
            if head is not None:
                return head
            if buf.find(b"\n", self.start, self.end) < 0:
                if self.end - self.start > app.max_request_line:
                    raise HTTPError(414)
            elif buf.find(b"\n\n", self.start, self.end) >= 0:
                raise HTTPError(400, "lines must end with CRLF")
            n = await self.fill()
            if n < 0:
                if buf.find(b"\n", 0, self.end) < 0:
                    raise HTTPError(414)
                raise HTTPError(431, "request head too large")
            if n == 0:
                raise EOFError

    async def line(self, limit):
        """A CRLF-terminated line of at most `limit` bytes (body framing: chunk sizes, trailers)."""
        scan = self.start
        while True:
            i = self.buf.find(b"\r\n", scan, self.end)
            if i >= 0:
                if i - self.start > limit:
                    raise HTTPError(400, "line too long")
                line = bytes(self.mv[self.start : i])
                self.start = i + 2
                return line
            if self.end - self.start > limit + 1:
                raise HTTPError(400, "line too long")
            scan = max(self.start, self.end - 1) - self.start
            self.expire_in(self.app.io_ms)
            n = await self.fill()
            self.deadline = None
            if n <= 0:
                raise EOFError

    async def read(self, n):
        """Up to n bytes (at least 1); EOFError when the peer has closed."""
        if self.start == self.end:
            self.expire_in(self.app.io_ms)
            got = await self.fill()
            self.deadline = None
            if got <= 0:
                raise EOFError
        start = self.start
        k = self.end - start
        if k > n:
            k = n
        self.start = start + k
        return bytes(self.mv[start : start + k])

    async def readinto(self, dest):
        """Fill up to len(dest) bytes; large reads go straight from the socket into `dest`."""
        k = self.end - self.start
        if k:
            if k > len(dest):
                k = len(dest)
            dest[:k] = self.mv[self.start : self.start + k]
            self.start += k
            return k
        self.expire_in(self.app.io_ms)
        while True:
            k = await self.reader.readinto(dest)
            if k is not None:
                break
        self.deadline = None
        if not k:
            raise EOFError
        return k

    async def send(self, data, more=None):
        """Write `data` (then `more`, without joining them) and drain, under the I/O deadline.

        Under ember's listener the socket takes the bytes first: what it takes whole needs no
        deadline and no drain. drain() would then yield to the other tasks at every send; this
        yields at most every millisecond instead, so that a loop of sends still cannot hold the
        scheduler, but a handler that awaits something else anyway (an event source, a timer)
        does not pay a scheduler round and a poll of every socket for each send."""
        global _yielded
        sock = self.sock
        if sock is not None:
            n = sock.write(data)
            if more is not None and n == len(data):
                data, more = more, None
                n = sock.write(data)
            if n == len(data):
                n = ticks_ms()
                if ticks_diff(n, _yielded) > 0:
                    _yielded = n
                    await sleep_ms(0)
                return
            if n:  # the rest through the stream
                data = data[n:]
        self.expire_in(self.app.io_ms)
        w = self.writer
        w.write(data)
        if more is not None:
            w.write(more)
        await w.drain()
        self.deadline = None

    # -- the buffer, for the protocol's inline read and for streams that take the connection over
    def buffered(self):
        """How many bytes are buffered that nothing has consumed yet."""
        return self.end - self.start

    def rewind(self):
        """Drop whatever is buffered; the whole buffer, to read into from its start."""
        self.start = self.end = 0
        return self.buf

    def byte(self):
        """Consume one buffered byte (the caller knows one is there), as an int."""
        self.start += 1
        return self.buf[self.start - 1]

    async def close(self):
        w = self.writer
        try:
            w.close()
            await w.wait_closed()
        except Exception:  # the peer may already be gone: nothing left to do
            pass
