"""What bench/fuzz.py found, each as a regression test (in-process through ember.testing).

1. Header bytes that are not UTF-8 made decoding raise, so a client could get a 500 (and a
   traceback in the log) from `req.headers`, `req.cookies`, `req.content_type`, CORS (Origin,
   Access-Control-Request-*), a multipart boundary, SSE's Last-Event-ID, a WebSocket
   subprotocol, If-Range. Header text is now UTF-8, else Latin-1 (RFC 9110's obs-text); a
   multipart boundary that is not ASCII is a 400.
2. A client that reset the connection while a handler was reading its body, or before a 101,
   an event stream's head or a 100 Continue went out, made the handler fail with OSError: a
   traceback and a 500 (through the app's 500 handler) for a client that had gone. Now a reset
   ends the body as EOF does ("body ended early"), and with_websocket / with_sse end quietly.

The resets are timed with a gate: a before-request hook holds `/gated/...` requests until the
test has reset the connection, so the handler's first I/O meets a dead connection.

Every case runs on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import asyncio

import ember
from ember.cors import CORS
from ember.multipart import parts
from ember.sse import with_sse
from ember.static import send_file
from ember.testing import TestClient
from ember.websocket import with_websocket

app = ember.App()
CORS(app, origins=["http://a.example"], headers="*")
client = TestClient(app)
state = {"500": 0, "gate": None, "held": False}


@app.errorhandler(500)
def counted(req, exc):
    state["500"] += 1
    return "failed", 500


@app.before_request
async def gate(req):
    if req.path.startswith("/gated/"):
        state["held"] = True
        await state["gate"].wait()


@app.get("/h")
def headers(req):
    return {
        "latin": req.headers.get("X-Latin"),
        "items": [v for k, v in req.headers.items() if k == "x-latin"],
        "cookies": req.cookies,
        "type": req.content_type,
    }


@app.route("/gated/body", methods=("POST",))
async def body(req):
    return await req.body()


@app.post("/gated/stream")
async def stream(req):
    n = 0
    async for chunk in req.stream():
        n += len(chunk)
    return {"n": n}


@app.route("/gated/upload", methods=("POST",))
@app.route("/upload", methods=("POST",))
async def upload(req):
    names = []
    async for part in parts(req):
        names.append(part.name)
    return names


@app.get("/file")
def file(req):
    return send_file(__file__, req)


@app.get("/events")
@app.get("/gated/events")
@with_sse
async def events(req, sse):
    await sse.send(sse.last_event_id or "")


@app.get("/ws")
@app.get("/gated/ws")
@with_websocket(protocols=("chat",))
async def subprotocol(req, ws):
    await ws.send(str(ws.protocol))


async def answer(data):
    conn = client.connect()
    conn.send(data)
    conn.shutdown()
    r = await conn.response()
    await conn.wait_closed()
    return r


# -- 1. header bytes that are not UTF-8 ---------------------------------------------------------


async def case_header_values_not_utf8_read_as_latin1():
    r = await answer(
        b"GET /h HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\nCookie: n=\xe9t\xe9; \xff=1\r\n"
        b"Content-Type: text/\xff\r\n\r\n"
    )
    assert r.status == 200, r
    assert r.json() == {
        "latin": "café",
        "items": ["café"],
        "cookies": {"n": "été", "\xff": "1"},
        "type": "text/\xff",
    }


async def case_cors_origin_not_utf8():
    r = await answer(b"GET /h HTTP/1.1\r\nHost: x\r\nOrigin: http://a.ex\xe0mple\r\n\r\n")
    assert r.status == 200 and "Access-Control-Allow-Origin" not in r.headers  # not allowed
    pre = b"OPTIONS /h HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n"
    r = await answer(pre + b"Access-Control-Request-Method: G\xc9T\r\n\r\n")
    assert "Access-Control-Allow-Origin" not in r.headers and r.status < 300
    r = await answer(
        pre
        + b"Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: X-\xe9\r\n\r\n"
    )
    assert r.status == 204 and r.headers["Access-Control-Allow-Headers"] == "X-é"


async def case_multipart_boundary_not_ascii_is_400():
    body = b'--b\xe9\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\xe9--\r\n'
    r = await answer(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
        b"Content-Type: multipart/form-data; boundary=b\xe9\r\n\r\n%s" % (len(body), body)
    )
    assert (r.status, r.text) == (400, "multipart boundary missing or invalid")


async def case_last_event_id_not_utf8():
    conn = client.connect()
    conn.send(b"GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: \xe91\r\n\r\n")
    r = await conn.response()
    assert r.status == 200 and b"data: \xc3\xa91\n" in r.body  # "é1", written back as UTF-8
    await conn.wait_closed()


async def case_websocket_subprotocol_not_utf8():
    ws = await client.websocket("/ws", [("Sec-WebSocket-Protocol", "x")])
    await ws.close()
    conn = client.connect()
    conn.send(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Protocol: \xff\xfe, chat\r\n\r\n"
    )
    r = await conn.response()
    assert r.status == 101 and r.headers["Sec-WebSocket-Protocol"] == "chat"
    conn.shutdown()
    await conn.wait_closed()


async def case_if_range_not_utf8():
    r = await answer(
        b'GET /file HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\nIf-Range: "\xff"\r\n\r\n'
    )
    assert r.status == 200 and r.body.startswith(b'"""What bench/fuzz.py found')


# -- 2. a reset while the handler is at work ----------------------------------------------------


async def reset_then_serve(request):
    """Send `request`, reset the connection while the gate holds the handler, then let it run:
    it must end without an exception escaping and without the app's 500 handler."""
    state["gate"] = asyncio.Event()
    state["held"] = False
    before = state["500"]
    conn = client.connect()
    conn.send(request)
    while not state["held"]:
        await asyncio.sleep(0)
    conn.abort()
    state["gate"].set()
    await conn.wait_closed()
    assert state["500"] == before, "a reset became a 500: %r" % request


async def case_reset_while_reading_a_body():
    await reset_then_serve(b"POST /gated/body HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    chunked = b"POST /gated/%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    await reset_then_serve(chunked % b"body" + b"5\r\nab")
    await reset_then_serve(chunked % b"stream" + b"5\r\nabcde\r\n")
    await reset_then_serve(
        b"POST /gated/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n"
    )


async def case_reset_before_100_continue():
    await reset_then_serve(
        b"POST /gated/body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    )


async def case_reset_before_the_101_or_the_event_stream_head():
    await reset_then_serve(
        b"GET /gated/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await reset_then_serve(b"GET /gated/events HTTP/1.1\r\nHost: x\r\n\r\n")


if pytest is not None:
    test_case = inprocess.cases_test(globals())
