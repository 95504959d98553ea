"""HTTP/1.1 on one connection: requests in order (keep-alive, pipelining), errors as responses."""

from .dispatch import dispatch
from .http import OVERLOADED, HTTPError
from .request import Request
from .response import Response, error_response, send
from .runtime import collect

from asyncio import CancelledError

# Unread request bodies up to this size are skipped to keep the connection; larger ones close it.
_DISCARD_LIMIT = 65536


async def serve_connection(app, conn):
    """Answer requests on `conn` until it closes, times out, or a response says close."""
    req = None
    try:
        while True:
            req = None
            head = await conn.head()
            if head is None:
                return
            req = Request(conn, head)
            keep = await dispatch(app, req)
            conn.served += 1
            if not keep or not await _finish_body(req):
                return
    except MemoryError:
        # Nothing here may allocate: write a constant and let the finally free the slot.
        req = None
        collect()
        try:
            conn.writer.write(OVERLOADED)
        except Exception:
            pass
    except HTTPError as e:  # from parsing: the framing cannot be trusted, so close after
        if req is not None:
            req.keep_alive = False
        await _try_send(conn, req, error_response(e))
    except CancelledError:
        if conn.timed_out:
            # A half-received request gets 408; an idle keep-alive connection just closes.
            if conn.end > conn.start:
                await _try_send(conn, None, Response("request timeout", 408))
        else:
            raise
    except (OSError, EOFError):  # the client went away
        pass
    finally:
        await conn.close()


async def _finish_body(req):
    """Skip what the handler left of the body, so the next request starts at its head."""
    if not req.body_pending():
        return True
    reader = req.stream()
    if reader.expect_continue:  # the client waits for 100 before sending: it sends nothing now
        return False
    return await reader.discard(_DISCARD_LIMIT)


async def _try_send(conn, req, response):
    try:
        await send(conn, req, response)
    except Exception:
        pass
