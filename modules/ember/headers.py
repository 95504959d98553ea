"""The request's header fields, parsed on first use: as a dict of bytes, as a case-insensitive
mapping of str, and the cookies."""

from builtins import len  # as globals: found at once (see ember.protocol)


class Headers:
    """Case-insensitive, str view of the request headers. A field asked for by name is found in
    the head itself; the dict of every field (`req.raw_headers`) is built only for what needs
    them all (`items`, `len`), or a field the head repeats."""

    def __init__(self, req):
        self._req = req
        self._low = req._head.lower()  # what lookups search: a view is made to look a field up

    def get(self, name, default=None):
        # One call with six locals: a larger frame would be allocated on the heap at each lookup.
        low = self._low
        # The start of the field's line. Lowercased as bytes, as the head is (field names are
        # ASCII): str.lower() would look its result up among the interned strings first.
        name = b"\r\n" + name.encode().lower() + b":"
        i = low.find(name)
        if i < 0:
            return default
        if low.find(name, i + 1) >= 0:  # repeated: joined, as in raw_headers
            return self._joined(name[2:-1], default)
        i += len(name)
        end = low.find(b"\r\n", i)
        if end < 0:
            end = len(low)
        return text(self._req._head[i:end].strip())

    def _joined(self, name, default):
        value = self._req.raw_headers.get(name)
        return default if value is None else text(value)

    def __getitem__(self, name):
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name):
        return self.get(name) is not None

    def __len__(self):
        return len(self._req.raw_headers)

    def items(self):
        return [(text(k), text(v)) for k, v in self._req.raw_headers.items()]

    def __repr__(self):
        return "Headers(%r)" % (self.items(),)


def text(value):
    """A field's bytes as str: UTF-8, else one character per byte (Latin-1, as RFC 9110 §5.5
    reads obs-text), so that no byte a client sends makes decoding a header raise."""
    try:
        return value.decode()
    except UnicodeError:
        return "".join([chr(c) for c in value])


def fields(head):
    """The fields of a request head: a dict of lowercase bytes name -> bytes value."""
    h = {}
    low = head.lower()
    pos = head.find(b"\r\n") + 2
    n = len(head)
    while 2 <= pos < n:
        end = head.find(b"\r\n", pos)
        if end < 0:
            end = n
        colon = head.find(b":", pos, end)
        name = low[pos:colon]
        value = head[colon + 1 : end].strip()
        old = h.get(name)
        if old is not None:  # repeats are joined (Cookie with "; ")
            value = old + (b"; " if name == b"cookie" else b", ") + value
        h[name] = value
        pos = end + 2
    return h


def cookies(raw):
    """The pairs of a Cookie header value, as a dict of str."""
    cookies = {}
    if raw:
        for pair in raw.split(b";"):
            eq = pair.find(b"=")
            if eq > 0:
                value = pair[eq + 1 :].strip()
                if len(value) > 1 and value[0] == 34 and value[-1] == 34:  # quoted
                    value = value[1:-1]
                cookies[text(pair[:eq].strip())] = text(value)
    return cookies
