"""The Range header of static files (one `bytes=` range: 206, 416, or the whole file when it is
malformed or not one range), If-Range, HEAD, in-process through ember.testing.

Every case runs on CPython, MicroPython unix and webassembly (tests/inprocess.py); the files are
made by the test itself, in the runtime's own filesystem."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import os

import ember
from ember.static import send_file
from ember.testing import TestClient

try:
    import tempfile

    WWW = tempfile.mkdtemp(prefix="ember-range-")
except ImportError:  # MicroPython
    import time

    WWW = "/tmp/ember-range-%d" % time.ticks_us()
    os.mkdir(WWW)
DATA = b"abcdefghijklmnopqrstuvwxyz"
for name, content in (("data.txt", DATA), ("empty.txt", b"")):
    with open(WWW + "/" + name, "wb") as f:
        f.write(content)

app = ember.App()
app.static("/s", WWW, max_age=None)


@app.get("/file")
def file(req):
    return send_file(WWW + "/data.txt", req, content_type="text/x-letters")


client = TestClient(app)


async def ranged(value, path="/s/data.txt", method="GET", headers=None):
    h = {"Range": value} if value is not None else {}
    h.update(headers or {})
    return await client.request(method, path, h)


async def case_satisfiable_ranges_are_206():
    cases = (
        ("bytes=0-4", b"abcde", "0-4"),
        ("bytes=20-", b"uvwxyz", "20-25"),
        ("bytes=-3", b"xyz", "23-25"),
        ("bytes=-26", DATA, "0-25"),
        ("bytes=-100", DATA, "0-25"),
        ("bytes=10-1000", DATA[10:], "10-25"),
        ("bytes=25-25", b"z", "25-25"),
        ("bytes=0-0", b"a", "0-0"),
        ("bytes= 2-4 ", b"cde", "2-4"),
    )
    for value, body, span in cases:
        r = await ranged(value)
        assert r.status == 206 and r.body == body, (value, r)
        assert r.headers["Content-Range"] == "bytes %s/26" % span, value
        assert r.headers["Content-Length"] == str(len(body))
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


async def case_unsatisfiable_ranges_are_416():
    for value, path in (
        ("bytes=26-", "/s/data.txt"),
        ("bytes=30-40", "/s/data.txt"),
        ("bytes=-0", "/s/data.txt"),
        ("bytes=0-", "/s/empty.txt"),
        ("bytes=-5", "/s/empty.txt"),
    ):
        r = await ranged(value, path)
        size = 0 if "empty" in path else 26
        assert r.status == 416, (value, path, r)
        assert r.headers["Content-Range"] == "bytes */%d" % size


async def case_ignored_ranges_send_the_whole_file():
    # Malformed, several ranges, another unit, end before start: RFC 9110 lets a server ignore
    # Range, and ember does, with 200 and the whole file.
    for value in (
        "bytes=5-2",
        "bytes=0-1,3-4",
        "items=0-4",
        "bytes=a-b",
        "bytes=",
        "bytes=-",
        "bytes=1",
        "bytes=0x1-2",
        "bytes=-1-2",
        "bytes=0-99999999999999999999999999999999999999999",
        "Bytes=0-4",
    ):
        r = await ranged(value)
        assert r.status == 200 and r.body == DATA, (value, r)
        assert "Content-Range" not in r.headers
    r = await ranged(None)
    assert r.status == 200 and r.headers["Accept-Ranges"] == "bytes"


async def case_if_range():
    etag = (await ranged(None)).headers["ETag"]
    r = await ranged("bytes=0-1", headers={"If-Range": etag})
    assert r.status == 206 and r.body == b"ab"
    r = await ranged("bytes=0-1", headers={"If-Range": '"stale"'})
    assert r.status == 200 and r.body == DATA
    r = await ranged(None, headers={"If-None-Match": etag})
    assert r.status == 304 and r.body == b""


async def case_head_and_send_file():
    r = await ranged("bytes=3-5", method="HEAD")
    assert r.status == 206 and r.body == b"" and r.headers["Content-Length"] == "3"
    r = await ranged("bytes=3-5", path="/file")
    assert (r.status, r.body, r.headers["Content-Type"]) == (206, b"def", "text/x-letters")
    r = await ranged("bytes=99-", path="/file")
    assert r.status == 416


def teardown_module():
    for name in ("data.txt", "empty.txt"):
        os.remove(WWW + "/" + name)
    os.rmdir(WWW)


if pytest is not None:
    test_case = inprocess.cases_test(globals())
