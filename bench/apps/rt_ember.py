"""ember real-time endpoints for bench/realtime.py: WebSocket echo at /ws, an SSE stream at /sse
that sends 32-byte events as fast as the client takes them."""

import asyncio

import ember
from ember.sse import with_sse
from ember.websocket import with_websocket

app = ember.App(max_connections=16)
EVENT = "x" * 32


@app.get("/ws")
@with_websocket
async def ws(req, sock):
    async for msg in sock:
        await sock.send(msg)


@app.get("/sse")
@with_sse
async def sse(req, stream):
    while True:
        await stream.send(EVENT)
        await asyncio.sleep(0)  # a producer yields (microdot's send() only queues: see realtime.py)


def main(port):
    app.run("127.0.0.1", port)
