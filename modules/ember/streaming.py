"""Streamed response bodies: iterators, generators and async iterators, chunk by chunk."""

from .http import connection_header
from .runtime import print_exception


def stream_length(headers):
    """The Content-Length a handler set on a streamed response (e.g. a file), else None."""
    for name, value in headers.items():
        if name.lower() == "content-length":
            return int(value)
    return None


async def send_stream(conn, req, parts, body, keep, length=None):
    """Stream an iterator body: with a known `length` (its Content-Length header) as is, else
    chunked on HTTP/1.1, else until close."""
    chunked = length is None and req is not None and req.http11
    if chunked:
        parts.append(b"Transfer-Encoding: chunked\r\n")
    elif length is None:
        keep = False
    head_only = req is None or req.method == "HEAD"
    parts.append(connection_header(req, keep))
    await conn.send(b"".join(parts))
    if head_only:
        _close_iter(body)
        return keep
    it = _aiter(body)
    try:
        while True:
            try:
                chunk = await it.next()
            except (OSError, MemoryError):
                raise
            except Exception as e:  # the head is out: cut the stream short, the client sees it
                print_exception(e)
                return False
            if chunk is None:
                break
            if type(chunk) is str:
                chunk = chunk.encode()
            if not chunk:
                continue
            if chunked:
                chunk = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            elif length is not None:
                length -= len(chunk)
                if length < 0:  # more than announced: the framing is lost, close
                    return False
            await conn.send(chunk)
    finally:
        await it.close()
    if chunked:
        await conn.send(b"0\r\n\r\n")
    elif length:  # fewer bytes than announced: only closing tells the client
        return False
    return keep


class _aiter:
    """One interface over sync iterators/generators and async iterators."""

    def __init__(self, body):
        if hasattr(body, "__anext__") or hasattr(body, "__aiter__"):
            self.a = body.__aiter__() if hasattr(body, "__aiter__") else body
            self.s = None
        else:
            self.a = None
            self.s = iter(body)

    async def next(self):
        if self.s is not None:
            try:
                return next(self.s)
            except StopIteration:
                return None
        try:
            return await self.a.__anext__()
        except StopAsyncIteration:
            return None

    async def close(self):
        """Tell the producer we are done (also when the client went away): no task leaks."""
        if self.s is not None:
            _close_iter(self.s)
        elif hasattr(self.a, "aclose"):
            await self.a.aclose()


def _close_iter(body):
    close = getattr(body, "close", None)
    if close is not None:
        close()
