"""ember.websocket's frame parser, in-process through ember.testing: unmasking at every length
and length form, frames split across reads, fragments, strict UTF-8 (also split across
fragments), control frames, close codes, size limits, the handshake.

Every case runs on CPython, MicroPython unix and webassembly (tests/inprocess.py)."""

try:
    import pytest
except ImportError:  # MicroPython: tests/run_cases.py runs the cases
    pytest = None
else:
    import inprocess  # puts modules/ on sys.path, for `import ember` below

    pytestmark = pytest.mark.integration

import ember
from ember.testing import HandshakeError, TestClient, WebSocketClosed
from ember.websocket import with_websocket

app = ember.App()
client = TestClient(app)


async def _echo(req, ws):
    async for msg in ws:
        await ws.send(msg)


app.get("/echo")(with_websocket(_echo, max_message=70000))
app.get("/small")(with_websocket(_echo, max_message=100))


@app.get("/proto")
@with_websocket(protocols=("chat", "superchat"))
async def proto(req, ws):
    await ws.send(str(ws.protocol))


@app.get("/bye")
@with_websocket
async def bye(req, ws):
    await ws.close(4001, "bye")


def pattern(n):
    return bytes((i * 31 + n) & 255 for i in range(n))


async def refused(code, *frames, path="/echo"):
    """Send `frames` (send_frame keyword dicts, or raw bytes); the app must close with `code`,
    then end the connection."""
    ws = await client.websocket(path)
    for f in frames:
        if type(f) is bytes:
            ws.conn.send(f)
        else:
            await ws.send_frame(**f)
    e = await closed_by_app(ws)
    assert e.code == code, (frames, e.code, e.reason)


async def closed_by_app(ws):
    """The WebSocketClosed the app's close frame raises; then the connection must end."""
    try:
        msg = await ws.receive()
    except WebSocketClosed as e:
        await ws.wait_closed()
        return e
    raise AssertionError("not closed: got %r" % msg)


async def case_unmask_every_length():
    ws = await client.websocket("/echo")
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 9, 125, 126, 127, 255, 256, 257, 511, 512, 513, 1000):
        await ws.send(pattern(n))
        assert await ws.receive() == pattern(n), n
    for n in (65535, 65536, 65537):  # the 16-bit length form's end, and the 64-bit form
        await ws.send(pattern(n))
        assert await ws.receive() == pattern(n), n
    for mask in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x01\x02\x03\x04"):
        await ws.send_frame(2, pattern(300), mask=mask)
        assert await ws.receive() == pattern(300)
    assert await ws.close() == 1000


async def case_longer_length_forms_than_needed():
    ws = await client.websocket("/echo")
    await ws.send_frame(1, "short", form=126)
    assert await ws.receive() == "short"
    await ws.send_frame(2, b"\x00", form=127)
    assert await ws.receive() == b"\x00"
    await ws.close()


async def case_frames_split_across_reads():
    ws = await client.websocket("/echo")
    for step in (1, 2, 3, 5, 11):
        await ws.send_frame(2, pattern(300), step=step)
        assert await ws.receive() == pattern(300), step
        await ws.send_frame(1, "é" * 70, form=127, step=step)
        assert await ws.receive() == "é" * 70, step
    await ws.close()


async def case_fragments_with_a_ping_between():
    ws = await client.websocket("/echo")
    await ws.send_frame(1, "Hel", fin=False)
    await ws.send_frame(9, b"are you there")
    await ws.send_frame(0, "lo ", fin=False)
    await ws.send_frame(0, b"", fin=False)
    await ws.send_frame(0, "world")
    assert await ws.receive_frame() == (10, True, b"are you there")  # pong, mid-message
    assert await ws.receive_frame() == (1, True, b"Hello world")
    await ws.send_frame(10, b"unsolicited")  # a pong nobody asked for is ignored
    await ws.send_frame(9, b"x" * 125)  # the largest control frame
    assert await ws.receive_frame() == (10, True, b"x" * 125)
    await ws.close()


async def case_utf8_valid_edges_and_split_characters():
    ws = await client.websocket("/echo")
    edges = "\x7f \x80 \u07ff \u0800 \ud7ff \ue000 \uffff \U00010000 \U0010ffff"
    await ws.send(edges)
    assert await ws.receive() == edges
    for text, cut in (("€", 1), ("€", 2), ("𝄞", 1), ("𝄞", 3), ("a𝄞b", 2)):
        data = text.encode()
        await ws.send_frame(1, data[:cut], fin=False)
        await ws.send_frame(0, data[cut:])
        assert await ws.receive() == text, (text, cut)
    await ws.close()


