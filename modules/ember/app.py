"""The application: routes, hooks, error handlers, limits; `run`, `serve`, `shutdown`."""

from .router import Router

# Heap a connection slot takes besides its buffer (its Connection, worker frame and task): about
# 750 bytes on a 64-bit build, half that on a device.
_SLOT_EXTRA = 1024


class App:
    """An HTTP application. Limits are keyword arguments; the defaults suit an ESP32 or ESP8266.

    import_name: the application module's `__name__` (`App(__name__)`, as in Flask): relative
        paths given to `static()` (and `ember.static.resolve`) are found beside that module's file.
        Without it, or where the module has no file (frozen into firmware), they are relative to
        the current directory: the root of a device's filesystem, where `ember-provision --www`
        writes `/www`.

    max_connections: connections served at once; at the cap the server stops accepting and the
        listen backlog (`backlog` connections) queues new clients.
    max_head: bytes of request line + headers (431 beyond); also each connection's buffer size.
    max_request_line: 414 beyond.  max_header_line, max_headers: 431 beyond.
    max_body: bytes `req.body()` / `json()` / `form()` accept (413 beyond); `req.stream()` is
        not capped.
    header_timeout: seconds to receive a request head (408).  idle_timeout: seconds a keep-alive
        connection may wait for its next request.  io_timeout: seconds any body read or
        response write may stall.
    min_free: bytes of free heap below which a new connection waits, unless none is open; the
        connection slots `serve()` makes leave this much free, plus `max_head` per slot
        (MicroPython).
    debug: tracebacks in 500 responses.  access_log: one line per request.
    """

    before = ()  # before-request hooks (tuples: an app without hooks keeps no list on the heap)
    root = ""  # the application module's folder (see import_name)
    after = ()  # after-request hooks

    def __init__(
        self,
        import_name=None,
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
        # Kept in milliseconds, the unit of the deadlines checked on every read and write.
        self.header_ms = int(header_timeout * 1000)
        self.idle_ms = int(idle_timeout * 1000)
        self.io_ms = int(io_timeout * 1000)
        self.min_free = min_free
        self.debug = debug
        self.access_log = access_log
        if import_name is not None:  # the folder of the module's file ("" when it has none)
            import sys

            module = sys.modules.get(import_name)
            path = getattr(module, "__file__", None) if module is not None else None
            if path is None and import_name == "__main__" and sys.argv:
                path = sys.argv[0]  # MicroPython does not list the script it runs in sys.modules
            i = path.rfind("/") if path else -1
            self.root = path[:i] if i > 0 else "/" if i == 0 else ""
        self.router = Router()
        self.error_handlers = {}
        self.server = None

    # -- routes --
    def route(self, path, methods=("GET",)):
        """Decorator: `handler(req, **params)` answers `methods` on `path`."""

        def register(handler):
            # A generator function would be awaited on MicroPython as if it were `async def`,
            # and hang. Only CPython can tell them apart (the freeze check flags it for a
            # device): a device does not even load ember.runtime for it.
            import sys

            if sys.implementation.name == "cpython":
                from .runtime import is_generator_function

                if is_generator_function(handler):
                    raise TypeError(
                        "%s: a handler is a def or async def function; to stream, return a "
                        "generator (Response(gen())) from it" % path
                    )
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
        from .mount import mount

        mount(self, prefix, app)

    def static(self, prefix, directory, **options):
        """Serve the files under `directory` (see `import_name`) at `prefix`; options as
        `ember.static.static`."""
        from .static import resolve, static

        static(self, prefix, resolve(self, directory), **options)

    def add_resource(self, resource, path, **kwargs):
        """Map a class's get/post/put/patch/delete methods to `path` (see `ember.resource`)."""
        from .resource import add_resource

        return add_resource(self, resource, path, **kwargs)

    # -- hooks and error handlers --
    def before_request(self, hook):
        """`hook(req)` runs before every handler; a non-None return is the response."""
        self.before += (hook,)
        return hook

    def after_request(self, hook):
        """`hook(req, response)` returns the response to send (possibly the same one)."""
        self.after += (hook,)
        return hook

    def errorhandler(self, key):
        """Decorator for `handler(req, exc)` by status code (int) or exception class."""

        def register(handler):
            self.error_handlers[key] = handler
            return handler

        return register

    # -- serving --
    async def handle(self, reader, writer):
        """Serve one already-open connection (any stream pair with `readinto`, `write`, `drain`,
        `close`, `wait_closed`): the entry point for transports other than ember's own listener."""
        import asyncio

        from .connection import Connection
        from .protocol import serve_connection

        conn = Connection(self, bytearray(self.max_head))
        conn.reset(reader, writer)
        conn.task = asyncio.current_task()
        await serve_connection(self, conn)

    async def serve(self, host="0.0.0.0", port=80, ready=None):
        """Listen and serve until `shutdown()`; `ready(port)` is called once the listening socket
        and the connection slots are made."""
        # Room for a connection slot, held while the serving code loads: loading leaves a small
        # heap in pieces, possibly none of them large enough for a slot's buffer or its frame.
        # asyncio's stream module (which that code needs) loads first, while the heap is whole.
        import asyncio

        _ = asyncio.StreamReader
        try:
            room = bytearray(self.max_head + _SLOT_EXTRA)
        except MemoryError:
            room = None
        from .server import Server

        self.server = Server(self, host, port)
        del room
        try:
            await self.server.run(ready)
        finally:
            self.server = None

    def run(self, host="0.0.0.0", port=80, **kwargs):
        """Serve forever (blocking): the usual last line of main.py. Ctrl-C (at the REPL, in a
        terminal) stops it with one line, not a traceback."""
        import asyncio

        print("ember: serving on http://%s:%d" % (host, port))
        try:
            asyncio.run(self.serve(host, port, **kwargs))
        except KeyboardInterrupt:
            print("ember: stopped")

    def shutdown(self):
        """Close the listener and every open connection; `serve()` then returns."""
        if self.server is not None:
            self.server.stop()
