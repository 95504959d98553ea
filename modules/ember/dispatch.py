"""The application's side of a request, the general way: hooks, the handler, error handlers, the
response. ember.protocol hands a request here once (`serve`, or on its plain path `fail` or
`respond`), and answers the plain requests itself. Loaded when the first request needs it, not
when `ember` is imported: an app that only declares its routes keeps this code out of the heap."""

from .http import HTTPError
from .response import error_response, send, to_response
from .router import call
from .runtime import CORO, format_exception, print_exception


async def awaited(result):
    """`result`, awaited first when it is what calling an `async def` returns: handlers, hooks
    and checks may be either kind. (The plain path checks inline instead: on MicroPython this
    call allocates a frame.)"""
    if type(result) is CORO:
        return await result
    return result


async def serve(app, req):
    """One request the general way: before-request hooks, the handler, error handlers, the
    response (see `respond`). False when the connection must close afterwards."""
    try:
        result = await before(app, req)
        if result is None:
            result = await awaited(call(app, req))
    except HTTPError as e:
        result = await on_error(app, req, e.status, e)
    except MemoryError:
        raise
    except Exception as e:
        print_exception(e)
        result = await on_error(app, req, 500, e)
    if req.owner is not None:  # a WebSocket or event stream took the connection over
        return False
    return await respond(app, req, result)


async def fail(app, req, status, exc):
    """A handler's error on the plain path: the app's error handler, or a plain-text answer."""
    return await respond(app, req, await on_error(app, req, status, exc))


async def respond(app, req, result):
    """Send `result` the general way (after-request hooks, Response objects, streams, access
    log). False when the connection must close afterwards."""
    try:
        response = to_response(result)
        for hook in app.after:
            response = await awaited(hook(req, response)) or response
        status = response.status
        keep = await send(req.conn, req, response)
    except (OSError, MemoryError):
        raise
    except Exception as e:  # unwritable result (bad header, not JSON-able): nothing sent yet
        print_exception(e)
        status = 500
        keep = await send(
            req.conn, req, error_response(e if type(e) is HTTPError else HTTPError(500))
        )
    if app.access_log:
        log_access(req, status)
    return keep


def log_access(req, status):
    """One access-log line: UTC time, client, request line, status."""
    from time import gmtime

    t = gmtime()
    print(
        '%04d-%02d-%02dT%02d:%02d:%02dZ %s "%s %s" %d'
        % (t[0], t[1], t[2], t[3], t[4], t[5], req.client_addr[0], req.method, req.path, status)
    )


async def before(app, req):
    """Run the before-request hooks (if any); the first non-None result is the response."""
    for hook in app.before:
        result = await awaited(hook(req))
        if result is not None:
            return result
    return None


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
            return await awaited(handler(req, exc))
        except Exception as e:  # a failing error handler must not take the connection down
            print_exception(e)
    if isinstance(exc, HTTPError):
        return error_response(exc)
    debug = format_exception(exc) if app.debug else None
    return error_response(HTTPError(500), debug)
