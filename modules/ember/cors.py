"""Cross-Origin Resource Sharing, as a before-request hook (preflight) and an after-request hook.

    CORS(app, origins=["https://app.example"], credentials=True)

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed origin
for an allowed method is answered 204 with the `Access-Control-Allow-*` headers; other responses
to an allowed origin get `Access-Control-Allow-Origin` (and `Vary: Origin` unless any origin is
allowed without credentials). A disallowed origin gets no CORS headers, so the browser blocks it.
Note: an after-request hook makes every response of the app take the general response path."""

from .headers import text


class CORS:
    def __init__(
        self,
        app,
        origins="*",
        methods=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"),
        headers=("Content-Type", "Authorization"),
        expose=None,
        max_age=600,
        credentials=False,
    ):
        """origins: "*" or a list of origins (`scheme://host[:port]`). methods, headers: what
        preflights may ask for ("*" for headers echoes what was asked). expose: response headers
        scripts may read. max_age: seconds a browser may cache a preflight."""
        self.origins = origins
        self.methods = ", ".join(methods)
        self.headers = headers if headers == "*" else ", ".join(headers)
        self.expose = ", ".join(expose) if expose else None
        self.max_age = max_age
        self.credentials = credentials
        app.before_request(self.preflight)
        app.after_request(self.decorate)

    def _allowed(self, req):
        """The Access-Control-Allow-Origin value for this request, or None."""
        origin = req.raw_headers.get(b"origin")
        if origin is None:
            return None
        origin = text(origin)
        if self.origins == "*":
            return origin if self.credentials else "*"
        return origin if origin in self.origins else None

    def _vary(self, headers):
        if self.origins != "*" or self.credentials:
            old = headers.get("Vary")
            headers["Vary"] = "Origin" if not old else old + ", Origin"

    def preflight(self, req):
        if req.method != "OPTIONS":
            return None
        wanted = req.raw_headers.get(b"access-control-request-method")
        if wanted is None:
            return None
        allow = self._allowed(req)
        if allow is None or text(wanted) not in self.methods.split(", "):
            return None  # routing answers OPTIONS without CORS headers: the browser refuses
        from .response import Response

        h = {"Access-Control-Allow-Origin": allow, "Access-Control-Allow-Methods": self.methods}
        asked = req.raw_headers.get(b"access-control-request-headers")
        if self.headers == "*":
            if asked:
                h["Access-Control-Allow-Headers"] = text(asked)
        elif self.headers:
            h["Access-Control-Allow-Headers"] = self.headers
        if self.max_age is not None:
            h["Access-Control-Max-Age"] = str(self.max_age)
        if self.credentials:
            h["Access-Control-Allow-Credentials"] = "true"
        self._vary(h)
        return Response(b"", 204, h)

    def decorate(self, req, response):
        h = response.headers
        if "Access-Control-Allow-Origin" in h:  # a preflight answered above
            return response
        allow = self._allowed(req)
        if req.method == "OPTIONS" and b"access-control-request-method" in req.raw_headers:
            allow = None  # a preflight refused above stays without CORS headers
        if allow is not None:
            h["Access-Control-Allow-Origin"] = allow
            if self.credentials:
                h["Access-Control-Allow-Credentials"] = "true"
            if self.expose:
                h["Access-Control-Expose-Headers"] = self.expose
        self._vary(h)
        return response
