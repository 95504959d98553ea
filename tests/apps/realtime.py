# SSE and WebSocket endpoints for tests/test_sse.py and tests/test_websocket.py; every runtime.
import asyncio

import ember
from ember.sse import open as open_event_stream
from ember.sse import with_sse
from ember.websocket import ConnectionClosed, accept, with_websocket

# Short timeouts: an idle WebSocket or a quiet event stream must outlive them (no deadline applies).
app = ember.App(debug=True, idle_timeout=1, io_timeout=1)
stats = {"sse_open": 0, "sse_closed": 0, "ws_open": 0, "ws_closed": 0}


@app.get("/stats")
def get_stats(req):
    return stats


# -- Server-Sent Events --------------------------------------------------------------------------


@app.get("/sse/ticks")
@with_sse(retry=1500)
async def ticks(req, sse):
    n = int(req.args.get("n", "3"))
    for i in range(1, n + 1):
        await sse.send({"i": i}, event="tick", id=i)
    await sse.send("line one\nline two\r\nline three", event="multi")
    await sse.send(b"raw bytes")
    await sse.comment("just a comment")
    await sse.send("done", event="end")


@app.get("/sse/resume")
@with_sse
async def resume(req, sse):
    start = int(sse.last_event_id or 0)
    for i in range(start + 1, start + 4):
        await sse.send(str(i), id=i)


@app.get("/sse/forever")
@with_sse
async def forever(req, sse):
    stats["sse_open"] += 1
    try:
        i = 0
        while True:
            i += 1
            await sse.send(str(i), id=i)
            await asyncio.sleep(0.02)
    finally:
        stats["sse_closed"] += 1


@app.get("/sse/quiet")
@with_sse(keepalive=0.1)
async def quiet(req, sse):
    # One event, then waits far longer than any test: only the keep-alives and the watcher run.
    stats["sse_open"] += 1
    try:
        await sse.send("hello")
        await asyncio.sleep(3600)
    finally:
        stats["sse_closed"] += 1


# -- WebSocket --------------------------------------------------------------------------------


@app.get("/ws/echo")
@with_websocket(max_message=1024)
async def echo(req, ws):
    stats["ws_open"] += 1
    try:
        async for msg in ws:
            await ws.send(msg)
    finally:
        stats["ws_closed"] += 1


@app.get("/ws/big")
@with_websocket(max_message=200000)
async def big(req, ws):
    async for msg in ws:
        await ws.send(msg)


@app.get("/ws/info")
@with_websocket(protocols=("chat", "superchat"))
async def info(req, ws):
    msg = await ws.receive()
    await ws.send("%s %s" % (ws.protocol, msg))
    await ws.ping(b"hi")
    msg = await ws.receive()  # the pong to our ping is consumed; this is the next message
    await ws.send("after ping: " + msg)


@app.get("/ws/close/<int:code>")
@with_websocket
async def close_with(req, ws, code):
    await ws.receive()
    await ws.close(code, "bye now")


@app.get("/ws/raise")
@with_websocket
async def raises(req, ws):
    await ws.receive()
    raise RuntimeError("handler bug")


@app.get("/ws/manual")
async def manual(req):
    ws = await accept(req)
    try:
        while True:
            msg = await ws.receive()
            await ws.send(msg.upper() if type(msg) is str else msg)
    except ConnectionClosed as e:
        stats["ws_closed"] += 1
        print("manual closed", e.code)
    finally:
        await ws.close()


@app.get("/ws/ping")
@with_websocket(ping_interval=0.3)
async def pinged(req, ws):
    stats["ws_open"] += 1
    try:
        async for msg in ws:
            await ws.send(msg)
    finally:
        stats["ws_closed"] += 1


# -- handlers that take the connection over and return without closing it ------------------------


@app.get("/ws/abandoned")
async def abandoned_websocket(req):
    await accept(req, ping_interval=0.5)  # the server ends it: its pinger must not outlive it


@app.get("/sse/abandoned")
async def abandoned_event_stream(req):
    await open_event_stream(req, keepalive=0.1)  # likewise its keep-alive and its watcher
