# A pre-built single-page app on ember: gzipped assets + a JSON API + SSE + WebSocket.
#
#   examples/spa/src/       the app's sources (hand-written here; the output of any JS build)
#   examples/spa/www/       what the device serves: only the .gz files (build_assets.py makes
#                           them); on a board, /www (ember-provision --www examples/spa/www)
#   python examples/spa/app.py   then open http://127.0.0.1:8080/
#
# ember.static sends `index.html.gz` for `/` and `app.js.gz` for `/app.js` with
# Content-Encoding: gzip (every browser accepts it): flash holds about half the bytes and the
# device never compresses anything.
import asyncio

import ember
from ember.sse import with_sse
from ember.websocket import with_websocket

# "www" is beside this file on the host; frozen into firmware, it is /www on the device, where
# `ember-provision --www examples/spa/www` writes it.
app = ember.App(__name__)
state = {"led": False, "clicks": 0}


@app.get("/api/state")
def get_state(req):
    return state


@app.post("/api/led")
async def set_led(req):
    body = await req.json()
    state["led"] = bool(body.get("on"))
    state["clicks"] += 1
    return state


@app.get("/events")
@with_sse(keepalive=15)
async def events(req, sse):
    n = int(sse.last_event_id or 0)
    while True:
        n += 1
        await sse.send(state, event="state", id=n)
        await asyncio.sleep(1)


@app.get("/ws")
@with_websocket(max_message=1024)
async def ws(req, sock):
    async for msg in sock:
        await sock.send("echo: " + msg if type(msg) is str else msg)


app.static("/", "www", max_age=600)  # last: the API routes above take precedence

if __name__ == "__main__":
    app.run("0.0.0.0", 8080)
