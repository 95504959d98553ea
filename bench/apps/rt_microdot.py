"""microdot real-time endpoints for bench/realtime.py: the same as rt_ember.py, with microdot's
own microdot.websocket and microdot.sse."""

import asyncio

from microdot import Microdot
from microdot.sse import with_sse
from microdot.websocket import with_websocket

app = Microdot()
EVENT = "x" * 32


@app.route("/ws")
@with_websocket
async def ws(request, sock):
    while True:
        await sock.send(await sock.receive())


@app.route("/sse")
@with_sse
async def sse(request, stream):
    while True:
        await stream.send(EVENT)
        await asyncio.sleep(0)  # a producer yields (microdot's send() only queues: see realtime.py)


def main(port):
    app.run("127.0.0.1", port)