async def case_invalid_utf8_is_1007():
    for data in (
        b"\xc0\x80",  # overlong NUL
        b"\xe0\x80\xaf",  # overlong /
        b"\xed\xa0\x80",  # a UTF-16 surrogate
        b"\xf4\x90\x80\x80",  # above U+10FFFF
        b"\xe2\x82",  # truncated
        b"ok \x80",  # a lone continuation byte
        b"\xff",
        b"\xc3\x28",  # a lead byte without its continuation
    ):
        await refused(1007, {"opcode": 1, "payload": data})
    # Invalid only once both fragments are joined: a truncated character at the message's end.
    await refused(1007, {"opcode": 1, "payload": b"\xf0\x9d", "fin": False}, {"opcode": 0})
    # A close frame's reason is checked too.
    await refused(1007, {"opcode": 8, "payload": b"\x03\xe8\xed\xa0\x80"})


async def case_protocol_errors_are_1002():
    await refused(1002, {"opcode": 1, "payload": "x", "mask": False})
    for rsv in (1, 2, 4):
        await refused(1002, {"opcode": 1, "payload": "x", "rsv": rsv})
    for opcode in (3, 7, 11, 15):
        await refused(1002, {"opcode": opcode, "payload": "x"})
    await refused(1002, {"opcode": 9, "payload": "x", "fin": False})  # fragmented control frame
    await refused(1002, {"opcode": 9, "payload": b"x" * 126})  # control payload over 125
    await refused(1002, {"opcode": 0, "payload": "x"})  # continuation of nothing
    await refused(1002, {"opcode": 1, "payload": "a", "fin": False}, {"opcode": 1, "payload": "b"})
    await refused(1002, {"opcode": 8, "payload": b"\x03"})  # a close payload of one byte
    for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535):
        await refused(1002, {"opcode": 8, "payload": bytes((code >> 8, code & 255))})
    # A 64-bit length with its top bit set (RFC 6455 §5.2), masked, no payload.
    await refused(1002, b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00abcd")


async def case_message_too_big_is_1009():
    ws = await client.websocket("/small")
    await ws.send("x" * 100)  # exactly max_message
    assert await ws.receive() == "x" * 100
    await ws.close()
    await refused(1009, {"opcode": 2, "payload": b"x" * 101}, path="/small")
    two_halves = (
        {"opcode": 1, "payload": "x" * 60, "fin": False},
        {"opcode": 0, "payload": "y" * 41},
    )
    await refused(1009, *two_halves, path="/small")


async def case_close_handshakes():
    ws = await client.websocket("/echo")
    assert await ws.close(3000, "done here") == 3000  # the app echoes the code
    ws = await client.websocket("/echo")
    await ws.send_frame(8, b"")  # no code: the app answers 1000
    assert (await closed_by_app(ws)).code == 1000
    ws = await client.websocket("/bye")
    e = await closed_by_app(ws)
    assert (e.code, e.reason) == (4001, "bye") and ws.close_code == 4001


async def case_handshake_checks():
    ws_headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13"}
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    r = await client.get("/echo", dict(ws_headers, **{"Sec-WebSocket-Key": key}))
    assert r.status == 101  # what client.websocket() sends, by hand
    r = await client.get("/echo")
    assert (r.status, r.text) == (400, "not a WebSocket handshake")
    r = await client.get("/echo", dict(ws_headers, **{"Sec-WebSocket-Version": "12"}))
    assert r.status == 426 and r.headers["Sec-WebSocket-Version"] == "13"
    for bad in ("", "short", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBs*SBub25jZQ=="):
        r = await client.get("/echo", dict(ws_headers, **{"Sec-WebSocket-Key": bad}))
        assert r.status == 400, bad
    r = await client.get("/echo", {"Connection": "Upgrade", "Sec-WebSocket-Key": key})
    assert r.status == 400  # no Upgrade field
    conn = client.connect()
    conn.send(
        b"GET /echo HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % key.encode()
    )
    assert (await conn.response()).status == 400  # HTTP/1.0 cannot upgrade
    await conn.wait_closed()


async def case_subprotocols():
    ws = await client.websocket("/proto", protocols=["x", "superchat", "chat"])
    assert ws.protocol == "superchat" and await ws.receive() == "superchat"
    await ws.close()
    ws = await client.websocket("/proto", protocols=["x"])
    assert ws.protocol is None and await ws.receive() == "None"
    await ws.close()
    try:
        await client.websocket("/nowhere")
    except HandshakeError as e:
        assert e.response.status == 404
    else:
        raise AssertionError("no HandshakeError")


if pytest is not None:
    test_case = inprocess.cases_test(globals())
