"""Percent-decoding and `application/x-www-form-urlencoded` parsing (query strings and forms)."""

from builtins import len  # as globals: found at once (see ember.protocol)

_HEX = b"0123456789abcdefABCDEF"


def unquote(raw, plus=False):
    """Decode %XX escapes (and `+` as space when `plus`) in `raw` bytes; return str.

    A malformed escape raises ValueError and bad UTF-8 raises UnicodeError, so the server can
    answer 400 instead of guessing."""
    if plus and b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" not in raw:
        return raw.decode()
    parts = raw.split(b"%")
    out = bytearray(parts[0])
    for i in range(1, len(parts)):
        p = parts[i]
        if len(p) < 2 or p[0] not in _HEX or p[1] not in _HEX:
            raise ValueError("bad percent-escape")
        out.append(int(p[:2], 16))
        out.extend(p[2:])
    return out.decode()


class MultiDict:
    """Keys to values where a key may repeat (`?a=1&a=2`): `get` gives the first, `getlist` all."""

    def __init__(self):
        self._d = {}

    def add(self, key, value):
        values = self._d.get(key)
        if values is None:
            self._d[key] = [value]
        else:
            values.append(value)

    def get(self, key, default=None, type=None):
        value = self._d.get(key)
        if value is None or value[0] is None:
            return default
        return value[0] if type is None else _typed(value[0], default, type)

    def getlist(self, key):
        return list(self._d.get(key, ()))

    def __getitem__(self, key):
        return self._d[key][0]

    def __contains__(self, key):
        return key in self._d

    def __len__(self):
        return len(self._d)

    def __iter__(self):
        return iter(self._d)

    def keys(self):
        return self._d.keys()

    def items(self):
        """(key, first value) pairs."""
        return [(k, v[0]) for k, v in self._d.items()]

    def to_dict(self):
        """Plain dict: single values as is, repeated keys as lists."""
        return {k: (v[0] if len(v) == 1 else v) for k, v in self._d.items()}

    def __repr__(self):
        return "MultiDict(%r)" % (self._d,)


def parse(raw):
    """`a=1&b=x+y&a=2` (bytes) -> MultiDict of str."""
    args = MultiDict()
    if raw:
        for pair in raw.split(b"&"):
            if pair:
                eq = pair.find(b"=")
                if eq < 0:
                    args.add(unquote(pair, True), "")
                else:
                    args.add(unquote(pair[:eq], True), unquote(pair[eq + 1 :], True))
    return args


class Query(MultiDict):
    """`req.args`: the query string, parsed when first needed (400 when it is malformed). `get`
    finds a key in the string itself when nothing in it is escaped: the usual handler reads one
    or two arguments, and building the whole MultiDict for that costs it the most."""

    def __init__(self, raw):
        self._raw = raw

    def __getattr__(self, name):
        """`_d`, parsed on first use. (Not a property: on MicroPython a class with one makes
        every attribute lookup on its instances check for descriptors.)"""
        if name != "_d":
            raise AttributeError(name)
        try:
            self._d = parse(self._raw)._d
        except ValueError:  # UnicodeError too
            from .http import HTTPError

            raise HTTPError(400, "bad query string")
        return self._d

    def get(self, key, default=None, type=None):
        raw = self._raw
        if b"%" in raw or b"+" in raw:
            return MultiDict.get(self, key, default, type)
        value = _scan(raw, key.encode())  # what the whole parse would find, found here
        if value is None:
            return default
        try:
            value = value.decode()
        except UnicodeError:  # the whole parse refuses it: 400
            return MultiDict.get(self, key, default, type)
        return value if type is None else _typed(value, default, type)


def _typed(value, default, type):
    """`get(key, type=int)`: the value converted, or the default when it does not convert."""
    try:
        return type(value)
    except ValueError:
        return default


def _scan(raw, key):
    """The value (bytes) of the first `key` or `key=...` pair in a query string, else None. (Not
    inline: small frames stay off the heap.)"""
    n = len(key)
    for pair in raw.split(b"&"):
        if pair and pair.startswith(key) and (len(pair) == n or pair[n] == 61):  # "="
            return pair[n + 1 :]
    return None
