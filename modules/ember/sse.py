"""Server-Sent Events (the browser's EventSource): a text/event-stream response the handler
writes to as events happen.

    from ember.sse import with_sse

    @app.get("/events")
    @with_sse(keepalive=15)
    async def events(req, sse):
        n = int(sse.last_event_id or 0)  # a reconnecting browser says where it was
        while True:
            n += 1
            await sse.send({"n": n}, event="tick", id=n)
            await asyncio.sleep(1)

When the client goes away the handler is cancelled at whatever it awaits (a task watches the
socket for EOF), or `send()` raises OSError if a write fails first: clean up in `finally`. No task
outlives the stream. The response head goes through the app's after-request hooks (CORS,
cookies), is chunked on HTTP/1.1 and close-delimited on HTTP/1.0; the connection closes when the
stream ends (EventSource reconnects on its own, sending Last-Event-ID)."""

import asyncio
from builtins import len, str, type  # as globals: found at once (see ember.protocol)
import json

from .dispatch import awaited
from .response import Response, head_lines
from .takeover import Takeover

_HEAD = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


def with_sse(handler=None, **options):
    """Decorator: `async def handler(req, sse, **params)` writes to an open EventStream (options
    as for `open`); the stream is ended when the handler returns or the client goes away."""

    def wrap(handler):
        async def sse_handler(req, **params):
            try:
                sse = await open(req, **options)
            except OSError:  # the client left before the head went out: nobody to stream to
                return
            try:
                await handler(req, sse, **params)
            except asyncio.CancelledError:
                if not sse.gone:
                    raise
            except OSError:
                if not sse.gone:
                    raise
            finally:
                await sse.close()

        return sse_handler

    return wrap if handler is None else wrap(handler)


async def open(req, keepalive=None, retry=None, headers=None):
    """Send the 200 head and return the EventStream. `keepalive`: seconds between comment lines
    (keeps proxies and browsers from timing out an idle stream); `retry`: the reconnection delay
    (ms) to tell the browser; `headers`: extra response headers."""

    response = Response(b"", 200, dict(_HEAD))
    if headers:
        response.headers.update(headers)
    for hook in req.app.after:
        response = await awaited(hook(req, response)) or response
    sse = EventStream(req)
    sse.status = response.status  # for the access log (an after-request hook may change it)
    parts, _ = head_lines(response)
    if sse.chunked:
        parts.append(b"Transfer-Encoding: chunked\r\n")
    parts.append(b"Connection: close\r\n\r\n")
    req.owner = sse  # the connection is the stream's now: no response after the handler
    await req.conn.send(b"".join(parts))
    if req.method == "HEAD":
        sse.closed = sse.gone = True
        return sse
    if retry is not None:
        await sse.send(retry=retry)
    sse._start(keepalive)
    return sse


def encode(data=None, event=None, id=None, retry=None):
    """One event in text/event-stream format (bytes). `data`: str, bytes, or anything else as
    JSON; line breaks in it become several `data:` lines."""
    # Concatenated, not joined from a list: most events have no field before the data, and
    # a smaller frame stays off the heap.
    head = b""
    if event is not None:
        head = b"event: " + _field(event) + b"\n"
    if id is not None:
        id = _field(id)
        if b"\0" in id:
            raise ValueError("NUL in event id")
        head += b"id: " + id + b"\n"
    if retry is not None:
        head += b"retry: %d\n" % retry
    if data is None:
        return head + b"\n"
    t = type(data)
    if t is str:
        data = data.encode()
    elif t is not bytes:
        data = bytes(data) if t is bytearray or t is memoryview else json.dumps(data).encode()
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"\n" in data:
        data = data.replace(b"\n", b"\ndata: ")
    return head + b"data: " + data + b"\n\n"


def _field(value):
    value = value.encode() if type(value) is str else str(value).encode()
    if b"\n" in value or b"\r" in value:
        raise ValueError("line break in an SSE field")
    return value


class EventStream(Takeover):
    """An open event stream: `send()`, `comment()`, `close()`; `last_event_id` (the request's
    Last-Event-ID, or None); `gone` once the client has gone away; `closed` once ended."""

    def __init__(self, req):
        super().__init__(req.conn)
        self.last_event_id = req.headers.get("Last-Event-ID")
        self.chunked = req.http11
        self.closed = False
        self.gone = False
        self._task = req.conn.task  # the handler's task: cancelled when the client goes away
        self._watcher = None
        self._pinger = None

    async def send(self, data=None, event=None, id=None, retry=None):
        """Send one event (see `encode`); OSError when the client has gone away."""
        await self._write(encode(data, event, id, retry))

    async def comment(self, text=""):
        """A comment line (`: text`), which EventSource ignores: a keep-alive."""
        await self._write(b": " + _field(text) + b"\n\n")

    async def close(self):
        """End the stream (the terminating chunk, then the connection closes)."""
        if self.closed:
            return
        self._stop()
        if not self.gone and self.chunked:
            try:
                await self._write(b"", True)
            except OSError:
                pass
        self.closed = True

    def _write(self, data, last=False):
        """What to await to send `data` (the last chunk when `last`). Not a coroutine itself: a
        coroutine call costs a frame, and this is on the way of every event."""
        if self.closed:
            raise OSError(32)  # EPIPE
        if self.chunked:
            data = b"%x\r\n" % len(data) + data + b"\r\n" if not last else b"0\r\n\r\n"
        return self._send(data)  # a failed write calls _lost: _went_away

    # -- the tasks that notice a client going away --
    def _start(self, keepalive):
        self._watcher = asyncio.create_task(self._watch())
        if keepalive:
            self._pinger = asyncio.create_task(self._keepalive(keepalive))

    async def _watch(self):
        """An EventSource sends nothing after its request: EOF (or an error) means it left."""
        conn = self.conn
        try:
            while True:
                conn.rewind()  # whatever a client sends is dropped
                if await conn.fill() <= 0:
                    break
        except Exception:  # reset, or the socket closed under us: gone as well
            pass
        self._watcher = None
        self._went_away()

    async def _keepalive(self, interval):
        while True:
            await asyncio.sleep(interval)
            try:
                await self.comment()
            except OSError:
                self._pinger = None
                return

    def _went_away(self):
        """The client left: stop our tasks and cancel the handler (unless it is the one that
        found out, from a failed send)."""
        if self.gone or self.closed:
            return
        self.gone = True
        self._stop()
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    _lost = _went_away  # Takeover._send's hook: a write failed, the client is gone

    def connection_lost(self):
        """The server is closing the connection (the handler returned without `close()`): the
        stream ends, with its last chunk if the client is still there."""
        if self.closed:
            return
        self._stop()
        self.closed = True
        if self.chunked and not self.gone:
            try:
                self.conn.writer.write(b"0\r\n\r\n")
            except Exception:  # best effort: the connection closes either way
                pass

    def _stop(self):
        current = asyncio.current_task()
        for t in (self._watcher, self._pinger):
            if t is not None and t is not current:
                t.cancel()
        self._watcher = self._pinger = None
