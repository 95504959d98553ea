"""Responses: what handlers may return, and how each kind is written on the wire."""

import json

from .http import HTTPError, connection_header, reason
from .runtime import CORO

_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json"
_BINARY = b"application/octet-stream"
_NO_BODY = (204, 304)


class Response:
    """A status, headers and a body.

    `body` may be str, bytes, a dict/list (sent as JSON), or an iterator / generator / async
    iterator of str or bytes chunks, which is streamed (chunked on HTTP/1.1, close-delimited on
    HTTP/1.0)."""

    def __init__(self, body=b"", status=200, headers=None, content_type=None):
        self.body = body
        self.status = status
        self.headers = {} if headers is None else headers
        if content_type is not None:
            self.headers["Content-Type"] = content_type
        self.cookies = None  # Set-Cookie values; see ember.cookies

    def set_cookie(self, name, value, **options):
        """Add a Set-Cookie header; options as in `ember.cookies.cookie_header`."""
        from .cookies import cookie_header

        if self.cookies is None:
            self.cookies = []
        self.cookies.append(cookie_header(name, value, **options))


def redirect(url, status=302):
    """A redirect to `url` (302 by default; 301, 303, 307, 308 also make sense)."""
    return Response(b"", status, {"Location": url})


def to_response(result):
    """Normalise whatever a handler returned into a Response."""
    if isinstance(result, Response):
        return result
    if type(result) is tuple:
        if len(result) == 2:
            return Response(result[0], result[1])
        if len(result) == 3:
            return Response(result[0], result[1], result[2])
        raise TypeError("a handler tuple is (body, status[, headers])")
    if result is None:
        return Response(b"", 204)
    return Response(result)


def _header_bytes(name, value):
    """`Name: value\\r\\n`; refuses CR, LF and NUL so a value cannot inject headers."""
    if type(value) is not str:
        value = str(value)
    if "\r" in value or "\n" in value or "\0" in value or not _is_token(name):
        raise ValueError("invalid header %r" % name)
    return (name + ": " + value + "\r\n").encode()


def _is_token(name):
    if not name:
        return False
    for c in name:
        if c in ' \t:()<>@,;"/[]?={}\\\r\n\0':
            return False
    return True


def _content_type(body):
    """(body bytes or None when streamed, default content type)."""
    t = type(body)
    if t is str:
        return body.encode(), _TEXT
    if t is bytes or t is bytearray or t is memoryview:
        return body, _BINARY
    if t is dict or t is list:
        return json.dumps(body).encode(), _JSON
    if not (hasattr(body, "__aiter__") or hasattr(body, "__anext__")):
        try:
            iter(body)
        except TypeError:  # refused before any byte is sent: a 500 that says why
            if hasattr(body, "close"):  # a coroutine (CPython): it will never be awaited
                body.close()
            raise HTTPError(
                500,
                "the handler returned %s: not a response" % type(body).__name__
                + (" (an await is missing)" if t is CORO else ""),
            )
    return None, _BINARY


_status_lines = {}


def status_line(status):
    """b"HTTP/1.1 200 OK\\r\\n", built once per status code and kept."""
    line = _status_lines.get(status)
    if line is None:
        line = ("HTTP/1.1 %d %s\r\n" % (status, reason(status))).encode()
        _status_lines[status] = line
    return line


def head_lines(response):
    """(the status line and header lines of `response`, whether they name a Content-Type):
    what every response head starts with, to which the sender adds its framing."""
    parts = [status_line(response.status)]
    have_ctype = False
    for name, value in response.headers.items():
        parts.append(_header_bytes(name, value))
        if not have_ctype and name.lower() == "content-type":
            have_ctype = True
    if response.cookies:
        for value in response.cookies:
            parts.append(_header_bytes("Set-Cookie", value))
    return parts, have_ctype


async def send(conn, req, response):
    """Write `response`; False when the connection must close afterwards."""
    status = response.status
    body, ctype = _content_type(response.body)
    keep = req.keep_alive if req is not None else False
    parts, have_ctype = head_lines(response)
    if status < 200 or status in _NO_BODY:
        body = b""
    else:
        if not have_ctype:
            parts.append(b"Content-Type: " + ctype + b"\r\n")
        if body is None:
            from .streaming import send_stream, stream_length  # loaded by the first stream

            length = stream_length(response.headers)
            return await send_stream(conn, req, parts, response.body, keep, length)
        parts.append(b"Content-Length: %d\r\n" % len(body))
    if req is None or req.method == "HEAD":
        body = b""
    parts.append(connection_header(req, keep))
    parts.append(body)
    await conn.send(b"".join(parts))
    return keep


def error_response(exc, debug_text=None):
    """The response for an HTTPError (plain-text reason, plus its headers)."""
    body = exc.reason if debug_text is None else exc.reason + "\n\n" + debug_text
    headers = dict(exc.headers) if exc.headers else {}
    return Response(body, exc.status, headers)
