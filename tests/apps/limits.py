# Small limits and short timeouts, so each limit can be hit quickly.
import asyncio

import ember

app = ember.App(
    max_connections=8,
    backlog=64,
    max_head=512,
    max_request_line=256,
    max_header_line=128,
    max_headers=10,
    max_body=1024,
    header_timeout=1,
    idle_timeout=1,
    io_timeout=2,
)
load = {"now": 0, "peak": 0}


@app.get("/")
def index(req):
    return "ok"


@app.post("/upload")
async def upload(req):
    return {"len": len(await req.body())}


@app.post("/stream")
async def stream(req):
    n = 0
    async for chunk in req.stream():  # not capped by max_body
        n += len(chunk)
    return {"len": n}


@app.get("/slow")
async def slow(req):
    load["now"] += 1
    if load["now"] > load["peak"]:
        load["peak"] = load["now"]
    await asyncio.sleep(0.05)
    load["now"] -= 1
    return "done"


@app.get("/peak")
def peak(req):
    busy = sum(1 for conn in app.server.slots if not conn.idle)
    return {"peak": load["peak"], "conns": busy}
