"""One request through the application: hooks, routing, the handler, errors, the response.

Loaded when serving starts, not when `ember` is imported: an app that only declares its routes
keeps this code (and the request, response and connection modules) out of the heap."""

from .http import HTTPError
from .response import Response, error_response, render, send, to_response
from .runtime import CORO, format_exception, print_exception, ticks_ms

_FAST = (str, bytes, dict, list)


async def dispatch(app, req):
    """Answer `req`; False when the connection must close afterwards.

    The common case (no hooks, a str/bytes/dict/list result) runs in this one coroutine: every
    coroutine call on MicroPython allocates a frame, so the hot path avoids them."""
    try:
        result = await _before(app, req) if app.before else None
        if result is None:
            handler, params = _route(app, req)
            result = handler(req, **params) if params else handler(req)
            if type(result) is CORO:
                result = await result
    except HTTPError as e:
        result = await on_error(app, req, e.status, e)
    except MemoryError:
        raise
    except Exception as e:
        print_exception(e)
        result = await on_error(app, req, 500, e)
    if req.detached:
        return False
    try:
        if not app.after and type(result) in _FAST:
            conn = req.conn
            data = render(req, result)
            conn.deadline = ticks_ms() + app.io_ms
            writer = conn.writer
            writer.write(data)
            await writer.drain()
            conn.deadline = None
            status = 200
            keep = req.keep_alive
        else:
            response = to_response(result)
            for hook in app.after:
                response = await maybe_await(hook(req, response)) or response
            status = response.status
            keep = await send(req.conn, req, response)
    except (OSError, MemoryError):
        raise
    except Exception as e:  # unwritable result (bad header, not JSON-able): nothing sent yet
        print_exception(e)
        status = 500
        keep = await send(req.conn, req, error_response(HTTPError(500)))
    if app.access_log:
        print('%s "%s %s" %d' % (req.client_addr[0], req.method, req.path, status))
    return keep


async def _before(app, req):
    for hook in app.before:
        result = await maybe_await(hook(req))
        if result is not None:
            return result
    return None


def _route(app, req):
    """(handler, params) for the request, or HTTPError 404/405; OPTIONS answers itself."""
    table, params = app.router.match(req.path)
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
                return _options, {"allow": allow}
            raise HTTPError(405, None, {"Allow": allow})
    req.params = params
    return handler, params


def _options(req, allow):
    return Response(b"", 204, {"Allow": allow})


async def on_error(app, req, status, exc):
    """The result for an error: the app's handler for the status or exception class, else a
    plain-text response (with the traceback when `debug`)."""
    handler = app.error_handlers.get(status)
    if handler is None and not isinstance(exc, HTTPError):
        for key, h in app.error_handlers.items():
            if type(key) is not int and isinstance(exc, key):
                handler = h
                break
    if handler is not None:
        try:
            return await maybe_await(handler(req, exc))
        except Exception as e:  # a failing error handler must not take the connection down
            print_exception(e)
    if isinstance(exc, HTTPError):
        return error_response(exc)
    debug = format_exception(exc) if app.debug else None
    return error_response(HTTPError(500), debug)


def _allow(table):
    methods = list(table)
    if "GET" in table and "HEAD" not in table:
        methods.append("HEAD")
    methods.append("OPTIONS")
    return ", ".join(methods)


async def maybe_await(result):
    if type(result) is CORO:
        return await result
    return result
