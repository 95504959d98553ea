"""The application's side of a request: routing, hooks, error handlers, the general response.

(The common path runs inline in ember.protocol.) Loaded when serving starts, not when `ember`
is imported: an app that only declares its routes keeps this code out of the heap."""

from .http import HTTPError
from .response import Response, error_response, send, to_response
from .runtime import CORO, format_exception, print_exception


async def respond(app, req, result):
    """Send `result` the general way (after-request hooks, Response objects, streams, access
    log); an exception as `result` means rendering failed and becomes a 500. False when the
    connection must close afterwards."""
    try:
        if isinstance(result, Exception):
            raise result
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


async def before(app, req):
    """Run the before-request hooks (if any); the first non-None result is the response."""
    for hook in app.before:
        result = await maybe_await(hook(req))
        if result is not None:
            return result
    return None


def route(app, req):
    """The handler for the request (its path parameters go to `req.params`), or HTTPError
    404/405; OPTIONS answers itself. Small on purpose: it runs for every request."""
    table = app.router.static.get(req.path)
    if table is None:
        table, params = app.router.match(req.path)
        if table is None:
            raise HTTPError(404)
        req.params = params
    handler = table.get(req.method)
    return handler if handler is not None else _other_method(req, table)


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
