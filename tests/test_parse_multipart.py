"""ember.multipart, in-process through ember.testing: boundaries (quoted, longest, missing),
delimiters split across reads and across the parser's window, near-delimiters inside data,
preamble and epilogue, malformed parts, limits.

Every case runs on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import binascii

import ember
from ember.multipart import parts
from ember.testing import TestClient, multipart

app = ember.App()
WINDOW = 128  # small, so that parts and delimiters straddle the parser's buffer


@app.post("/upload")
async def upload(req):
    out = []
    async for part in parts(req, max_parts=4, max_field=100, window=WINDOW):
        if part.filename is None:
            data = (await part.text()).encode()
        else:
            data = b""
            async for chunk in part:
                # One buffer's worth at most: the window plus room for a delimiter (CRLF, "--",
                # the boundary) and 4 bytes.
                assert len(chunk) <= WINDOW + 4 + len(part.parser.delim), len(chunk)
                data += chunk
        out.append([part.name, part.filename, part.content_type, binascii.hexlify(data).decode()])
    return out


@app.post("/first")
async def first(req):
    # Reads the first part's name only: the rest of the body is skipped by the parser.
    async for part in parts(req, window=WINDOW):
        return {"name": part.name}
    return {"name": None}


client = TestClient(app)


def head(ctype, length=None, path=b"/upload"):
    framing = b"Transfer-Encoding: chunked" if length is None else b"Content-Length: %d" % length
    return b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n%s\r\n\r\n" % (
        path,
        ctype.encode(),
        framing,
    )


async def post(body, ctype, step=None, path=b"/upload"):
    conn = client.connect()
    conn.send(head(ctype, len(body), path) + body, step)
    conn.shutdown()
    r = await conn.response()
    await conn.wait_closed()
    return r


def parsed(r):
    assert r.status == 200, r
    return [(n, f, t, binascii.unhexlify(d)) for n, f, t, d in r.json()]


async def case_fields_and_files():
    body, ctype = multipart(
        [("title", "héllo"), ("file", ("a.bin", bytes(range(256)), "application/x-test"))]
    )
    assert parsed(await post(body, ctype)) == [
        ("title", None, "text/plain", "héllo".encode()),
        ("file", "a.bin", "application/x-test", bytes(range(256))),
    ]


async def case_split_at_every_arrival_size():
    data = b"x\r\n--ember-test-boundar" * 5 + b"\r\n--" + bytes(range(200))
    body, ctype = multipart([("a", "1"), ("f", ("f.bin", data)), ("b", "")])
    expected = [
        ("a", None, "text/plain", b"1"),
        ("f", "f.bin", "application/octet-stream", data),
        ("b", None, "text/plain", b""),
    ]
    for step in (1, 2, 3, 5, 13, 127, 128, 129, 200):
        assert parsed(await post(body, ctype, step)) == expected, step


async def case_delimiter_across_the_window_edge():
    # The delimiter starts at every offset around the window's end.
    for n in range(WINDOW - 12, WINDOW + 12):
        data = bytes((48 + i % 10) for i in range(n))
        body, ctype = multipart([("f", ("f", data)), ("g", "z")])
        got = parsed(await post(body, ctype))
        assert got[0][3] == data and got[1][3] == b"z", n


async def case_boundary_forms():
    body = b'--a;b "c"\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--a;b "c"--\r\n'
    r = await post(body, 'multipart/form-data; boundary="a;b \\"c\\""')
    assert parsed(r) == [("x", None, "text/plain", b"1")]
    b70 = "b" * 70
    body, ctype = multipart([("x", "1")], boundary=b70)
    assert (
        parsed(await post(body, "multipart/form-data; charset=utf-8; BOUNDARY=" + b70))[0][3]
        == b"1"
    )
    body, ctype = multipart([("x", "1")], boundary=b70 + "b")
    assert (await post(body, ctype)).status == 400  # 71 characters: longer than RFC 2046 allows


async def case_not_multipart_or_no_boundary():
    body, ctype = multipart([("x", "1")])
    assert (await post(body, "text/plain")).status == 415
    assert (await post(body, "multipart/mixed; boundary=ember-test-boundary")).status == 415
    assert (await post(body, "multipart/form-data")).status == 400
    assert (await post(body, "multipart/form-data; boundary=")).status == 400
    assert (await post(body, 'multipart/form-data; boundary=""')).status == 400
    conn = client.connect()
    conn.send(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    conn.shutdown()
    assert (await conn.response()).status == 415  # no Content-Type at all
    await conn.wait_closed()


async def case_preamble_and_epilogue_ignored():
    body, ctype = multipart([("x", "1")])
    body = b"preamble --ember-test-boundary without CRLF\r\n" + body + b"epilogue\r\n--x--\r\n"
    assert parsed(await post(body, ctype)) == [("x", None, "text/plain", b"1")]


async def case_malformed_bodies_are_400():
    b = b"--ember-test-boundary"
    disp = b'Content-Disposition: form-data; name="x"'
    ctype = "multipart/form-data; boundary=ember-test-boundary"
    bad = [
        b"no delimiter at all",
        b + b"\r\n" + disp + b"\r\n\r\nunterminated",  # no closing delimiter
        b + b"xx\r\n" + disp + b"\r\n\r\n1\r\n" + b + b"--\r\n",  # delimiter followed by junk
        b + b"\r\nContent-Type: text/plain\r\n\r\n1\r\n" + b + b"--\r\n",  # no disposition
        b + b'\r\nContent-Disposition: attachment; name="x"\r\n\r\n1\r\n' + b + b"--\r\n",
        b + b"\r\nno colon here\r\n\r\n1\r\n" + b + b"--\r\n",
        b + b"\r\nX-Long: " + b"h" * 300 + b"\r\n" + disp + b"\r\n\r\n1\r\n" + b + b"--\r\n",
        b + b"\r\n" + disp + b"\r\n",  # ends inside the part's headers
        b + b"\r\n" + disp + b"\r\n\r\n\xff\xfe\r\n" + b + b"--\r\n",  # a field that is not UTF-8
    ]
    for body in bad:
        r = await post(body, ctype)
        assert r.status == 400 and r.headers.get("Connection") == "close", (body, r)


async def case_limits_are_413():
    body, ctype = multipart([("f%d" % i, "v") for i in range(5)])
    assert (await post(body, ctype)).status == 413  # max_parts=4
    body, ctype = multipart([("x", "v" * 101)])
    assert (await post(body, ctype)).status == 413  # max_field=100
    body, ctype = multipart([("x", "v" * 100)])
    assert parsed(await post(body, ctype))[0][3] == b"v" * 100


async def case_chunked_request_body():
    body, ctype = multipart([("x", "1"), ("f", ("f", b"\r\n" * 40))])
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 7]), body[i : i + 7]) for i in range(0, len(body), 7)
    )
    conn = client.connect()
    conn.send(head(ctype) + chunks + b"0\r\n\r\n", 5)
    conn.shutdown()
    r = await conn.response()
    await conn.wait_closed()
    assert parsed(r) == [
        ("x", None, "text/plain", b"1"),
        ("f", "f", "application/octet-stream", b"\r\n" * 40),
    ]


async def case_unread_parts_skipped():
    body, ctype = multipart([("first", "1"), ("f", ("f", b"y" * 500))])
    conn = client.connect()
    conn.send(head(ctype, len(body), b"/first") + body + b"GET /none HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.shutdown()
    assert (await conn.response()).json() == {"name": "first"}
    assert (await conn.response()).status == 404  # the next request, after the skipped body
    await conn.wait_closed()


if pytest is not None:
    test_case = inprocess.cases_test(globals())
