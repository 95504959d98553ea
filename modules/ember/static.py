"""Static files: `static(app, "/static", "www")` (or `app.static(...)`) and `send_file(path, req)`.

Files are streamed through one small buffer per response (512 B by default), never read whole.
Content-Type from the extension; a `name.gz` sibling is sent with `Content-Encoding: gzip` when
the client accepts gzip (or when only the `.gz` exists and the client states no preference);
`ETag` (size and mtime) with `If-None-Match` -> 304; `Cache-Control: max-age`; one `Range`
(206, or 416 when unsatisfiable); `index.html` for a directory. Request paths are confined to the
directory: `..`, `.`, dot-files, backslashes, empty segments and NUL all answer 404."""

from .http import HTTPError
from .response import Response

# Extension -> Content-Type, one constant string (lives in flash when frozen).
_TYPES = (
    "\nhtml text/html; charset=utf-8\nhtm text/html; charset=utf-8\n"
    "css text/css; charset=utf-8\njs text/javascript; charset=utf-8\n"
    "mjs text/javascript; charset=utf-8\njson application/json\nmap application/json\n"
    "txt text/plain; charset=utf-8\ncsv text/csv; charset=utf-8\nxml application/xml\n"
    "svg image/svg+xml\npng image/png\njpg image/jpeg\njpeg image/jpeg\ngif image/gif\n"
    "ico image/x-icon\nwebp image/webp\nwasm application/wasm\nwoff font/woff\n"
    "woff2 font/woff2\nttf font/ttf\npdf application/pdf\nmp3 audio/mpeg\nwav audio/wav\n"
    "mp4 video/mp4\nwebmanifest application/manifest+json\nzip application/zip\n"
)
_BINARY = "application/octet-stream"


def guess_type(name):
    """The Content-Type for a file name, from its extension."""
    dot = name.rfind(".")
    if dot < 0 or name.rfind("/") > dot:
        return _BINARY
    key = "\n" + name[dot + 1 :].lower() + " "
    i = _TYPES.find(key)
    if i < 0:
        return _BINARY
    i += len(key)
    return _TYPES[i : _TYPES.index("\n", i)]


def resolve(app, path):
    """`path` as is when absolute, else beside the application module (`App(__name__)`); on a
    device, where that module is frozen, in the current directory: the filesystem's root."""
    if path[:1] == "/" or not app.root:
        return path
    return app.root.rstrip("/") + "/" + path


def static(app, prefix, directory, max_age=3600, index="index.html", buffer_size=512):
    """Serve files under `directory` at `prefix` (GET and HEAD).

    `max_age`: seconds for Cache-Control (None: no header, 0: `no-cache`). `index`: the file
    served for a directory (None: directories are 404)."""
    prefix = prefix.rstrip("/")
    directory = directory.rstrip("/") or "/"

    def serve_dir_root(req):
        return _serve_rel(req, "")

    def serve_path(req, path):
        return _serve_rel(req, path)

    def _serve_rel(req, rel):
        if not _safe(rel):
            raise HTTPError(404)
        path = directory + "/" + rel if directory != "/" else "/" + rel
        st = _stat(path)
        if st is not None and st[0] & 0o170000 == 0o040000:  # a directory
            if rel and not rel.endswith("/"):
                return Response(b"", 301, {"Location": req.path + "/"})
            if index is None:
                raise HTTPError(404)
            path = path.rstrip("/") + "/" + index
        elif rel.endswith("/"):
            raise HTTPError(404)
        return send_file(path, req, None, max_age, buffer_size)

    app.route(prefix + "/")(serve_dir_root)
    app.route(prefix + "/<path:path>")(serve_path)
    if prefix:
        app.route(prefix)(lambda req: Response(b"", 301, {"Location": prefix + "/"}))


def _safe(rel):
    """True when `rel` (percent-decoded already) names something inside the directory."""
    if "\\" in rel or "\0" in rel or rel.startswith("/"):
        return False
    segments = rel.split("/")
    last = len(segments) - 1
    for i in range(len(segments)):
        s = segments[i]
        if not s:
            if i == last:  # "sub/": the directory's index
                continue
            return False
        if s[0] == ".":  # "..", "." and hidden files
            return False
    return True


def _stat(path):
    import os

    try:
        return os.stat(path)
    except OSError:
        return None


