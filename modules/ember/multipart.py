"""Streaming `multipart/form-data` parser: uploads of any size through one small window.

    from ember.multipart import parts

    @app.post("/upload")
    async def upload(req):
        async for part in parts(req):
            if part.filename is None:
                value = await part.text()          # a field: capped at max_field (413)
            else:
                size = await part.save("/data/fw.bin")   # or: async for chunk in part: ...

A part that the handler does not read is skipped. Errors: not multipart -> 415; no boundary,
malformed or truncated body -> 400; more than `max_parts` parts or a field read over
`max_field` bytes -> 413. `part.filename` comes from the client: never use it as a path as is."""

from .connection import compact
from .http import HTTPError


def parts(req, max_parts=16, max_field=1024, window=512):
    """An async iterator over the parts of `req`'s multipart body (see the module doc)."""
    return Parser(req, max_parts, max_field, window)


def _boundary(ctype):
    if ctype is None:
        raise HTTPError(415, "expected multipart/form-data")
    semi = ctype.find(b";")
    if semi < 0 or ctype[:semi].strip().lower() != b"multipart/form-data":
        if ctype.strip().lower() == b"multipart/form-data":
            raise HTTPError(400, "multipart boundary missing")
        raise HTTPError(415, "expected multipart/form-data")
    try:
        params = _params(ctype[semi:].decode())
    except UnicodeError:  # a boundary is ASCII (RFC 2046): these bytes hold none
        raise HTTPError(400, "multipart boundary missing or invalid")
    b = params.get("boundary")
    if not b or len(b) > 70:
        raise HTTPError(400, "multipart boundary missing or invalid")
    return b.encode()


def _params(text):
    """`; a=1; b="x;y"` -> {"a": "1", "b": "x;y"} (names lowercased; quotes and escapes undone)."""
    out = {}
    i = 0
    n = len(text)
    while i < n:
        while i < n and text[i] in "; \t":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        name = text[i:eq].strip().lower()
        i = eq + 1
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            i += 1
            value = "".join(value)
        else:
            semi = text.find(";", i)
            if semi < 0:
                semi = n
            value = text[i:semi].strip()
            i = semi
        out[name] = value
    return out


class Parser:
    """Reads the body through `buf`: `buf[start:end]` holds bytes read but not yet consumed."""

    def __init__(self, req, max_parts, max_field, window):
        self.req = req
        self.delim = b"\r\n--" + _boundary(req.raw_headers.get(b"content-type"))
        self.stream = req.stream()
        self.max_parts = max_parts
        self.max_field = max_field
        self.buf = bytearray(window + len(self.delim) + 4)
        self.mv = memoryview(self.buf)
        # The first boundary has no CRLF before it: supply one, so every delimiter looks alike.
        self.buf[0:2] = b"\r\n"
        self.start = 0
        self.end = 2
        self.eof = False
        self.count = 0
        self.part = None
        self.finished = False

    def _bad(self, status, reason):
        self.req.keep_alive = False
        self.finished = True
        raise HTTPError(status, reason)

    async def _fill(self):
        """Compact and read more; sets `eof` at the end of the body."""
        if self.start:
            self.end = compact(self.mv, self.start, self.end)
            self.start = 0
        if self.end == len(self.buf):
            return
        try:
            n = await self.stream.readinto(self.mv[self.end :])
        except EOFError:  # the client stopped sending before the end
            n = 0
            self.req.keep_alive = False
        if not n:
            self.eof = True
        self.end += n

    async def _need(self, k):
        """At least k unread bytes in the buffer, else 400 (the body ended)."""
        while self.end - self.start < k:
            if self.eof:
                self._bad(400, "multipart body truncated")
            await self._fill()

    async def _chunk(self, limit):
        """(offset, length) of the current part's next data in `buf`; length 0 at its end."""
        delim = self.delim
        while True:
            buf = self.buf
            i = buf.find(delim, self.start, self.end)
            if i < 0:
                i = self.end - len(delim) + 1  # a delimiter may begin after here
                if i <= self.start:
                    if self.eof:
                        self._bad(400, "multipart body truncated")
                    await self._fill()
                    continue
            start = self.start
            n = i - start
            if n > limit:
                n = limit
            self.start = start + n
            return start, n

    def __aiter__(self):
        return self

    async def __anext__(self):
        part = self.part
        if part is not None:
            while not part.done:  # skip what the handler left unread
                await part._next(len(self.buf))
            self.part = None
        if self.finished:
            raise StopAsyncIteration
        delim = self.delim
        if self.count == 0:  # skip any preamble up to the first delimiter
            while True:
                i = self.buf.find(delim, self.start, self.end)
                if i >= 0:
                    self.start = i
                    break
                if self.eof:
                    self._bad(400, "multipart boundary not found")
                keep = self.end - len(delim) + 1
                if keep > self.start:
                    self.start = keep
                await self._fill()
        await self._need(len(delim) + 2)
        s = self.start + len(delim)
        tail = bytes(self.mv[s : s + 2])
        if tail == b"--":  # the closing delimiter; the epilogue is ignored
            self.finished = True
            raise StopAsyncIteration
        if tail != b"\r\n":
            self._bad(400, "malformed multipart delimiter")
        self.start = s + 2
        self.count += 1
        if self.count > self.max_parts:
            self._bad(413, "too many multipart parts")
        while True:  # the part's headers, which must fit in the buffer
            i = self.buf.find(b"\r\n\r\n", self.start, self.end)
            if i >= 0:
                break
            if self.start == 0 and self.end == len(self.buf):
                self._bad(400, "multipart part headers too large")
            if self.eof:
                self._bad(400, "multipart body truncated")
            await self._fill()
        try:
            head = bytes(self.mv[self.start : i]).decode()
        except UnicodeError:
            self._bad(400, "multipart part headers not UTF-8")
        self.start = i + 4
        self.part = Part(self, head)
        return self.part


