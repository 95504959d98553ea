"""Request bodies, in-process through ember.testing: chunked framing (sizes, extensions, trailers,
limits, malformed lines), Content-Length, bodies split across arrivals, Expect: 100-continue.

Every case runs on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import ember
from ember.testing import TestClient

app = ember.App(max_body=1024)


@app.get("/")
def index(req):
    return "hello"


@app.post("/body")
async def body(req):
    return await req.body()


@app.post("/stream")
async def stream(req):
    n = 0
    total = 0
    async for chunk in req.stream():  # not capped by max_body
        n += len(chunk)
        total = (total + sum(chunk)) & 0xFFFFFFFF
    return {"n": n, "sum": total}


@app.post("/ignore")
def ignore(req):
    return "ignored"


client = TestClient(app)
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def chunked(path=b"/body", extra=b""):
    return b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n" % (path, extra)


async def answer(data, step=None, shutdown=True):
    """The first response to `data` (sent in arrivals of `step` bytes); then the connection must
    end cleanly. `shutdown=False` keeps the test's side open: the app must answer without EOF."""
    conn = client.connect()
    conn.send(data, step)
    if shutdown:
        conn.shutdown()
    r = await conn.response()
    conn.shutdown()
    await conn.wait_closed()
    return r


async def case_chunks_joined():
    r = await answer(chunked() + b"6\r\nhello \r\n8\r\nchunked \r\n5\r\nworld\r\n0\r\n\r\n")
    assert r.status == 200 and r.body == b"hello chunked world"


async def case_hex_case_extensions_and_leading_zeros():
    body = (
        b"A;name=value\r\n0123456789\r\nb;x\r\nabcdefghijk\r\n0000000000005\r\n12345\r\n0\r\n\r\n"
    )
    r = await answer(chunked() + body)
    assert r.body == b"0123456789abcdefghijk12345"


async def case_trailers_skipped_and_next_request_served():
    conn = client.connect()
    conn.send(chunked() + b"5\r\nhello\r\n0\r\nX-Checksum: 1\r\nX-More: 2\r\n\r\n" + GET)
    assert (await conn.response()).body == b"hello"
    assert (await conn.response()).body == b"hello"  # GET /, framed right after the trailers
    conn.shutdown()
    await conn.wait_closed()


async def case_split_across_arrivals():
    data = chunked() + b"6\r\nhello \r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"
    for step in (1, 2, 3, 7, 64):
        r = await answer(data, step)
        assert r.body == b"hello abcdefghijklmnopqrstuvwxyz", (step, r)
    data = b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789"
    for step in (1, 5, 9):
        assert (await answer(data, step)).body == b"0123456789"


async def case_huge_chunk_size_is_413_at_once():
    # More hex digits than any allowed body: refused from the size line, no data sent, no EOF.
    for size in (b"ffffffffffffffffffff", b"100000000", b"401"):
        r = await answer(chunked() + size + b"\r\n", shutdown=False)
        assert r.status == 413, (size, r)
        assert r.headers.get("Connection") == "close"
    # req.stream() is not capped by max_body, but no chunked body is larger than 4 GiB.
    for size in (b"ffffffffffffffffffff", b"100000000"):
        r = await answer(chunked(b"/stream") + size + b"\r\n", shutdown=False)
        assert r.status == 413, (size, r)


async def case_chunks_over_max_body_are_413_before_their_data():
    # 600 + 600 > max_body (1024): the second size line is refused before its data arrives.
    r = await answer(chunked() + b"258\r\n" + b"x" * 600 + b"\r\n258\r\n", shutdown=False)
    assert r.status == 413


async def case_stream_is_not_capped():
    data = b"".join(b"3e8\r\n" + bytes(range(200)) * 5 + b"\r\n" for _ in range(3))
    r = await answer(chunked(b"/stream") + data + b"0\r\n\r\n")
    assert r.json() == {"n": 3000, "sum": 3 * 5 * sum(range(200))}


async def case_malformed_chunk_sizes_are_400():
    for size in (b"0x10", b"+a", b"1_0", b"", b" ", b"g", b"-1", b"1 0", b"1;" + b"x" * 100):
        r = await answer(chunked() + size + b"\r\n0123456789abcdef\r\n0\r\n\r\n")
        assert r.status == 400, (size, r)
        assert r.headers.get("Connection") == "close"


async def case_chunk_data_must_end_with_crlf():
    r = await answer(chunked() + b"5\r\nhelloX\r\n0\r\n\r\n")
    assert r.status == 400 and r.text == "bad chunk"


async def case_body_ending_early_is_400():
    for data in (chunked() + b"a\r\nhello", chunked() + b"5\r\nhello\r\n", chunked() + b"5"):
        r = await answer(data)
        assert r.status == 400 and r.text == "body ended early", (data, r)
    r = await answer(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
    assert r.status == 400 and r.text == "body ended early"


async def case_framing_conflicts():
    cl = b"Content-Length: 5\r\n"
    assert (await answer(chunked(extra=cl) + b"5\r\nhello\r\n0\r\n\r\n")).status == 400
    te = b"Transfer-Encoding: chunked\r\n"
    assert (await answer(chunked(extra=te) + b"0\r\n\r\n")).status == 400  # repeated
    head = b"POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n\r\n"
    for coding in (b"gzip", b"gzip, chunked", b"identity"):
        assert (await answer(head % coding + b"0\r\n\r\n")).status == 501, coding


async def case_content_length_values():
    head = b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\nhello"
    assert (await answer(head % b" 5 ")).body == b"hello"
    assert (await answer(head % b"0005")).body == b"hello"
    for value in (b"5a", b"-5", b"+5", b"0x5", b"1" * 16, b"", b"5, 5"):
        assert (await answer(head % value)).status == 400, value
    twice = b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
    assert (await answer(twice)).status == 400


async def case_content_length_over_max_body_is_413_unread():
    r = await answer(
        b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", shutdown=False
    )
    assert r.status == 413 and r.headers.get("Connection") == "close"


async def case_unread_body_skipped_for_the_next_request():
    conn = client.connect()
    body = b"5\r\nhello\r\n3;ext\r\nabc\r\n0\r\n\r\n"
    conn.send(chunked(b"/ignore") + body + GET)
    conn.send(b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody" + GET)
    for expected in (b"ignored", b"hello", b"ignored", b"hello"):
        assert (await conn.response()).body == expected
    conn.shutdown()
    await conn.wait_closed()


async def case_expect_continue_unread_body_closes():
    # The client waits for 100 before sending its body; a handler that never reads it gets no
    # 100 sent, answers, and the connection closes (nobody knows what the client sends next).
    conn = client.connect()
    conn.send(
        b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )
    r = await conn.response(informational=True)
    assert r.status == 200 and r.body == b"ignored"
    assert await conn.read_all() == b""  # closed by the app, without our EOF
    await conn.wait_closed()


async def case_expect_other_than_continue_is_417():
    r = await answer(b"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: x\r\n\r\na")
    assert r.status == 417


if pytest is not None:
    test_case = inprocess.cases_test(globals())