def send_file(path, req=None, content_type=None, max_age=None, buffer_size=512):
    """A Response streaming the file at `path` (404 when it is not a file).

    With the request `req` it also honours Accept-Encoding (a `.gz` sibling), If-None-Match
    (304), Range and If-Range (206/416); without it the plain file is sent whole."""
    st = _stat(path)
    plain = st is not None and st[0] & 0o170000 == 0o100000
    headers = {}
    gz = None
    if req is not None:
        gz_st = _stat(path + ".gz")
        if gz_st is not None and gz_st[0] & 0o170000 == 0o100000:
            headers["Vary"] = "Accept-Encoding"
            accept = _accepts_gzip(req.raw_headers.get(b"accept-encoding"))
            if accept or (not plain and accept is None):
                gz = gz_st
            elif not plain:
                raise HTTPError(406, "this file is only available gzip-encoded")
    if gz is not None:
        headers["Content-Encoding"] = "gzip"
        st = gz
        name = path
        path = path + ".gz"
    elif not plain:
        raise HTTPError(404)
    else:
        name = path
    size = st[6]
    etag = '"%x-%x%s"' % (size, int(st[8]), "-gz" if gz is not None else "")
    headers["ETag"] = etag
    headers["Accept-Ranges"] = "bytes"
    if max_age is not None:
        headers["Cache-Control"] = "max-age=%d" % max_age if max_age else "no-cache"
    ctype = content_type or guess_type(name)
    if req is None:
        return _file_response(path, 0, size, 200, headers, ctype, buffer_size)
    h = req.raw_headers
    inm = h.get(b"if-none-match")
    if inm is not None and _etag_matches(inm, etag):
        return Response(b"", 304, headers)
    rng = h.get(b"range")
    if rng is not None:
        if_range = h.get(b"if-range")
        if if_range is not None and if_range != etag.encode():
            rng = None
    if rng is not None:
        span = _range(rng, size)
        if span is None:  # unsatisfiable
            headers["Content-Range"] = "bytes */%d" % size
            return Response("range not satisfiable", 416, headers)
        if span != 0:
            start, end = span
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end - 1, size)
            return _file_response(path, start, end - start, 206, headers, ctype, buffer_size)
    return _file_response(path, 0, size, 200, headers, ctype, buffer_size)


def _file_response(path, start, length, status, headers, ctype, buffer_size):
    headers["Content-Type"] = ctype
    headers["Content-Length"] = str(length)
    return Response(FileBody(path, start, length, buffer_size), status, headers)


def _accepts_gzip(value):
    """True/False when Accept-Encoding allows/refuses gzip; None when the header is absent."""
    if value is None:
        return None
    for item in value.split(b","):
        semi = item.find(b";")
        coding = (item if semi < 0 else item[:semi]).strip().lower()
        if coding == b"gzip" or coding == b"*":
            if semi >= 0:
                q = item[semi + 1 :].replace(b" ", b"")
                if q.startswith(b"q=") and q[2:].strip(b"0.") == b"":
                    return False
            return True
    return False


def _etag_matches(value, etag):
    if value.strip() == b"*":
        return True
    etag = etag.encode()
    for tag in value.split(b","):
        tag = tag.strip()
        if tag.startswith(b"W/"):
            tag = tag[2:]
        if tag == etag:
            return True
    return False


def _range(value, size):
    """(start, end) for one `bytes=` range; 0 to ignore the header (malformed, multiple
    ranges, other units: the whole file is sent); None when unsatisfiable."""
    if not value.startswith(b"bytes=") or b"," in value:
        return 0
    spec = value[6:].strip()
    dash = spec.find(b"-")
    if dash < 0:
        return 0
    first = spec[:dash].strip()
    last = spec[dash + 1 :].strip()
    if (first and not first.isdigit()) or (last and not last.isdigit()) or len(spec) > 40:
        return 0
    if not first:
        if not last:
            return 0
        n = int(last)
        if n == 0 or size == 0:
            return None
        return (size - n if n < size else 0), size
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return 0
    if start >= size:
        return None
    return start, (end if end < size else size)


class FileBody:
    """An async iterator over `length` bytes of a file from `start`, through one small buffer.

    The file opens on the first chunk (a HEAD request never opens it) and closes at the end or
    when the server stops early (client gone)."""

    def __init__(self, path, start, length, buffer_size=512):
        self.path = path
        self.start = start
        self.left = length
        self.size = buffer_size
        self.f = None
        self.mv = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.left <= 0:
            self.close()
            raise StopAsyncIteration
        if self.f is None:
            self.f = open(self.path, "rb")
            if self.start:
                self.f.seek(self.start)
            self.mv = memoryview(bytearray(self.size))
        mv = self.mv
        n = self.f.readinto(mv if self.left >= len(mv) else mv[: self.left])
        if not n:  # the file shrank: stop, the server closes the short response
            self.close()
            raise StopAsyncIteration
        self.left -= n
        return mv[:n]

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None
            self.mv = None

    async def aclose(self):
        self.close()