class Part:
    """One part: `name`, `filename` (None for a plain field), `content_type`, `headers`."""

    def __init__(self, parser, head):
        self.parser = parser
        self.headers = {}
        self.done = False
        for line in head.split("\r\n"):
            colon = line.find(":")
            if colon <= 0:
                parser._bad(400, "malformed multipart part header")
            self.headers[line[:colon].strip().lower()] = line[colon + 1 :].strip()
        disp = self.headers.get("content-disposition", "")
        semi = disp.find(";")
        if semi < 0 or disp[:semi].strip().lower() != "form-data":
            parser._bad(400, "multipart part without form-data Content-Disposition")
        params = _params(disp[semi:])
        self.name = params.get("name")
        self.filename = params.get("filename")
        self.content_type = self.headers.get("content-type", "text/plain")

    async def _next(self, limit):
        """(offset, length) of the next data in the parser's buffer; length 0 at the end."""
        if self.done:
            return 0, 0
        start, n = await self.parser._chunk(limit)
        if n == 0:
            self.done = True
        return start, n

    def __aiter__(self):
        return self

    async def __anext__(self):
        start, n = await self._next(len(self.parser.buf))
        if n == 0:
            raise StopAsyncIteration
        return bytes(self.parser.mv[start : start + n])

    async def readinto(self, buf):
        """Up to len(buf) bytes of this part into `buf`; 0 at its end."""
        start, n = await self._next(len(buf))
        if n:
            buf[:n] = self.parser.mv[start : start + n]
        return n

    async def read(self, limit=None):
        """The whole part as bytes, at most `limit` (default: the parser's max_field; 413)."""
        if limit is None:
            limit = self.parser.max_field
        out = bytearray()
        while True:
            start, n = await self._next(len(self.parser.buf))
            if n == 0:
                return bytes(out)
            if len(out) + n > limit:
                self.parser._bad(413, "multipart field too large")
            out.extend(self.parser.mv[start : start + n])

    async def text(self, limit=None):
        """The part as str (UTF-8; 400 when it is not)."""
        data = await self.read(limit)
        try:
            return data.decode()
        except UnicodeError:
            self.parser._bad(400, "multipart field not UTF-8")

    async def save(self, path):
        """Write the part to the file at `path` chunk by chunk; returns its size."""
        size = 0
        mv = self.parser.mv
        with open(path, "wb") as f:
            while True:
                start, n = await self._next(len(self.parser.buf))
                if n == 0:
                    return size
                f.write(mv[start : start + n])
                size += n
