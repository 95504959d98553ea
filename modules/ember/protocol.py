"""HTTP/1.1 on one connection: requests in order (keep-alive, pipelining), errors as responses.

The common request (head already complete in one read, no hooks, a str/bytes/dict/list result)
is answered inside this one coroutine, which outlives the request (and, under ember's listener,
the connection): on MicroPython every coroutine call allocates a frame, so the per-request path
makes none of its own."""

import json
from asyncio import CancelledError

from . import http
from .request import Request
from .router import route
from .runtime import CORO, MICROPYTHON, collect, print_exception, sleep_ms

# Builtins the serving path calls, bound as this module's globals: MicroPython looks a name up
# in the module's globals before the builtins, so a builtin costs a failed lookup first (some
# 700 instructions on the unix port, where a global costs 100). Binding them in each module on
# the path took GET / from 92.0k to 86.3k instructions. Bound last: this dict then grows after
# the modules above are loaded, which leaves the heap less fragmented (a default App starts in
# 110 bytes less).
from builtins import bytearray, len, str, type


async def serve_connection(app, conn, server=None):
    """Answer requests on `conn` until it closes, times out, or a response says close.

    Under ember's listener (`server` given) this is a connection slot's worker, as long-lived as
    the server: it sleeps until the listener hands the slot a client and wakes it with
    `cancel()`, serves that client, then sleeps again. Its frame is allocated once, at start:
    so what awaits stays inline here (a coroutine call would allocate a frame), in five steps."""
    while True:
        if server is not None:  # 1. wait for a client
            conn.idle = True
            while conn.idle:
                try:
                    await sleep_ms(86400000)  # a day: the listener wakes it sooner
                except CancelledError:  # woken: a client, a stale timeout, or shutdown
                    if server.stopped:
                        return
                    if not MICROPYTHON:
                        conn.task.uncancel()  # this task
        req = head = None
        served = 0  # requests answered; after the first, waiting is keep-alive idling
        reader = conn.reader
        writer = conn.writer
        sock = conn.sock  # ember's listener (MicroPython): the plain answer goes straight to it
        # Hooks and the access log send requests the general way; decided once per connection.
        plain = not (app.before or app.after or app.access_log)
        try:
            try:
                while True:
                    # 2. the request's head: buffered already (pipelined), in one read (the
                    # usual case), or in pieces
                    req = None
                    head = conn.next_head()
                    if type(head) is bytearray:  # nothing buffered: read into the buffer
                        conn.expire_in(app.idle_ms if served else app.header_ms)
                        n = await reader.readinto(head)
                        while n is None:
                            n = await reader.readinto(head)
                        if not n:
                            break
                        head = conn.take_head(n)
                    elif head is not None:  # pipelined: no read yielded to the other tasks
                        await sleep_ms(0)
                    if head is None:
                        head = await conn.head()
                    conn.deadline = None
                    req = Request(conn, head)

                    # 3. the application's answer: a plain one written here, in one write;
                    # anything else (hooks, Response objects, streams, errors) by dispatch
                    if plain:
                        keep = None
                        try:  # router.call, inline: a call costs the most common request
                            # A static route's handler found here; anything else (patterns,
                            # 404, 405, HEAD, OPTIONS) by the router.
                            handler = app.router.static.get(req.path)
                            if handler is not None:
                                handler = handler.get(req.method)
                            if handler is not None:
                                result = handler(req)
                            else:
                                handler = route(app, req)
                                params = req.params
                                result = handler(req, **params) if params else handler(req)
                            if type(result) is CORO:
                                result = await result
                        except http.HTTPError as e:
                            keep = await _dispatch().fail(app, req, e.status, e)
                        except MemoryError:
                            raise
                        except Exception as e:
                            print_exception(e)
                            keep = await _dispatch().fail(app, req, 500, e)
                        owner = req.owner  # read once: nothing below takes the connection over
                        if keep is None and owner is None:
                            try:
                                data = render(req, result)
                            except Exception:  # not JSON-able: the general way says why
                                data = None
                            if data is None:
                                keep = await _dispatch().respond(app, req, result)
                                owner = req.owner
                            else:
                                # When the socket takes it all (the usual case) there is
                                # nothing to drain: drain() would only yield to the scheduler,
                                # which the request's read has done already.
                                sent = sock.write(data) if sock is not None else None
                                if sent != len(data):  # the rest through the stream
                                    if sent:
                                        data = data[sent:]
                                    conn.expire_in(app.io_ms)
                                    writer.write(data)
                                    await writer.drain()
                                    conn.deadline = None
                                keep = req.keep_alive
                    else:
                        keep = await _dispatch().serve(app, req)
                        owner = req.owner
                    if owner is not None:  # a WebSocket or event stream took it over
                        if app.access_log:  # logged when it ends, as any request is
                            _dispatch().log_access(req, owner.status)
                        break

                    # 4. the next request, if the connection stays open
                    served += 1
                    if not keep or (req._reader is not None and not await req._reader.finish()):
                        break
            except MemoryError:
                # Nothing here may allocate: write a constant and let the finally close it.
                collect()
                try:
                    writer.write(http.OVERLOADED)
                except Exception:
                    pass
            except http.HTTPError as e:  # from parsing: the framing is lost, so close after
                # A HEAD request's answer has no body, even when its head did not parse.
                if req is not None:
                    bodiless = req.method == "HEAD"
                else:
                    bodiless = head is not None and head[:5] == b"HEAD "
                await _send_error(conn, e.status, e.reason, bodiless)
            except CancelledError:
                if conn.timed_out:
                    # A half-received request gets 408; an idle keep-alive connection just closes.
                    if conn.buffered():
                        await _send_error(conn, 408, "request timeout")
                elif server is None or server.stopped:
                    raise
                # else the client went away under a WebSocket or event stream: close it
            except (OSError, EOFError):  # the client went away
                pass
            finally:  # 5. let go of the client
                if req is not None and req.owner is not None:  # no task may outlive it
                    req.owner.connection_lost()
                if conn.sock is not None:  # ember's listener: closing allocates nothing
                    conn.sock.close()
                else:
                    await conn.close()
        except BaseException as e:  # from an error path (no memory, a timeout while sending
            # the error), or a bug: this connection is lost, never the slot's worker. Ctrl-C
            # (KeyboardInterrupt, delivered to whichever task runs) stops the server instead.
            if server is None or server.stopped or type(e) is KeyboardInterrupt:
                raise
            if type(e) is not MemoryError and type(e) is not CancelledError:
                print_exception(e)
        if server is None:
            return
        # This frame outlives the client: drop what refers to it (streams, socket, request,
        # response) rather than keep it from the heap until the next one.
        req = reader = writer = sock = head = result = data = handler = params = owner = None
        conn.reset()


