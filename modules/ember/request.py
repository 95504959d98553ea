"""The request: head parsing (bytes in, limits enforced) and lazy access to query, headers, body."""

from builtins import len  # as globals: found at once (see ember.protocol)

from .http import HTTPError

# ember.headers and ember.urlencoded, imported on first need (see Request.__getattr__)
_headers = _urlencoded = None


class Request:
    """One HTTP request, parsed from the head bytes; anything costly is computed on first use.

    Parsing validates every header line but extracts only the fields that frame the message
    (found in a lowercased copy of the head); the headers dict is built on first access."""

    # Defaults as class attributes: an instance stores only what differs from them, and each
    # instance attribute grows its dict (heap, per request). The usual request is a keep-alive
    # HTTP/1.1 GET, so it stores just conn, _head and path.
    method = "GET"
    http11 = True
    keep_alive = True
    params = None
    query_string = b""
    upgrade = False
    chunked = False
    content_length = 0
    owner = None  # the WebSocket or event stream that took the connection over: no response
    _reader = None
    _body = None

    def __init__(self, conn, head):
        # Parsing is split into small functions: on MicroPython a function with many locals
        # gets its frame allocated on the heap, on every call.
        self.conn = conn
        self._head = head
        app = conn.app
        eol = head.find(b"\r\n")
        if eol < 0:
            eol = len(head)
        _request_line(self, head, eol, app)
        seen = _check_fields(head, eol + 2, app.max_header_line)
        if seen >> 8 > app.max_headers:
            raise HTTPError(431, "too many header fields")
        # Every CR and LF is one of the CRLFs counted above; NUL never belongs in a head.
        if head.count(b"\n") != seen >> 8 or head.count(b"\r") != seen >> 8 or b"\0" in head:
            raise HTTPError(400, "stray CR, LF or NUL in the head")
        seen &= 255
        if seen != 8:  # else one Host field, and nothing framing a body
            _framing(self, head, seen)

    def __getattr__(self, name):
        """What is computed only when asked for, then kept: `headers`, `args`, `cookies`,
        `client_addr`, `content_type`, `app`, and `raw_headers` (the header fields as a dict,
        lowercase bytes name -> bytes value, nothing decoded: what `headers` wraps, and what
        ember's own modules read). One method costs a device less heap than a property each."""
        # One local, and no try block: a larger frame would be allocated on the heap at every
        # call. The modules it needs are imported by the first request that needs them, then
        # kept in globals: an import statement would cost every request some 4k instructions.
        global _headers, _urlencoded
        if name == "headers":  # case-insensitive view: req.headers.get("Content-Type") -> str
            if _headers is None:
                from . import headers as _headers
            self.headers = value = _headers.Headers(self)
        elif name == "args":  # query arguments, a MultiDict (`?a=1&a=2` keeps both)
            if _urlencoded is None:
                from . import urlencoded as _urlencoded
            self.args = value = _urlencoded.Query(self.query_string)
        elif name == "raw_headers":
            if _headers is None:
                from . import headers as _headers
            self.raw_headers = value = _headers.fields(self._head)
        elif name == "cookies":  # name -> value
            if _headers is None:
                from . import headers as _headers
            self.cookies = value = _headers.cookies(self.raw_headers.get(b"cookie"))
        elif name == "client_addr":  # (host, port) of the peer
            value = self.conn.writer.get_extra_info("peername")
            if type(value) is not tuple and value is not None:  # the unix port: a raw sockaddr
                import socket

                value = socket.sockaddr(value)
                value = ("%d.%d.%d.%d" % tuple(value[1][:4]), value[2])
            self.client_addr = value
        elif name == "content_type":
            value = self.raw_headers.get(b"content-type")
            if value is not None:
                value = _headers.text(value)  # raw_headers imported it
            self.content_type = value
        elif name == "app":
            return self.conn.app
        else:
            raise AttributeError(name)
        return value

    # -- body --
    def stream(self):
        """The body as a stream: `await s.read(n)`, `await s.readinto(buf)`, `async for chunk in s`.

        Not capped by `max_body`: this is how bodies larger than memory (uploads, OTA) are read."""
        if self._reader is None:
            from .body import EMPTY

            return EMPTY
        return self._reader

    async def body(self):
        """The whole body as bytes, up to the app's `max_body` (413 beyond)."""
        if self._body is None:
            reader = self._reader
            if reader is None:
                self._body = b""
            else:
                cap = self.app.max_body
                if self.content_length is not None and self.content_length > cap:
                    self.keep_alive = False  # the client may be sending it anyway: don't read it
                    raise HTTPError(413)
                reader.cap = cap  # chunked: a chunk announced past it is refused unread
                chunks = []
                size = 0
                while True:
                    chunk = await reader.read(1024)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > cap:
                        self.keep_alive = False
                        raise HTTPError(413)
                    chunks.append(chunk)
                self._body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return self._body

    async def json(self):
        """The body parsed as JSON (400 when it is not JSON)."""
        import json

        body = await self.body()
        try:
            return json.loads(body)
        except (ValueError, UnicodeError):
            raise HTTPError(400, "invalid JSON body")

    async def form(self):
        """An urlencoded body as a MultiDict (multipart: see `ember.multipart`)."""
        from .urlencoded import parse

        body = await self.body()
        try:
            return parse(body)
        except (ValueError, UnicodeError):
            raise HTTPError(400, "invalid form body")


