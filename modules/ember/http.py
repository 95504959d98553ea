"""HTTP status codes, the exception that carries one, and the byte strings the server writes."""

REASONS = {
    100: "Continue",
    101: "Switching Protocols",
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    206: "Partial Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    422: "Unprocessable Content",
    426: "Upgrade Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported",
}

_status_lines = {}


def status_line(status):
    """b"HTTP/1.1 200 OK\\r\\n", built once per status code and kept."""
    line = _status_lines.get(status)
    if line is None:
        line = ("HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, "Unknown"))).encode()
        _status_lines[status] = line
    return line


class HTTPError(Exception):
    """Raised (or returned through `abort`) to answer with an error status.

    `reason` becomes the plain-text body; `headers` are added to the response (e.g. `Allow`)."""

    def __init__(self, status, reason=None, headers=None):
        super().__init__(status, reason)
        self.status = status
        self.reason = reason or REASONS.get(status, "Error")
        self.headers = headers


def abort(status, reason=None, headers=None):
    """Stop the handler and answer `status` (the Flask idiom)."""
    raise HTTPError(status, reason, headers)


# Written when memory is too short to build anything else: a constant, so writing it allocates
# nothing.
OVERLOADED = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
