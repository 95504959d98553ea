"""The request: head parsing (bytes in, limits enforced) and lazy access to query, headers, body."""

from .http import HTTPError
from .runtime import peer_address

# Methods ember knows, as bytes -> str, so that parsing a method allocates nothing.
METHODS = {
    b"GET": "GET",
    b"HEAD": "HEAD",
    b"POST": "POST",
    b"PUT": "PUT",
    b"PATCH": "PATCH",
    b"DELETE": "DELETE",
    b"OPTIONS": "OPTIONS",
}
# Headers that must not repeat: a second copy is how request smuggling starts.
_SINGLE = (b"content-length", b"transfer-encoding", b"host")


class Headers:
    """Case-insensitive, str view of the request headers (kept internally as lowercase bytes)."""

    def __init__(self, raw):
        self._raw = raw

    def get(self, name, default=None):
        value = self._raw.get(name.lower().encode())
        return default if value is None else value.decode()

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return name.lower().encode() in self._raw

    def __len__(self):
        return len(self._raw)

    def items(self):
        return [(k.decode(), v.decode()) for k, v in self._raw.items()]

    def __repr__(self):
        return "Headers(%r)" % (self.items(),)


class Request:
    """One HTTP request, parsed from the head bytes; anything costly is computed on first use."""

    # Set by a handler that has taken the connection over (a WebSocket): nothing more is sent
    # and the connection closes when the handler returns.
    detached = False

    def __init__(self, conn, head):
        self.conn = conn
        self.app = conn.app
        self.params = None
        app = self.app
        lines = head.split(b"\r\n")
        line = lines[0]
        if len(line) > app.max_request_line:
            raise HTTPError(414)
        parts = line.split(b" ")
        if len(parts) != 3:
            raise HTTPError(400, "malformed request line")
        method, target, version = parts
        self.method = METHODS.get(method) or _token(method).decode()
        if version == b"HTTP/1.1":
            self.http11 = True
        elif version == b"HTTP/1.0":
            self.http11 = False
        elif version.startswith(b"HTTP/") and len(version) == 8:
            raise HTTPError(505)
        else:
            raise HTTPError(400, "malformed request line")
        if not target.startswith(b"/"):
            target = _origin_form(target, self.method)
        q = target.find(b"?")
        if q < 0:
            path = target
            self.query_string = b""
        else:
            path = target[:q]
            self.query_string = target[q + 1 :]
        try:
            self.path = path.decode() if b"%" not in path else _unquote(path)
        except ValueError:
            raise HTTPError(400, "bad percent-encoding in path")
        self._args = None
        self._cookies = None
        self._body = None

        # Header fields: lowercase bytes names, bytes values.
        h = {}
        if len(lines) > app.max_headers + 1:
            raise HTTPError(431, "too many header fields")
        limit = app.max_header_line
        for i in range(1, len(lines)):
            line = lines[i]
            if len(line) > limit:
                raise HTTPError(431, "header field too long")
            colon = line.find(b":")
            name = line[:colon].lower()
            if colon <= 0 or b" " in name or b"\t" in name:  # a name is a token: no whitespace
                raise HTTPError(400, "malformed header field")
            value = line[colon + 1 :].strip()
            if b"\r" in value or b"\n" in value or b"\0" in value:
                raise HTTPError(400, "malformed header field")
            old = h.get(name)
            if old is not None:
                if name in _SINGLE:
                    raise HTTPError(400, "repeated " + name.decode())
                value = old + (b"; " if name == b"cookie" else b", ") + value
            h[name] = value
        self._h = h

        # Framing: how long the body is and whether the connection stays open.
        conn_tokens = h.get(b"connection")
        if conn_tokens is not None:
            conn_tokens = conn_tokens.lower()
        if self.http11:
            self.keep_alive = conn_tokens is None or b"close" not in conn_tokens
            if b"host" not in h:
                raise HTTPError(400, "missing Host header")
        else:
            self.keep_alive = conn_tokens is not None and b"keep-alive" in conn_tokens
        self.upgrade = conn_tokens is not None and b"upgrade" in conn_tokens

        te = h.get(b"transfer-encoding")
        length = h.get(b"content-length")
        self.chunked = False
        if te is not None:
            if length is not None:
                raise HTTPError(400, "Content-Length with Transfer-Encoding")
            if te.lower() != b"chunked":
                raise HTTPError(501, "unsupported Transfer-Encoding")
            self.chunked = True
            self.content_length = None
        elif length is not None:
            if not length.isdigit() or len(length) > 15:
                raise HTTPError(400, "bad Content-Length")
            self.content_length = int(length)
        else:
            self.content_length = 0
        expect = h.get(b"expect")
        if expect is not None and expect.lower() != b"100-continue":
            raise HTTPError(417)
        self._reader = None
        if self.chunked or self.content_length:
            from .body import BodyReader  # loaded by the first request that has a body

            self._reader = BodyReader(self, self.content_length, expect is not None)

    # -- head --
    @property
    def headers(self):
        return Headers(self._h)

    @property
    def args(self):
        """Query arguments, a MultiDict (`?a=1&a=2` keeps both)."""
        if self._args is None:
            from .urlencoded import parse

            try:
                self._args = parse(self.query_string)
            except ValueError:
                raise HTTPError(400, "bad query string")
        return self._args

    @property
    def cookies(self):
        """Request cookies, name -> value."""
        if self._cookies is None:
            self._cookies = {}
            raw = self._h.get(b"cookie")
            if raw:
                for pair in raw.split(b";"):
                    eq = pair.find(b"=")
                    if eq > 0:
                        name = pair[:eq].strip()
                        value = pair[eq + 1 :].strip()
                        if len(value) > 1 and value[0] == 34 and value[-1] == 34:  # quoted
                            value = value[1:-1]
                        self._cookies[name.decode()] = value.decode()
        return self._cookies

    @property
    def client_addr(self):
        """(host, port) of the peer."""
        return peer_address(self.conn.peer)

    @property
    def content_type(self):
        value = self._h.get(b"content-type")
        return value.decode() if value is not None else None

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

    def body_pending(self):
        """True when body bytes are still unread on the connection."""
        return self._reader is not None and not self._reader.done


def _token(method):
    """An unknown but well-formed method stays a method (405/501 later); anything else is 400."""
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


def _unquote(path):
    from .urlencoded import unquote

    return unquote(path)
