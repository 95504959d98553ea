"""URL routing: a dict for static paths (cost independent of how many there are), then patterns.

Patterns are split on "/" once, at registration; a segment is literal text or a whole-segment
parameter: `<name>` (non-empty text), `<int:name>` (digits, given as int) or `<path:name>` (the
rest of the path, slashes included; last segment only). Each segment is kept as a triple,
(literal, None, None) or (None, name, kind): matching tells them apart without calling type(),
whose lookup as a builtin costs more than the comparison."""

from builtins import len  # as a global: found at once (see ember.protocol)

from .http import HTTPError


class Router:
    def __init__(self):
        self.static = {}  # path -> {method: handler}
        self.patterns = []  # ([(literal, name, kind), ...], has_tail, {method: handler})

    def add(self, path, methods, handler):
        if not path.startswith("/"):
            raise ValueError("route must start with '/': %r" % path)
        if "<" in path:
            table = self._pattern_table(path)
        else:
            table = self.static.setdefault(path, {})
        for m in methods:
            if m in table:
                raise ValueError("route already defined: %s %s" % (m, path))
            table[m] = handler

    def _pattern_table(self, path):
        segments = []
        parts = path.split("/")
        for i in range(len(parts)):
            p = parts[i]
            if not p.startswith("<"):
                if "<" in p or ">" in p:
                    raise ValueError("a parameter must be a whole path segment: %r" % path)
                segments.append((p, None, None))
                continue
            if not p.endswith(">"):
                raise ValueError("unclosed parameter in %r" % path)
            spec = p[1:-1]
            colon = spec.find(":")
            kind, name = (spec[:colon], spec[colon + 1 :]) if colon >= 0 else ("", spec)
            if kind not in ("", "int", "path") or not name:
                raise ValueError("bad parameter %r in %r" % (p, path))
            if kind == "path" and i != len(parts) - 1:
                raise ValueError("<path:...> must be the last segment: %r" % path)
            segments.append((None, name, kind))
        has_tail = segments[-1][2] == "path"
        for segs, tail, table in self.patterns:
            if segs == segments and tail == has_tail:
                return table
        table = {}
        self.patterns.append((segments, has_tail, table))
        return table

    def match(self, path):
        """(methods table, params dict) for `path`, or (None, None) when nothing matches."""
        table = self.static.get(path)
        if table is not None:
            return table, None
        return self._match_pattern(path)

    def _match_pattern(self, path):
        # Separate from match(): a function with this many locals gets a heap-allocated frame
        # on MicroPython, which the static-route path should not pay for.
        if not self.patterns:
            return None, None
        parts = path.split("/")
        n = len(parts)
        for segments, has_tail, table in self.patterns:
            k = len(segments)
            if n != k and not (has_tail and n > k):
                continue
            params = None  # made for the first parameter: most patterns tried fail before it
            i = 0
            for literal, name, kind in segments:
                part = parts[i]
                i += 1
                if literal is not None:
                    if literal != part:
                        break
                    continue
                if kind == "path":
                    part = "/".join(parts[i - 1 :])
                    if not part:
                        break
                elif not part:
                    break
                elif kind == "int":
                    if not part.isdigit():
                        break
                    part = int(part)
                if params is None:
                    params = {}
                params[name] = part
            else:
                return table, params
        return None, None


def route(app, req):
    """The handler for the request (its path parameters go to `req.params`), or HTTPError
    404/405; OPTIONS answers itself. Small on purpose: it runs for every request."""
    router = app.router
    table = router.static.get(req.path)
    if table is None:
        table, params = router._match_pattern(req.path)  # match(), past the static table
        if table is None:
            raise HTTPError(404)
        req.params = params
    handler = table.get(req.method)
    return handler if handler is not None else _other_method(req, table)


def call(app, req):
    """Route `req` and call its handler: the result, or (an `async def` handler) what to await
    for it."""
    handler = route(app, req)
    params = req.params
    return handler(req, **params) if params else handler(req)


def _other_method(req, table):
    """HEAD falls back to GET; OPTIONS lists the methods; anything else is 405."""
    if req.method == "HEAD" and "GET" in table:
        return table["GET"]
    allow = _allow(table)
    if req.method == "OPTIONS":
        req.params = {"allow": allow}
        return _options
    raise HTTPError(405, None, {"Allow": allow})


def _options(req, allow):
    from .response import Response

    return Response(b"", 204, {"Allow": allow})


def _allow(table):
    methods = list(table)
    if "GET" in table and "HEAD" not in table:
        methods.append("HEAD")
    methods.append("OPTIONS")
    return ", ".join(methods)
