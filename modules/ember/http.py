"""HTTP status codes, the exception that carries one, and the byte strings the server writes."""

# One constant string, so the table lives in flash when frozen (a dict would be built in RAM).
_REASONS = (
    "\n"
    "100 Continue\n101 Switching Protocols\n200 OK\n201 Created\n202 Accepted\n"
    "204 No Content\n206 Partial Content\n301 Moved Permanently\n302 Found\n303 See Other\n"
    "304 Not Modified\n307 Temporary Redirect\n308 Permanent Redirect\n400 Bad Request\n"
    "401 Unauthorized\n403 Forbidden\n404 Not Found\n405 Method Not Allowed\n"
    "406 Not Acceptable\n"
    "408 Request Timeout\n409 Conflict\n411 Length Required\n413 Content Too Large\n"
    "414 URI Too Long\n415 Unsupported Media Type\n416 Range Not Satisfiable\n"
    "417 Expectation Failed\n422 Unprocessable Content\n426 Upgrade Required\n"
    "429 Too Many Requests\n431 Request Header Fields Too Large\n"
    "500 Internal Server Error\n501 Not Implemented\n503 Service Unavailable\n"
    "505 HTTP Version Not Supported\n"
)


def reason(status):
    """The reason phrase for `status` ("Unknown" when ember has none)."""
    key = "\n%d " % status
    i = _REASONS.find(key)
    if i < 0:
        return "Unknown"
    i += len(key)
    return _REASONS[i : _REASONS.index("\n", i)]


class HTTPError(Exception):
    """Raised (or returned through `abort`) to answer with an error status.

    `message` (default: the reason phrase) becomes the plain-text body; `headers` are added to
    the response (e.g. `Allow`)."""

    def __init__(self, status, message=None, headers=None):
        super().__init__(status, message)
        self.status = status
        self.reason = message or reason(status)
        self.headers = headers


def abort(status, message=None, headers=None):
    """Stop the handler and answer `status` (the Flask idiom)."""
    raise HTTPError(status, message, headers)


def connection_header(req, keep):
    """The end of a response head: the Connection field where persistence is not the default."""
    if not keep:
        return b"Connection: close\r\n\r\n"
    if not req.http11:
        return b"Connection: keep-alive\r\n\r\n"
    return b"\r\n"


# Written when memory is too short to build anything else: a constant, so writing it allocates
# nothing.
OVERLOADED = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