def _dispatch():
    """Hooks, error handlers and the general response, loaded the first time they are needed."""
    from . import dispatch

    return dispatch


async def _send_error(conn, status, message, bodiless=False):
    """A plain-text error, then the connection closes: what the protocol answers by itself (a
    malformed request, a timeout). Written here, not by ember.response: this happens most under
    load, and loading that module then would keep its heap from the requests for good.

    `bodiless` (the answer to HEAD): the Content-Length the body would have had, and no body."""
    body = message.encode()
    length = len(body)
    if bodiless:
        body = b""
    try:
        await conn.send(
            b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (status, http.reason(status).encode(), length, body)
        )
    except Exception:  # best effort: the connection closes either way
        pass


# The head of a 200 response up to the Content-Length value, per kind of body.
_OK_TEXT = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
_OK_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
_OK_BINARY = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "


def render(req, body):
    """A whole 200 response for a str/bytes/dict/list result, as one bytes object (one write);
    None for any other result, which goes the general way.

    Kept to few locals: MicroPython puts larger frames on the heap, on every call."""
    t = type(body)
    if t is str:
        body = body.encode()
        head = _OK_TEXT
    elif t is dict or t is list:
        body = json.dumps(body).encode()
        head = _OK_JSON
    elif t is bytes:
        head = _OK_BINARY
    else:
        return None
    if req.keep_alive and req.http11:
        end = b"\r\n"
    else:
        end = http.connection_header(req, req.keep_alive)
    if req.method == "HEAD":
        return b"%s%d\r\n%s" % (head, len(body), end)
    return b"".join((head, b"%d\r\n" % len(body), end, body))
