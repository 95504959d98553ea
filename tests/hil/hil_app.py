"""The app the HIL suite serves: examples/demo.py's routes, plus a WebSocket echo, an SSE stream
and a streamed upload under /hil/.

The plugin writes it onto the device's filesystem in place of the release's frozen demo app
(`--hil-app tests/hil/hil_app.py`: compiled with mpy-cross into the file /demo.mpy, which the
import finds before the frozen module), so the release firmware itself is what the suite tests.
Runs on CPython as well: `PYTHONPATH=modules python tests/hil/hil_app.py`.
"""

import binascii
import hashlib

import ember
from ember.sse import with_sse
from ember.websocket import with_websocket

__version__ = "hil"  # the status endpoint's "app": the suite knows its routes are here

# A small max_body so the limits test needs no large request; uploads stream past it.
app = ember.App(max_body=2048)
state = {"led": False, "name": "ember-demo"}


@app.get("/")
def index(req):
    return "Hello from ember!\n"


@app.get("/api/state")
def get_state(req):
    return state


@app.put("/api/state")
async def put_state(req):
    update = await req.json()
    for key in ("led", "name"):
        if key in update:
            state[key] = update[key]
    return state


@app.get("/api/hello/<name>")
def hello(req, name):
    return {"hello": name, "lang": req.args.get("lang", "en")}


@app.get("/hil/echo")
@with_websocket(max_message=4096)
async def echo(req, ws):
    async for msg in ws:
        await ws.send(msg)


@app.get("/hil/events")
@with_sse(retry=1000)
async def events(req, sse):
    n = int(req.args.get("n", "3"))
    for i in range(1, n + 1):
        await sse.send({"i": i}, event="tick", id=i)


@app.post("/hil/upload")
async def upload(req):
    """The body streamed through SHA-256 in small chunks, never held whole (1 MB on a board)."""
    digest = hashlib.sha256()
    size = 0
    async for chunk in req.stream():
        digest.update(chunk)
        size += len(chunk)
    return {"size": size, "sha256": binascii.hexlify(digest.digest()).decode()}


if __name__ == "__main__":
    app.run("0.0.0.0", 8080)