def _request_line(req, head, eol, app):
    """METHOD SP target SP HTTP/1.x, nothing more: method, path, query_string, http11."""
    if eol > app.max_request_line:
        raise HTTPError(414)
    sp1 = head.find(b" ", 0, eol)
    sp2 = head.find(b" ", sp1 + 1, eol)
    if sp1 <= 0 or sp2 <= sp1 + 1:
        raise HTTPError(400, "malformed request line")
    if sp1 != 3 or not head.startswith(b"GET"):  # GET is the class default
        req.method = _token(head[:sp1]).decode()
    # A third space can only be in the 8 bytes of a well-formed version: looked for there, on
    # the way to an error, rather than in every request.
    if eol - sp2 != 9 or not head.startswith(b"HTTP/1.", sp2 + 1):
        if head.startswith(b"HTTP/", sp2 + 1) and eol - sp2 == 9:
            if head.find(b" ", sp2 + 1, eol) < 0:
                raise HTTPError(505)
        raise HTTPError(400, "malformed request line")
    sp1 = head[sp1 + 1 : sp2]  # the target
    eol = head[eol - 1]  # the minor version digit
    if eol != 49 and eol != 48:  # "1", "0"
        raise HTTPError(400, "malformed request line") if eol == 32 else HTTPError(505)
    if eol == 48:  # True is the class default for both; "Connection: keep-alive" may say so
        req.http11 = req.keep_alive = False
    if sp1[0] != 47:  # "/"
        sp1 = _origin_form(sp1, req.method)
    eol = sp1.find(b"?")
    if eol >= 0:
        req.query_string = sp1[eol + 1 :]
        sp1 = sp1[:eol]
    _path(req, sp1)


def _path(req, raw):
    """(Not in _request_line: a try block there would put its frame on the heap, at every
    request; and no local here for the same reason.)"""
    global _urlencoded
    try:
        if b"%" in raw:
            if _urlencoded is None:
                from . import urlencoded as _urlencoded
            req.path = _urlencoded.unquote(raw)
        else:
            req.path = raw.decode()
    except ValueError:  # UnicodeError too
        raise HTTPError(400, "bad percent-encoding in path")


