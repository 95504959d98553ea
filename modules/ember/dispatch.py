"""One request through the application: hooks, routing, the handler, errors, the response.

Loaded when serving starts, not when `ember` is imported: an app that only declares its routes
keeps this code (and the request, response and connection modules) out of the heap."""

from .http import HTTPError
from .response import Response, error_response, is_awaitable, send, send_body, to_response
from .runtime import format_exception, print_exception

_FAST = (str, bytes, dict, list)


async def dispatch(app, req):
    """Answer `req`; False when the connection must close afterwards."""
    try:
        result = await _call(app, req)
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
        status, keep = await _respond(app, req, result)
    except (OSError, MemoryError):
        raise
    except Exception as e:  # unwritable result (bad header, not JSON-able): nothing sent yet
        print_exception(e)
        status = 500
        keep = await send(req.conn, req, error_response(HTTPError(500)))
    if app.access_log:
        print('%s "%s %s" %d' % (req.client_addr[0], req.method, req.path, status))
    return keep


async def _respond(app, req, result):
    if not app.after and type(result) in _FAST:
        return 200, await send_body(req.conn, req, result)
    response = to_response(result)
    for hook in app.after:
        response = await maybe_await(hook(req, response)) or response
    return response.status, await send(req.conn, req, response)


async def _call(app, req):
    for hook in app.before:
        result = await maybe_await(hook(req))
        if result is not None:
            return result
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
                return Response(b"", 204, {"Allow": allow})
            raise HTTPError(405, None, {"Allow": allow})
    req.params = params
    result = handler(req, **params) if params else handler(req)
    if is_awaitable(result):
        result = await result
    return result


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
    if is_awaitable(result):
        return await result
    return result
