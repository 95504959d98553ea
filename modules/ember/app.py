"""The application: routes, hooks, error handlers, limits; `run`, `serve`, `shutdown`."""

import asyncio

from .connection import Connection
from .http import HTTPError
from .protocol import serve_connection
from .response import Response, error_response, is_awaitable, send, send_body, to_response
from .router import Router
from .runtime import format_exception, print_exception

_FAST = (str, bytes, dict, list)


class App:
    """An HTTP application. Limits are keyword arguments; the defaults suit an ESP32 or ESP8266.

    max_connections: connections served at once; at the cap the server stops accepting and the
        listen backlog (`backlog` connections) queues new clients.
    max_head: bytes of request line + headers (431 beyond); also each connection's buffer size.
    max_request_line: 414 beyond.  max_header_line, max_headers: 431 beyond.
    max_body: bytes `req.body()` / `json()` / `form()` accept (413 beyond); `req.stream()` is
        not capped.
    header_timeout: seconds to receive a request head (408).  idle_timeout: seconds a keep-alive
        connection may wait for its next request.  io_timeout: seconds any body read or
        response write may stall.
    min_free: bytes of free heap below which new connections wait (MicroPython).
    debug: tracebacks in 500 responses.  access_log: one line per request.
    """

    def __init__(
        self,
        max_connections=8,
        backlog=8,
        max_head=1024,
        max_request_line=1024,
        max_header_line=1024,
        max_headers=32,
        max_body=16384,
        header_timeout=10,
        idle_timeout=15,
        io_timeout=30,
        min_free=4096,
        debug=False,
        access_log=False,
    ):
        self.max_connections = max_connections
        self.backlog = backlog
        self.max_head = max_head
        self.max_request_line = max_request_line
        self.max_header_line = max_header_line
        self.max_headers = max_headers
        self.max_body = max_body
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.io_timeout = io_timeout
        self.min_free = min_free
        self.debug = debug
        self.access_log = access_log
        self.router = Router()
        self.before = []
        self.after = []
        self.error_handlers = {}
        self.server = None

    # -- routes --
    def route(self, path, methods=("GET",)):
        """Decorator: `handler(req, **params)` answers `methods` on `path`."""

        def register(handler):
            self.router.add(path, [m.upper() for m in methods], handler)
            return handler

        return register

    def get(self, path):
        return self.route(path, ("GET",))

    def post(self, path):
        return self.route(path, ("POST",))

    def put(self, path):
        return self.route(path, ("PUT",))

    def patch(self, path):
        return self.route(path, ("PATCH",))

    def delete(self, path):
        return self.route(path, ("DELETE",))

    def mount(self, prefix, app):
        """Serve `app`'s routes under `prefix` (its hooks and error handlers stay its own)."""
        prefix = prefix.rstrip("/")
        for path, table in app.router.routes():
            for method, handler in table.items():
                self.router.add(prefix + path, (method,), _Mounted(app, handler))

    # -- hooks and error handlers --
    def before_request(self, hook):
        """`hook(req)` runs before every handler; a non-None return is the response."""
        self.before.append(hook)
        return hook

    def after_request(self, hook):
        """`hook(req, response)` returns the response to send (possibly the same one)."""
        self.after.append(hook)
        return hook

    def errorhandler(self, key):
        """Decorator for `handler(req, exc)` by status code (int) or exception class."""

        def register(handler):
            self.error_handlers[key] = handler
            return handler

        return register

    # -- dispatch --
    async def dispatch(self, req):
        """Route, run the handler and hooks, send the response; False when the connection closes."""
        try:
            result = await self._call(req)
        except HTTPError as e:
            result = await self._on_error(req, e.status, e)
        except MemoryError:
            raise
        except Exception as e:
            print_exception(e)
            result = await self._on_error(req, 500, e)
        try:
            status, keep = await self._respond(req, result)
        except (OSError, MemoryError):
            raise
        except Exception as e:  # unwritable result (bad header, not JSON-able): nothing sent yet
            print_exception(e)
            status = 500
            keep = await send(req.conn, req, error_response(HTTPError(500)))
        if self.access_log:
            print('%s "%s %s" %d' % (req.client_addr[0], req.method, req.path, status))
        return keep

    async def _respond(self, req, result):
        if not self.after and type(result) in _FAST:
            return 200, await send_body(req.conn, req, result)
        response = to_response(result)
        for hook in self.after:
            response = await _maybe_await(hook(req, response)) or response
        return response.status, await send(req.conn, req, response)

    async def _call(self, req):
        for hook in self.before:
            result = await _maybe_await(hook(req))
            if result is not None:
                return result
        table, params = self.router.match(req.path)
        if table is None:
            raise HTTPError(404)
        method = req.method
        handler = table.get(method)
        if handler is None:
            if method == "HEAD":
                handler = table.get("GET")
            if handler is None:
                allow = _allow(table)
                if method == "OPTIONS":
                    return Response(b"", 204, {"Allow": allow})
                raise HTTPError(405, None, {"Allow": allow})
        req.params = params
        result = handler(req, **params) if params else handler(req)
        if is_awaitable(result):
            result = await result
        return result

    async def _on_error(self, req, status, exc):
        handler = self.error_handlers.get(status)
        if handler is None and not isinstance(exc, HTTPError):
            for key, h in self.error_handlers.items():
                if type(key) is not int and isinstance(exc, key):
                    handler = h
                    break
        if handler is not None:
            try:
                return await _maybe_await(handler(req, exc))
            except Exception as e:  # a failing error handler must not take the connection down
                print_exception(e)
        if isinstance(exc, HTTPError):
            return error_response(exc)
        debug = format_exception(exc) if self.debug else None
        return error_response(HTTPError(500), debug)

    # -- serving --
    async def handle(self, reader, writer):
        """Serve one already-open connection (any stream pair with `readinto`, `write`, `drain`,
        `close`, `wait_closed`): the entry point for transports other than ember's own listener."""
        peer = writer.get_extra_info("peername")
        conn = Connection(self, reader, writer, bytearray(self.max_head), peer)
        conn.task = asyncio.current_task()
        await serve_connection(self, conn)

    async def serve(self, host="0.0.0.0", port=80, ready=None):
        """Listen and serve until `shutdown()`; `ready(port)` is called once listening."""
        from .server import Server

        self.server = Server(self, host, port)
        if ready is not None:
            ready(self.server.port)
        try:
            await self.server.run()
        finally:
            self.server = None

    def run(self, host="0.0.0.0", port=80, **kwargs):
        """Serve forever (blocking): the usual last line of main.py."""
        print("ember: serving on http://%s:%d" % (host, port))
        asyncio.run(self.serve(host, port, **kwargs))

    def shutdown(self):
        """Close the listener and every open connection; `serve()` then returns."""
        if self.server is not None:
            self.server.stop()


class _Mounted:
    """A sub-app's handler: errors are handled by the sub-app's own error handlers."""

    def __init__(self, app, handler):
        self.app = app
        self.handler = handler

    async def __call__(self, req, **params):
        try:
            return await _maybe_await(self.handler(req, **params))
        except HTTPError as e:
            return await self.app._on_error(req, e.status, e)


def _allow(table):
    methods = list(table)
    if "GET" in table and "HEAD" not in table:
        methods.append("HEAD")
    methods.append("OPTIONS")
    return ", ".join(methods)


async def _maybe_await(result):
    if is_awaitable(result):
        return await result
    return result