def _check_fields(head, pos, limit):
    """Each header line within `limit`, `name:` with no whitespace in the name. The fields
    themselves are extracted only when asked for.

    Returns 256 per line, plus what the names start with, so framing searches only for fields
    that may be there: 8 per Host line, |1 for a name starting with c, |2 with t, |4 with e.
    (Six locals at most: MicroPython would put a larger frame on the heap, every request.)"""
    seen = 0
    while pos < len(head):
        end = head.find(b"\r\n", pos)
        if end < 0:
            end = len(head)
        if end - pos > limit:
            raise HTTPError(431, "header field too long")
        colon = head.find(b":", pos, end)
        if colon <= pos or head.find(b" ", pos, colon) >= 0 or head.find(b"\t", pos, colon) >= 0:
            raise HTTPError(400, "malformed header field")
        seen += 256
        if head[pos] | 32 == 104:  # h: Host? (counted up to 3: two already mean a repeat)
            if colon - pos == 4 and head[pos + 1] | 32 == 111 and head[pos + 2] | 32 == 115:
                if head[pos + 3] | 32 == 116 and seen & 24 != 24:
                    seen += 8
        elif head[pos] | 32 == 99:  # c: Connection, Content-Length
            seen |= 1
        elif head[pos] | 32 == 116:  # t: Transfer-Encoding
            seen |= 2
        elif head[pos] | 32 == 101:  # e: Expect
            seen |= 4
        pos = end + 2
    return seen


def _framing(req, head, seen):
    """Body length and persistence, from the few fields that decide them."""
    if seen >> 3 != 1 and (req.http11 or seen > 15):
        raise HTTPError(400, "missing Host header" if seen < 8 else "repeated host")
    if seen & 7:  # maybe Connection, Content-Length, Transfer-Encoding or Expect
        _fields(req, head, head.lower() + b"\r\n")  # each line ends with CRLF: see _fields


def _fields(req, head, low):
    # `low`: the head lowercased, with a CRLF after its last line too, so that the end of a
    # field's value is always low.find(b"\r\n", start).
    i = low.find(b"\r\nconnection:")
    if i >= 0:
        _connection(req, low, i + 13)
    te = low.find(b"\r\ntransfer-encoding:") >= 0
    if te or low.find(b"\r\ncontent-length:") >= 0:
        _length(req, head, low, te)
    i = low.find(b"\r\nexpect:")
    if i >= 0 and low[i + 9 : low.find(b"\r\n", i + 9)].strip() != b"100-continue":
        raise HTTPError(417)
    if req.chunked or req.content_length:
        from .body import BodyReader  # loaded by the first request that has a body

        req._reader = BodyReader(req, req.content_length, i >= 0)


def _connection(req, low, i):
    end = low.find(b"\r\n", i)
    if req.http11:
        if low.find(b"close", i, end) >= 0:
            req.keep_alive = False
    elif low.find(b"keep-alive", i, end) >= 0:
        req.keep_alive = True
    if low.find(b"upgrade", i, end) >= 0:
        req.upgrade = True


def _length(req, head, low, te):
    """Content-Length or chunked: exactly one, once."""
    length = _field(low, b"\r\ncontent-length:")
    if te:
        te = _field(low, b"\r\ntransfer-encoding:")
        if length >= 0:
            raise HTTPError(400, "Content-Length with Transfer-Encoding")
        if low[te : low.find(b"\r\n", te)].strip() != b"chunked":
            raise HTTPError(501, "unsupported Transfer-Encoding")
        req.chunked = True
        req.content_length = None
        return
    length = head[length : low.find(b"\r\n", length)].strip()
    if not length.isdigit() or len(length) > 15:
        raise HTTPError(400, "bad Content-Length")
    req.content_length = int(length)


def _field(low, key):
    """Where the value of header `key` (b"\\r\\nname:") starts in the lowercased head, or -1.
    A repeat is refused: for these fields (Host, framing) that is how request smuggling starts."""
    i = low.find(key)
    if i < 0:
        return -1
    if low.find(key, i + 1) >= 0:
        raise HTTPError(400, "repeated " + key[2:-1].decode())
    return i + len(key)


def _token(method):
    """A well-formed method (capital letters) stays a method (405 later); anything else is 400."""
    if not method or not method.isalpha() or not method.isupper():
        raise HTTPError(400, "malformed request line")
    return method


def _origin_form(target, method):
    """Accept absolute-form (`http://host/path`, RFC 9112 §3.2.2) and `*` for OPTIONS."""
    if target == b"*" and method == "OPTIONS":
        return b"*"
    scheme = target.find(b"://")
    if scheme > 0:
        slash = target.find(b"/", scheme + 3)
        return target[slash:] if slash > 0 else b"/"
    raise HTTPError(400, "malformed request target")
